// People in the room: the users list (ourselves first, roles, "Message", the moderators'
// Kick/Ban and the owner's appointing), joins and leaves, statuses (ours is chosen here
// and kept across rooms), who is typing, and the people panel's drawer on a phone.
// The socket opts into presence 2 (PROTOCOL.md "Presence 2"): one `presence` frame per
// tick, and above the room's list size only a count, the list paged with `users`.

import { state, key, myName } from './state.js';
import { el, h, avatar } from './dom.js';
import { STATUS_LABELS, MAX_USERS_PAGE, isDmRoom } from './protocol.js';
import { sendFrame } from './socket.js';
import { isOwnerName, isModeratorName, canModerate, kick, ban, appoint, dismiss } from './roles.js';
import { canMessage, messageUser } from './dms.js';
import { addSystemLine } from './messages.js';
import { lastSeenText, fullTime } from './lastseen.js';

// --- Typing -----------------------------------------------------------------------------

export function setTypingNames(names) {
  const me = key(myName());
  state.typingNames = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && key(n) !== me);
  renderTyping();
}

export function renderTyping() {
  const names = state.typingNames;
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = 'several people are typing…';
  el.typing.textContent = text;
  el.typing.classList.toggle('several', names.length > 2); // capitalised by CSS
}

// --- Users ------------------------------------------------------------------------------

/** People per page of a partial list (the first page, then each "Show more"). */
const USERS_PAGE = Math.min(50, MAX_USERS_PAGE);
/** How long "Show more" waits for its page before it may be pressed again. */
const USERS_PAGE_WAIT_MS = 3000;

export function setUsers(users) {
  const list = (Array.isArray(users) ? users : []).filter((user) => user?.name);
  state.users = new Map(list.map((user) => [key(user.name), user]));
  renderUsers();
}

function upsertUser(user) {
  if (!user?.name) return;
  state.users.set(key(user.name), user);
  renderUsers();
}

function removeUser(name) {
  state.users.delete(key(name));
  setTypingNames(state.typingNames.filter((typist) => key(typist) !== key(name)));
}

/** A `user_joined` or `user_left` frame (`at`: when a leave happened, for "last seen"). */
export function onPresence(user, change, at) {
  if (!user?.name) return;
  if (change === 'joined') {
    state.lastSeen.delete(key(user.name));
    upsertUser(user);
  } else {
    removeUser(user.name);
    takeLastSeen([{ name: user.name, at }]);
    renderUsers();
  }
  addSystemLine(`${user.name} ${change}`);
}

/** Someone's status changed; for our own name it was one of our other tabs. */
export function onUserStatus({ user }) {
  takeStatus(user);
  renderUsers();
}

function takeStatus(user) {
  if (!user?.name) return;
  state.users.set(key(user.name), user);
  if (key(user.name) === key(myName()) && STATUS_LABELS[user.status]) {
    state.status = user.status;
    showMyStatus();
  }
}

/** The welcome's users: every one, or (`users_partial`, a big room) only the count, and
 *  the list's first page is asked for. A server before presence 2 sends no count. */
export function onWelcomeUsers(frame) {
  state.lastSeen = new Map(); // a resume's welcome carries the whole list again
  takeLastSeen(frame.last_seen);
  state.userCount = Number.isInteger(frame.user_count) ? frame.user_count : null;
  if (frame.users_partial === true) startPaging();
  else setWhole(frame.users);
}

/** The whole list (a welcome, or a `presence` frame back under the list size). */
function setWhole(users) {
  Object.assign(state, { usersPartial: false, usersMore: null });
  setUsers(users);
}

/** Above the list size: ourselves, then the list page by page from its start. */
function startPaging() {
  clearTimeout(state.timers.usersPage); // a page asked on an earlier socket never comes
  Object.assign(state, { usersPartial: true, usersMore: { after: null }, usersLoading: false });
  setUsers(state.me ? [state.me] : []);
  showMoreUsers();
}

/** A presence-2 `presence` frame: upserts (`joined`, `status`), removals (`left`), the
 *  count; `partial` (the room went over its list size: only the count follows, so the
 *  list starts over from its first page) or `users` (back under it: the whole list). */
export function onPresenceFrame(frame) {
  if (Number.isInteger(frame.count)) state.userCount = frame.count;
  takeLastSeen(frame.last_seen);
  for (const user of Array.isArray(frame.joined) ? frame.joined : []) {
    if (typeof user?.name === 'string') state.lastSeen.delete(key(user.name));
  }
  if (Array.isArray(frame.users)) return setWhole(frame.users);
  if (frame.partial === true) return state.usersPartial ? renderUsers() : startPaging();
  const joined = (Array.isArray(frame.joined) ? frame.joined : []).filter((user) => user?.name);
  const left = (Array.isArray(frame.left) ? frame.left : []).filter((name) => typeof name === 'string');
  const arrived = joined.filter((user) => !state.users.has(key(user.name))).map((user) => user.name);
  const gone = left.filter((name) => state.users.has(key(name)));
  for (const user of joined) state.users.set(key(user.name), user);
  for (const name of left) removeUser(name);
  for (const user of Array.isArray(frame.status) ? frame.status : []) takeStatus(user);
  renderUsers();
  announce(arrived, 'joined');
  announce(gone, 'left');
}

/** "Ann joined", or for a burst "Ann, Bo and 18 others joined": one line per tick. */
function announce(names, change) {
  if (names.length <= 3) return names.forEach((name) => addSystemLine(`${name} ${change}`));
  addSystemLine(`${names.slice(0, 2).join(', ')} and ${names.length - 2} others ${change}`);
}

/** A `users` answer: one page of the list, after the ones shown. */
export function onUsersPage(frame) {
  clearTimeout(state.timers.usersPage);
  state.usersLoading = false;
  if (!state.usersPartial) return renderUsers(); // the list came back whole meanwhile
  if (Number.isInteger(frame.count)) state.userCount = frame.count;
  for (const user of Array.isArray(frame.users) ? frame.users : []) {
    if (user?.name) state.users.set(key(user.name), user);
  }
  state.usersMore = typeof frame.next === 'string' ? { after: frame.next } : null;
  renderUsers();
}

/** "Show more" (and a partial list's first page): asks the room for the next page. An
 *  answer that does not come (refused: rate limited) leaves the button to try again. */
export function showMoreUsers() {
  if (!state.usersPartial || !state.usersMore || state.usersLoading) return;
  const frame = { type: 'users', limit: USERS_PAGE };
  if (state.usersMore.after !== null) frame.after = state.usersMore.after;
  state.usersLoading = sendFrame(frame);
  clearTimeout(state.timers.usersPage);
  if (state.usersLoading) {
    state.timers.usersPage = setTimeout(() => { state.usersLoading = false; renderUsers(); }, USERS_PAGE_WAIT_MS);
  }
  renderUsers();
}

/** The users list: ourselves first, then by name. */
export function renderUsers() {
  const me = key(myName());
  const isMe = (user) => key(user.name) === me;
  const users = [...state.users.values()].sort((a, b) =>
    Number(isMe(b)) - Number(isMe(a)) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
  el.users.replaceChildren(...users.map((user) => userItem(user, isMe(user))));
  // The room's count (presence 2) counts everyone, also the ones a partial list lacks.
  const count = state.userCount ?? users.length;
  el.usersCount.textContent = String(count);
  el.usersOnline.textContent = `${count} online`;
  el.usersMore.hidden = !(state.usersPartial && state.usersMore);
  el.usersMore.disabled = state.usersLoading;
  renderOffline();
}

// --- Last seen (PROTOCOL.md "Last seen") ------------------------------------------------

/** Keeps `[{name, at}]` entries (welcome, leaves); anything else is skipped. */
function takeLastSeen(list) {
  for (const entry of Array.isArray(list) ? list : []) {
    if (typeof entry?.name !== 'string' || !entry.name || !Number.isFinite(entry.at)) continue;
    state.lastSeen.set(key(entry.name), { name: entry.name, at: entry.at });
  }
}

let labelsTimer = 0;

/** The "Offline" part: who was here and is not now, most recently seen first. The labels
 *  are redrawn each minute while there is one. */
function renderOffline() {
  const me = key(myName());
  const offline = [...state.lastSeen.entries()]
    .filter(([folded]) => folded !== me && !state.users.has(folded))
    .map(([, entry]) => entry)
    .sort((a, b) => b.at - a.at);
  const now = Date.now();
  el.usersOffline.replaceChildren(...offline.map((entry) => offlineItem(entry, now)));
  el.usersOffline.hidden = offline.length === 0;
  el.usersOfflineHeading.hidden = offline.length === 0;
  if (offline.length && !labelsTimer) labelsTimer = setInterval(renderOffline, 60_000);
  else if (!offline.length && labelsTimer) labelsTimer = (clearInterval(labelsTimer), 0);
}

function offlineItem({ name, at }, now) {
  return h('li', { 'data-offline-name': name, 'data-status': 'offline' },
    avatar(name, 'small'),
    h('span', { class: 'user-name', text: name }),
    h('span', { class: 'last-seen', text: lastSeenText(at, now), title: fullTime(at) }),
    canMessage() ? h('button', {
      type: 'button', class: 'link user-dm', text: 'Message', 'aria-label': `Message ${name} directly`,
      onclick: () => messageUser(name),
    }) : null);
}

function userItem(user, isMe) {
  const status = STATUS_LABELS[user.status] ? user.status : 'online';
  const role = isOwnerName(user.name) ? 'owner' : isModeratorName(user.name) ? 'moderator' : null;
  const tags = [isMe ? '(you)' : null, role].filter(Boolean).join(' · ');
  const appointing = !isMe && state.role === 'owner' && !isDmRoom(state.room) && role !== 'owner';
  return h('li', { 'data-name': user.name, 'data-status': status, 'data-role': role, class: isMe ? 'me' : null },
    avatar(user.name, 'small'),
    h('span', { class: 'user-name', text: user.name }),
    tags ? h('span', { class: 'you-tag', text: tags }) : null,
    h('span', { class: 'user-status' },
      h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'status-label', text: STATUS_LABELS[status] })),
    !isMe && canMessage() ? h('button', {
      type: 'button', class: 'link user-dm', text: 'Message', 'aria-label': `Message ${user.name} directly`,
      onclick: () => messageUser(user.name),
    }) : null,
    !isMe && canModerate(user.name) ? h('span', { class: 'user-mod' },
      h('button', { type: 'button', class: 'link', text: 'Kick', 'aria-label': `Kick ${user.name}`, onclick: () => kick(user.name) }),
      h('button', { type: 'button', class: 'link', text: 'Ban', 'aria-label': `Ban ${user.name}`, onclick: () => ban(user.name) }))
      : null,
    appointing ? h('span', { class: 'user-appoint' }, role === 'moderator'
      ? h('button', {
        type: 'button', class: 'link', text: 'Remove moderator', 'aria-label': `Remove ${user.name} as moderator`,
        onclick: () => dismiss(user.name),
      })
      : h('button', {
        type: 'button', class: 'link', text: 'Make moderator', 'aria-label': `Make ${user.name} a moderator`,
        onclick: () => appoint(user.name),
      })) : null);
}

// --- Our status -------------------------------------------------------------------------

/** Changes our presence: tells the room, and shows it (the server only tells the others). */
export function setMyStatus(status) {
  if (!STATUS_LABELS[status]) return;
  state.status = status;
  showMyStatus();
  sendFrame({ type: 'status', status });
  if (state.me) upsertUser({ ...state.me, status });
}

export function showMyStatus() {
  el.statusSelect.value = state.status;
  el.statusPicker.dataset.status = state.status;
}

// --- The people panel (a drawer on a phone) ---------------------------------------------

export function toggleUsers(open = !el.usersPanel.classList.contains('open')) {
  el.usersPanel.classList.toggle('open', open);
  el.usersToggle.setAttribute('aria-expanded', String(open));
  if (open) el.usersPanel.focus();
}

export function closeUsers() {
  toggleUsers(false);
  el.usersToggle.focus();
}
