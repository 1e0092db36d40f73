// The offline outbox's rules, without I/O (outbox-store.js keeps the entries in IndexedDB,
// outbox.js shows and sends them). An entry is one message sent and not yet acknowledged:
// its room, the name it was sent as (folded), its client_id, text, reply_to, the id of an
// attachment already uploaded, when it was made (`at`, which orders it) and the tab that
// owns it (the one that sends it). Node tests these (tests/unit/outbox-queue.test.mjs).

/** At most this many messages wait in one room; the next one is refused with a toast. */
export const MAX_WAITING_PER_ROOM = 100;

/** The stored entry of a pending message (session.js `newPending`). */
export function entryFor(pending, { room, nameKey, tab, at }) {
  return {
    clientId: pending.clientId, room, nameKey, tab, at,
    text: pending.text, replyTo: pending.replyTo ?? null, attachment: pending.attachment ?? null,
  };
}

/** A time for a new entry: now, but always after the last one this tab made, so that two
 *  messages sent within a millisecond keep their order. */
export const nextAt = (lastAt, now) => Math.max(now, lastAt + 1);

/** Oldest first; entries of one millisecond (two tabs) by client_id, so every tab agrees. */
export function ordered(entries) {
  return [...entries].sort((a, b) => a.at - b.at || (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
}

/** Whether a stored value looks like an entry (anything else in the store is dropped). */
export function isEntry(value) {
  return Boolean(value) && typeof value.clientId === 'string' && typeof value.room === 'string'
    && typeof value.nameKey === 'string' && typeof value.text === 'string' && Number.isFinite(value.at)
    && (value.replyTo === null || Number.isInteger(value.replyTo))
    && (value.attachment === null || typeof value.attachment === 'string');
}

/**
 * Which of a room's stored entries this tab takes, oldest first: those of the name it sends
 * as, owned by this tab or by a tab that is gone (its lock is not held any more), at most
 * MAX_WAITING_PER_ROOM. An entry of a live tab stays that tab's: two tabs never both send it
 * (the server's client_id dedupe is the last guard). Entries of other names wait for their
 * name (a client_id is unique per name only, so sending them as this name would not be safe).
 * Returns `{ take, drop }`: drop lists entries that are not entries at all.
 */
export function adoptable(values, { nameKey, tab, liveTabs }) {
  const drop = values.filter((v) => !isEntry(v));
  const take = ordered(values.filter((v) => isEntry(v) && v.nameKey === nameKey
    && (v.tab === tab || !liveTabs.has(v.tab)))).slice(0, MAX_WAITING_PER_ROOM);
  return { take, drop };
}
