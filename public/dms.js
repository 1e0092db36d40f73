// Direct messages in the web UI: the list of your direct messages on the landing page
// (with unread counts), a "Message" button beside each person in a room, the room's
// title ("@Bo" rather than its id), and "Seen" under your last message the other name
// has read. Only claimed names have direct messages: the token comes from names.js.

import { tokenFor } from './names.js';

const LABELS_KEY = 'edgechat.dm-labels'; // room id -> the other name, for the title
let app = null;

export const isDmRoom = (room) => String(room).startsWith('dm--');

function labels() {
  try { return JSON.parse(localStorage.getItem(LABELS_KEY)) || {}; } catch { return {}; }
}

function remember(room, withName) {
  const all = labels();
  all[room] = withName;
  try { localStorage.setItem(LABELS_KEY, JSON.stringify(all)); } catch { /* private mode: titles fall back */ }
}

/** How a room is titled: `@Bo` for a direct message, else its id. */
export function roomLabel(room) {
  if (!isDmRoom(room)) return room;
  return `@${labels()[room] || 'direct message'}`;
}

/** deps: { state, el, h, key, myName, toast, navigate, relativeTime } */
export function initDms(deps) {
  app = deps;
}

/** Fills the landing page's list of direct messages for `name` (hidden without any). */
export async function loadDms(name) {
  const { el, h } = app;
  const token = name && tokenFor(name);
  if (!token) { el.dmsSection.hidden = true; return; }
  try {
    const response = await fetch(`/api/dms?${new URLSearchParams({ name, token })}`);
    if (!response.ok) { el.dmsSection.hidden = true; return; }
    const { dms = [] } = await response.json();
    el.dmsList.replaceChildren(...dms.map((dm) => {
      remember(dm.room, dm.with);
      return h('li', { 'data-room': dm.room, 'data-with': dm.with },
        h('button', { type: 'button', class: 'room-button', onclick: () => app.navigate(dm.room) },
          h('span', { class: 'room-name dm-name', text: `@${dm.with}` }),
          h('span', { class: 'room-meta', text: dm.last_activity ? app.relativeTime(dm.last_activity) : 'new' }),
          dm.unread > 0 ? h('span', {
            class: 'unread-badge', text: dm.unread > 99 ? '99+' : String(dm.unread), 'aria-label': `${dm.unread} unread`,
          }) : null));
    }));
    el.dmsSection.hidden = dms.length === 0;
  } catch {
    el.dmsSection.hidden = true;
  }
}

/** Whether this page can start direct messages (its name is claimed here). */
export const canMessage = () => Boolean(tokenFor(app.myName()));

/** Opens the direct messages with `withName` (made on first use) and goes there. */
export async function messageUser(withName) {
  const name = app.myName();
  const token = tokenFor(name);
  if (!token) return app.toast('Direct messages need a claimed name: rejoin once to claim yours.');
  try {
    const response = await fetch('/api/dms', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, token, with: withName }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return app.toast(body.error?.message || `Could not open direct messages (HTTP ${response.status}).`);
    remember(body.room, body.with);
    app.navigate(body.room);
  } catch {
    app.toast('Could not reach the server to open direct messages.');
  }
}

/** Marks "Seen" under your newest message the other name has read (direct messages only). */
export function renderSeen() {
  const { state, el, h, key, myName } = app;
  for (const old of el.messages.querySelectorAll('.seen-mark')) old.remove();
  if (!isDmRoom(state.room) || !state.peerReadSeq) return;
  const me = key(myName());
  let seen = null;
  for (const [seq, { message, el: node }] of state.messages) {
    if (seq <= state.peerReadSeq && key(message.name) === me && (!seen || seq > seen.seq)) seen = { seq, node };
  }
  seen?.node.querySelector('.message-meta')?.append(' ', h('span', { class: 'seen-mark', text: 'Seen' }));
}
