// People in the room: the users list (ourselves first, roles, "Message", the moderators'
// Kick/Ban and the owner's appointing), joins and leaves, statuses (ours is chosen here
// and kept across rooms), who is typing, and the people panel's drawer on a phone.

import { state, key, myName } from './state.js';
import { el, h, avatar } from './dom.js';
import { STATUS_LABELS, isDmRoom } from './protocol.js';
import { sendFrame } from './socket.js';
import { isOwnerName, isModeratorName, canModerate, kick, ban, appoint, dismiss } from './roles.js';
import { canMessage, messageUser } from './dms.js';
import { addSystemLine } from './messages.js';

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

/** A `user_joined` or `user_left` frame. */
export function onPresence(user, change) {
  if (!user?.name) return;
  if (change === 'joined') {
    upsertUser(user);
  } else {
    state.users.delete(key(user.name));
    renderUsers();
    setTypingNames(state.typingNames.filter((name) => key(name) !== key(user.name)));
  }
  addSystemLine(`${user.name} ${change}`);
}

/** Someone's status changed; for our own name it was one of our other tabs. */
export function onUserStatus({ user }) {
  upsertUser(user);
  if (user?.name && key(user.name) === key(myName()) && STATUS_LABELS[user.status]) {
    state.status = user.status;
    showMyStatus();
  }
}

/** The users list: ourselves first, then by name. */
export function renderUsers() {
  const me = key(myName());
  const isMe = (user) => key(user.name) === me;
  const users = [...state.users.values()].sort((a, b) =>
    Number(isMe(b)) - Number(isMe(a)) || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
  el.users.replaceChildren(...users.map((user) => userItem(user, isMe(user))));
  el.usersCount.textContent = String(users.length);
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
