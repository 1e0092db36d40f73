// Rooms in the web UI beyond the one on screen: making a room (title, description,
// public or private), the room's title and description in the header, and the rail of
// open rooms: several rooms at once, each with its unread count, switched without
// losing what was loaded (app.js keeps each room's list and resumes it with since= and
// rev=), and left with ×.

import { isDmRoom, roomLabel } from './dms.js';

const OPEN_KEY = 'edgechat.open-rooms';
const POLL_MS = 10_000;
let app = null;
let pollTimer = 0;
const titles = new Map(); // room id -> title, once known
let unread = new Map();   // room id -> unread count, as last polled

/** deps: { state, el, h, myName, toast, navigate, onLeaveOpenRoom, setName, nameError } */
export function initRooms(deps) {
  app = deps;
  const { el } = deps;
  el.createForm.addEventListener('submit', (event) => { event.preventDefault(); createRoom(); });
  el.createPrivate.addEventListener('change', () => {
    el.createId.disabled = el.createPrivate.checked;
    el.createId.placeholder = el.createPrivate.checked ? 'chosen at random: the link is the key' : 'address, e.g. team-chat';
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) pollUnread(); });
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

/** The rail: every open room, the current one marked, with unread counts. */
export function renderRail() {
  const { el, h, state } = app;
  const rooms = openRooms();
  el.openRooms.hidden = rooms.length < 2;
  el.openRoomsList.replaceChildren(...rooms.map((room) => {
    const current = room === state.room;
    if (current) unread.delete(room); // read on entering: no stale count when we leave it
    const n = unread.get(room) ?? 0;
    return h('li', { 'data-room': room, class: current ? 'current' : null },
      h('button', {
        type: 'button', class: 'rail-room', 'aria-current': current ? 'page' : null, title: room,
        onclick: () => { if (!current) app.navigate(room); },
      }, h('span', { class: 'rail-name', text: label(room) }),
      n > 0 ? h('span', { class: 'unread-badge', text: n > 99 ? '99+' : String(n), 'aria-label': `${n} unread` }) : null),
      h('button', {
        type: 'button', class: 'ghost icon rail-leave', text: '×', 'aria-label': `Leave ${label(room)}`, title: 'Leave this room',
        onclick: () => leave(room),
      }));
  }));
}

function leave(room) {
  removeOpenRoom(room);
  app.onLeaveOpenRoom(room);
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(pollUnread, POLL_MS);
}

/** Asks the server how many unread messages each other open room has. */
export async function pollUnread() {
  clearTimeout(pollTimer);
  const { state } = app;
  const name = app.myName();
  const others = openRooms().filter((r) => r !== state.room);
  if (state.view !== 'chat' || !others.length || !name) return;
  const counts = new Map();
  await Promise.all(others.filter((r) => !isDmRoom(r)).map(async (room) => {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(room)}?${new URLSearchParams({ name })}`);
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
  const { el } = app;
  el.roomDescription.textContent = '';
  el.roomDescription.hidden = true;
  if (isDmRoom(room)) return;
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(room)}`);
    if (!response.ok || app.state.room !== room) return;
    const { room: info } = await response.json();
    if (info.title) {
      titles.set(room, info.title);
      el.roomTitle.textContent = info.title;
      el.roomTitle.title = `#${room}${info.visibility === 'private' ? ' (private: reached by link only)' : ''}`;
    }
    if (info.description) {
      el.roomDescription.textContent = info.description;
      el.roomDescription.hidden = false;
    }
    renderRail();
  } catch { /* the id stays as the title */ }
}

async function createRoom() {
  const { el } = app;
  const priv = el.createPrivate.checked;
  const nameProblem = app.nameError(el.nameInput.value.trim());
  if (nameProblem) {
    el.createError.textContent = `Type your name above first: ${nameProblem}`;
    el.createError.hidden = false;
    return;
  }
  const body = {
    title: el.createTitle.value.trim(),
    description: el.createDescription.value.trim(),
    visibility: priv ? 'private' : 'public',
    name: el.nameInput.value.trim(),
  };
  if (!priv) body.id = el.createId.value.trim().toLowerCase();
  el.createError.hidden = true;
  try {
    const response = await fetch('/api/rooms', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      el.createError.textContent = answer.error?.message || `The room could not be made (HTTP ${response.status}).`;
      el.createError.hidden = false;
      return;
    }
    titles.set(answer.room.id, answer.room.title);
    if (el.nameInput.value.trim()) app.setName(el.nameInput.value.trim());
    el.createForm.reset();
    if (priv) app.toast(`Private room made. Share its link to invite people: ${location.origin}/#${answer.room.id}`);
    app.navigate(answer.room.id);
  } catch {
    el.createError.textContent = 'Could not reach the server.';
    el.createError.hidden = false;
  }
}
