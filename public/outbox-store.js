// The offline outbox's storage: each message sent and not yet acknowledged is kept in
// IndexedDB (database `edgechat-outbox`, store `entries`, keyed by client_id, indexed by
// room) until its ack, its dismissal, or a permanent refusal, so that a reload or a tab
// closed while offline loses nothing; the next load shows the room's entries as "waiting to
// send" and sends them with their client_id (outbox.js). The rules are outbox-queue.js's.
//
// Two tabs never both send one entry: each tab holds a Web Lock named after its id for its
// whole life, each entry names its tab, and a tab takes only its own entries and those of
// tabs whose lock is free (gone), under one more lock so that two tabs cannot take the same
// one at once. The id lives in sessionStorage, so a reload is the same tab. Without
// IndexedDB (storage off) the outbox is only in memory, as before it existed; without Web
// Locks a tab takes every entry and the server's client_id dedupe keeps the message single.

import { adoptable } from './outbox-queue.js';
import { newClientId } from './session.js';

const DB_NAME = 'edgechat-outbox';
const STORE = 'entries';
const TAB_KEY = 'edgechat.tab';
const TAB_LOCK = 'edgechat-tab:';
const ADOPT_LOCK = 'edgechat-outbox';

/** This tab's id: kept across reloads of the tab, new in a new tab. */
export const TAB = (() => {
  try {
    const kept = sessionStorage.getItem(TAB_KEY);
    if (kept) return kept;
    const id = newClientId();
    sessionStorage.setItem(TAB_KEY, id);
    return id;
  } catch { return newClientId(); }
})();

// Held until the tab goes: while it is held, other tabs leave this tab's entries alone.
navigator.locks?.request(`${TAB_LOCK}${TAB}`, () => new Promise(() => {})).catch(() => {});

let dbPromise = null;
function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(STORE, { keyPath: 'clientId' });
      store.createIndex('room', 'room');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return dbPromise;
}

/** Runs `work(store)` in a transaction; resolves with what its last request gave. */
async function inStore(mode, work) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    let result;
    const request = work(tx.objectStore(STORE));
    if (request) request.onsuccess = () => { result = request.result; };
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

// Writes run one after the other, in the order they were asked for: a message's delete
// (its ack) can never overtake its put.
let chain = Promise.resolve();
function queued(op) {
  const run = chain.then(op).catch(() => undefined); // storage off or full: memory only
  chain = run;
  return run;
}

/** Keeps an entry (outbox-queue.js `entryFor`). */
export const save = (entry) => queued(() => inStore('readwrite', (store) => store.put(entry)));

/** Forgets one entry (acknowledged, dismissed, a repeat). */
export const remove = (clientId) => queued(() => inStore('readwrite', (store) => store.delete(clientId)));

/** Forgets every entry of a room (a permanent refusal, a removal from the room). */
export const clearRoom = (room) => queued(() => inStore('readwrite', (store) => {
  const cursor = store.index('room').openKeyCursor(IDBKeyRange.only(room));
  cursor.onsuccess = () => {
    if (!cursor.result) return;
    store.delete(cursor.result.primaryKey);
    cursor.result.continue();
  };
}));

/** The names of the tabs alive now (their locks are held), or null without Web Locks. */
async function liveTabs() {
  if (!navigator.locks?.query) return null;
  const { held = [] } = await navigator.locks.query();
  return new Set(held.map((l) => l.name).filter((n) => n.startsWith(TAB_LOCK)).map((n) => n.slice(TAB_LOCK.length)));
}

/** Takes the room's entries this tab is to send (its own and those of gone tabs, of the
 *  name `nameKey`), marks them as this tab's, and returns them oldest first. */
export function adopt(room, nameKey) {
  const take = async () => {
    const live = (await liveTabs()) ?? new Set();
    const values = await inStore('readonly', (store) => store.index('room').getAll(IDBKeyRange.only(room)));
    const { take: mine, drop } = adoptable(values ?? [], { nameKey, tab: TAB, liveTabs: live });
    await inStore('readwrite', (store) => {
      for (const entry of mine) if (entry.tab !== TAB) store.put({ ...entry, tab: TAB });
      for (const bad of drop) try { store.delete(bad.clientId); } catch { /* not a key: leave it */ }
    });
    return mine;
  };
  return queued(() => (navigator.locks?.request ? navigator.locks.request(ADOPT_LOCK, take) : take()))
    .then((entries) => entries ?? []);
}
