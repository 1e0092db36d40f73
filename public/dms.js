// Direct messages in the web UI: the list of your direct messages on the landing page
// (with unread counts), a "Message" button beside each person in a room, the room's
// title ("@Bo" rather than its id), and "Seen" under your last message the other name
// has read, and "Leave" (DELETE /api/dms/:room: the conversation leaves your list until
// it is opened again). Only claimed names have direct messages; every call carries the
// name's token as `Authorization: Bearer` (names.js), never in its URL.

import { state, key, myName } from './state.js';
import { el, h, toast, relativeTime } from './dom.js';
import { icon } from './icons.js';
import { isDmRoom } from './protocol.js';
import { emit } from './events.js';
import { navigate } from './nav.js';
import { tokenFor, authHeaders } from './names.js';

const LABELS_KEY = 'edgechat.dm-labels'; // room id -> the other name, for the title

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

/** Fills the landing page's list of direct messages for `name` (hidden without any). */
export async function loadDms(name) {
  const token = name && tokenFor(name);
  if (!token) { el.dmsSection.hidden = true; return; }
  try {
    const response = await fetch('/api/dms', { headers: authHeaders(name, { accept: 'application/json' }) });
    if (!response.ok) { el.dmsSection.hidden = true; return; }
    const { dms = [] } = await response.json();
    el.dmsList.replaceChildren(...dms.map((dm) => {
      remember(dm.room, dm.with);
      return h('li', { 'data-room': dm.room, 'data-with': dm.with, class: 'dm-item' },
        h('button', { type: 'button', class: 'room-button', onclick: () => navigate(dm.room) },
          h('span', { class: 'room-name dm-name', text: `@${dm.with}`, title: `@${dm.with}` }),
          h('span', { class: 'room-meta', text: dm.last_activity ? relativeTime(dm.last_activity) : 'new' }),
          dm.unread > 0 ? h('span', {
            class: 'unread-badge', text: dm.unread > 99 ? '99+' : String(dm.unread), 'aria-label': `${dm.unread} unread`,
          }) : null),
        h('button', {
          type: 'button', class: 'ghost icon dm-leave', title: 'Leave this conversation',
          'aria-label': `Leave the direct messages with ${dm.with}`, onclick: () => leaveDm(dm.room, name),
        }, icon('close')));
    }));
    el.dmsSection.hidden = dms.length === 0;
  } catch {
    el.dmsSection.hidden = true;
  }
}

/** Whether this page can start direct messages (its name is claimed here). */
export const canMessage = () => Boolean(tokenFor(myName()));

/** Opens the direct messages with `withName` (made on first use) and goes there. */
export async function messageUser(withName) {
  const name = myName();
  const token = tokenFor(name);
  if (!token) return toast('Direct messages need a claimed name: rejoin once to claim yours.');
  try {
    const response = await fetch('/api/dms', {
      method: 'POST', headers: authHeaders(name, { 'content-type': 'application/json' }),
      body: JSON.stringify({ with: withName }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return toast(body.error?.message || `Could not open direct messages (HTTP ${response.status}).`);
    remember(body.room, body.with);
    navigate(body.room);
  } catch {
    toast('Could not reach the server to open direct messages.');
  }
}

/**
 * Leaves a direct message: it leaves your list (and the rail) until it is opened again,
 * from either side. `name` is whose list it is. Resolves with whether the server agreed.
 */
export async function leaveDm(room, name = myName()) {
  if (!tokenFor(name)) { toast('Direct messages need a claimed name.'); return false; }
  try {
    const response = await fetch(`/api/dms/${encodeURIComponent(room)}`, {
      method: 'DELETE', headers: authHeaders(name, { accept: 'application/json' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      toast(body.error?.message || `Could not leave the conversation (HTTP ${response.status}).`);
      return false;
    }
  } catch {
    toast('Could not reach the server to leave the conversation.');
    return false;
  }
  const label = roomLabel(room);
  el.dmsList.querySelector(`li[data-room="${CSS.escape(room)}"]`)?.remove();
  el.dmsSection.hidden = el.dmsList.children.length === 0;
  emit('dm-left', room);
  toast(`You left ${label}. It stays off your list until one of you opens it again.`, 'info');
  return true;
}

/** Marks "Seen" under your newest message the other name has read (direct messages only). */
export function renderSeen() {
  for (const old of el.messages.querySelectorAll('.seen-mark')) old.remove();
  if (!isDmRoom(state.room) || !state.peerReadSeq) return;
  const me = key(myName());
  let seen = null;
  for (const [seq, { message, el: node }] of state.messages) {
    if (seq <= state.peerReadSeq && key(message.name) === me && (!seen || seq > seen.seq)) seen = { seq, node };
  }
  seen?.node.querySelector('.message-meta')?.append(' ', h('span', { class: 'seen-mark', text: 'Seen' }));
}
