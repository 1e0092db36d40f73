// Rooms in the web UI beyond the one on screen: making a room (title, description,
// public or private), the room's title and description in the header, and the rail of
// open rooms: several rooms at once, each with its unread count, switched without
// losing what was loaded (app.js keeps each room's list and resumes it with since= and
// rev=), and left with ×. The room's owner edits its title and description (PATCH). Every
// call carries the name's token as `Authorization: Bearer` (names.js), never in its URL.

import { state, myName, saveName } from './state.js';
import { el, h, toast } from './dom.js';
import { icon } from './icons.js';
import { isDmRoom, nameError, cleanName } from './protocol.js';
import { emit } from './events.js';
import { navigate } from './nav.js';
import { roomLabel } from './dms.js';
import { tokenFor, authHeaders, claimName } from './names.js';
import { updateExport } from './export.js';

const OPEN_KEY = 'edgechat.open-rooms';
const POLL_MS = 10_000;
let pollTimer = 0;
const titles = new Map(); // room id -> title, once known
const infos = new Map();  // room id -> its RoomInfo, once loaded
let unread = new Map();   // room id -> unread count, as last polled

export function initRooms() {
  el.createForm.addEventListener('submit', (event) => { event.preventDefault(); createRoom(); });
  el.createPrivate.addEventListener('change', syncPrivate);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) pollUnread(); });
  el.roomEditButton.addEventListener('click', openRoomEdit);
  el.roomEditForm.addEventListener('submit', (event) => { event.preventDefault(); saveRoomEdit(); });
  el.roomEditCancel.addEventListener('click', () => el.roomEditDialog.close());
}

/** A private room gets a random address: the address field is off while it is ticked. */
function syncPrivate() {
  el.createId.disabled = el.createPrivate.checked;
  el.createId.placeholder = el.createPrivate.checked ? 'chosen at random: the link is the key' : 'address, e.g. team-chat';
}

export function openRooms() {
  try { return JSON.parse(localStorage.getItem(OPEN_KEY)) || []; } catch { return []; }
}

function saveOpenRooms(rooms) {
  try { localStorage.setItem(OPEN_KEY, JSON.stringify(rooms)); } catch { /* private mode: this tab only */ }
}

export const isOpenRoom = (room) => openRooms().includes(room);

/** Keeps `room` in the rail (first visit: at the end). */
export function addOpenRoom(room) {
  const rooms = openRooms();
  if (!rooms.includes(room)) saveOpenRooms([...rooms, room]);
  renderRail();
  schedulePoll();
}

/** Takes `room` out of the rail. */
export function removeOpenRoom(room) {
  saveOpenRooms(openRooms().filter((r) => r !== room));
  renderRail();
}

const label = (room) => (isDmRoom(room) ? roomLabel(room) : titles.get(room) || `#${room}`);
/** The rail's hover text: the whole label, and the address when a title hides it. */
const fullLabel = (room) => (!isDmRoom(room) && titles.get(room) ? `${titles.get(room)} (#${room})` : label(room));

/** The rail: every open room, the current one marked, with unread counts. */
export function renderRail() {
  const rooms = openRooms();
  el.openRooms.hidden = rooms.length < 2;
  el.openRoomsList.replaceChildren(...rooms.map((room) => {
    const current = room === state.room;
    if (current) unread.delete(room); // read on entering: no stale count when we leave it
    const n = unread.get(room) ?? 0;
    return h('li', { 'data-room': room, class: current ? 'current' : null },
      h('button', {
        type: 'button', class: 'rail-room', 'aria-current': current ? 'page' : null, title: fullLabel(room),
        onclick: () => { if (!current) navigate(room); },
      }, h('span', { class: 'rail-name', text: label(room) }),
      n > 0 ? h('span', { class: 'unread-badge', text: n > 99 ? '99+' : String(n), 'aria-label': `${n} unread` }) : null),
      h('button', {
        type: 'button', class: 'ghost icon rail-leave', 'aria-label': `Leave ${label(room)}`, title: 'Leave this room',
        onclick: () => leave(room),
      }, icon('close')));
  }));
}

function leave(room) {
  removeOpenRoom(room);
  emit('open-room-left', room);
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(pollUnread, POLL_MS);
}

/** Asks the server how many unread messages each other open room has. */
export async function pollUnread() {
  clearTimeout(pollTimer);
  const name = myName();
  const others = openRooms().filter((r) => r !== state.room);
  if (state.view !== 'chat' || !others.length || !name) return;
  const counts = new Map();
  await Promise.all(others.filter((r) => !isDmRoom(r)).map(async (room) => {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(room)}`, { headers: authHeaders(name) });
      if (!response.ok) return;
      const { room: info, summary } = await response.json();
      if (info?.title) titles.set(room, info.title);
      counts.set(room, Number(summary?.unread) || 0);
    } catch { /* offline: try again later */ }
  }));
  unread = counts;
  renderRail();
  schedulePoll();
}

/** Shows the room's title and description in the header (the id when it has none). */
export async function loadRoomInfo(room) {
  el.roomDescription.textContent = '';
  el.roomDescription.hidden = true;
  el.roomTitle.removeAttribute('title');
  updateRoomEdit();
  if (isDmRoom(room)) return;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}`, { headers: authHeaders(myName()) });
    if (!response.ok || state.room !== room) return;
    const { room: info } = await response.json();
    showRoomInfo(room, info);
  } catch { /* the id stays as the title */ }
}

function showRoomInfo(room, info) {
  infos.set(room, info);
  if (info.title) titles.set(room, info.title); else titles.delete(room);
  if (state.room === room) {
    el.roomTitle.textContent = info.title || room;
    el.roomTitle.title = `#${room}${info.visibility === 'private' ? ' (private: reached by link only)' : ''}`;
    el.roomDescription.textContent = info.description || '';
    el.roomDescription.hidden = !info.description;
  }
  renderRail();
}

/** The "Edit" beside the title: for the room's owner only (never in a direct message). */
export function updateRoomEdit() {
  const owner = state.view === 'chat' && state.room && !isDmRoom(state.room) && state.role === 'owner';
  el.roomEditButton.hidden = !owner;
  updateExport();
  if (!owner && el.roomEditDialog.open) el.roomEditDialog.close();
}

function openRoomEdit() {
  const info = infos.get(state.room) || {};
  el.roomEditTitle.value = info.title || '';
  el.roomEditDescription.value = info.description || '';
  el.roomEditError.hidden = true;
  el.roomEditError.textContent = '';
  el.roomEditDialog.showModal();
  el.roomEditTitle.focus();
}

/** PATCH /api/rooms/:id with the owner's token; the header shows the answer. */
async function saveRoomEdit() {
  const room = state.room;
  const showError = (text) => {
    el.roomEditError.textContent = text;
    el.roomEditError.hidden = false;
  };
  const title = el.roomEditTitle.value.trim();
  if (!title) return showError('A room needs a title.');
  const save = el.roomEditForm.querySelector('button[type="submit"]');
  save.disabled = true;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}`, {
      method: 'PATCH',
      headers: authHeaders(myName(), { 'content-type': 'application/json', accept: 'application/json' }),
      body: JSON.stringify({ title, description: el.roomEditDescription.value.trim() }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) return showError(answer.error?.message || `The room could not be changed (HTTP ${response.status}).`);
    showRoomInfo(room, answer.room || { ...infos.get(room), title });
    el.roomEditDialog.close();
    el.roomEditButton.focus();
  } catch {
    showError('Could not reach the server.');
  } finally {
    save.disabled = false;
  }
}

async function createRoom() {
  const priv = el.createPrivate.checked;
  const name = cleanName(el.nameInput.value);
  const problem = (text) => {
    el.createError.textContent = text;
    el.createError.hidden = false;
  };
  const nameProblem = nameError(name);
  if (nameProblem) return problem(`Type your name above first: ${nameProblem}`);
  // The maker's claim owns the room, so it needs the name's token: a free name is claimed
  // here first (a name someone else holds is refused with the server's words).
  if (!tokenFor(name)) {
    const claimed = await claimName(name);
    if (!claimed.ok) return problem(claimed.message);
  }
  const body = {
    title: el.createTitle.value.trim(),
    description: el.createDescription.value.trim(),
    visibility: priv ? 'private' : 'public',
  };
  if (!priv) body.id = el.createId.value.trim().toLowerCase();
  el.createError.hidden = true;
  try {
    const response = await fetch('/api/rooms', {
      method: 'POST',
      headers: authHeaders(name, { 'content-type': 'application/json', accept: 'application/json' }),
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) return problem(answer.error?.message || `The room could not be made (HTTP ${response.status}).`); // e.g. 409 room_exists
    titles.set(answer.room.id, answer.room.title);
    infos.set(answer.room.id, answer.room);
    saveName(name);
    el.createForm.reset();
    syncPrivate(); // reset() unticks "Private" without a change event
    if (priv) toast(`Private room made. Share its link to invite people: ${location.origin}/#${answer.room.id}`, 'info', 12_000);
    navigate(answer.room.id);
  } catch {
    problem('Could not reach the server.');
  }
}

// --- The room list on the landing page: a page at a time ---------------------------------

let moreRooms = null; // the "More rooms" button under the list, made on first use

/** One page of GET /api/rooms (after `cursor`, or the first). */
async function fetchRooms(headers, cursor) {
  const url = cursor ? `/api/rooms?cursor=${encodeURIComponent(cursor)}` : '/api/rooms';
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const answer = await response.json();
  return { rooms: Array.isArray(answer.rooms) ? answer.rooms : [], next: answer.next_cursor || null };
}

/** Offers the page after `next` under the list, or nothing at the end. */
function offerMore(next, headers, itemFor) {
  if (!moreRooms) {
    moreRooms = h('button', { type: 'button', class: 'ghost rooms-more', text: 'More rooms' });
    el.roomsList.after(moreRooms);
  }
  moreRooms.hidden = !next;
  moreRooms.onclick = async () => {
    moreRooms.disabled = true;
    try {
      const page = await fetchRooms(headers, next);
      el.roomsList.append(...page.rooms.map(itemFor));
      offerMore(page.next, headers, itemFor);
    } catch {
      toast('Could not load more rooms. Try again.');
    } finally {
      moreRooms.disabled = false;
    }
  };
}

/**
 * Shows the room list's first page (rooms people talk in first, by their last message;
 * rooms made but still empty after them) with "More rooms" for the next. Returns how
 * many rooms it shows.
 */
export async function showRoomList(headers, itemFor) {
  const page = await fetchRooms(headers, null);
  el.roomsList.replaceChildren(...page.rooms.map(itemFor));
  offerMore(page.next, headers, itemFor);
  return page.rooms.length;
}
