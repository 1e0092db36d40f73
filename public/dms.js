// Direct messages in the web UI: the list of your direct messages on the landing page
// (with unread counts), a "Message" button beside each person in a room, the room's
// title ("@Bo" rather than its id), and "Seen" under your last message the other name
// has read, and "Leave" (DELETE /api/dms/:room: the conversation leaves your list until
// it is opened again). Only claimed names have direct messages; every call carries the
// name's token as `Authorization: Bearer` (names.js), never in its URL.

import { tokenFor, authHeaders } from './names.js';

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

/** deps: { state, el, h, key, myName, toast, navigate, relativeTime, onLeftDm } */
export function initDms(deps) {
  app = deps;
}

/** Fills the landing page's list of direct messages for `name` (hidden without any). */
export async function loadDms(name) {
  const { el, h } = app;
  const token = name && tokenFor(name);
  if (!token) { el.dmsSection.hidden = true; return; }
  try {
    const response = await fetch('/api/dms', { headers: authHeaders(name, { accept: 'application/json' }) });
    if (!response.ok) { el.dmsSection.hidden = true; return; }
    const { dms = [] } = await response.json();
    el.dmsList.replaceChildren(...dms.map((dm) => {
      remember(dm.room, dm.with);
      return h('li', { 'data-room': dm.room, 'data-with': dm.with, class: 'dm-item' },
        h('button', { type: 'button', class: 'room-button', onclick: () => app.navigate(dm.room) },
          h('span', { class: 'room-name dm-name', text: `@${dm.with}` }),
          h('span', { class: 'room-meta', text: dm.last_activity ? app.relativeTime(dm.last_activity) : 'new' }),
          dm.unread > 0 ? h('span', {
            class: 'unread-badge', text: dm.unread > 99 ? '99+' : String(dm.unread), 'aria-label': `${dm.unread} unread`,
          }) : null),
        h('button', {
          type: 'button', class: 'ghost icon dm-leave', text: '×', title: 'Leave this conversation',
          'aria-label': `Leave the direct messages with ${dm.with}`, onclick: () => leaveDm(dm.room, name),
        }));
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
      method: 'POST', headers: authHeaders(name, { 'content-type': 'application/json' }),
      body: JSON.stringify({ with: withName }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return app.toast(body.error?.message || `Could not open direct messages (HTTP ${response.status}).`);
    remember(body.room, body.with);
    app.navigate(body.room);
  } catch {
    app.toast('Could not reach the server to open direct messages.');
  }
}

/**
 * Leaves a direct message: it leaves your list (and the rail) until it is opened again,
 * from either side. `name` is whose list it is. Resolves with whether the server agreed.
 */
export async function leaveDm(room, name = app.myName()) {
  if (!tokenFor(name)) { app.toast('Direct messages need a claimed name.'); return false; }
  try {
    const response = await fetch(`/api/dms/${encodeURIComponent(room)}`, {
      method: 'DELETE', headers: authHeaders(name, { accept: 'application/json' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      app.toast(body.error?.message || `Could not leave the conversation (HTTP ${response.status}).`);
      return false;
    }
  } catch {
    app.toast('Could not reach the server to leave the conversation.');
    return false;
  }
  const label = roomLabel(room);
  app.el.dmsList.querySelector(`li[data-room="${CSS.escape(room)}"]`)?.remove();
  app.el.dmsSection.hidden = app.el.dmsList.children.length === 0;
  app.onLeftDm(room);
  app.toast(`You left ${label}. It stays off your list until one of you opens it again.`, 'info');
  return true;
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
