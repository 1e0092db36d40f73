// The two views and moving between them: the landing page (the join form, its checks,
// the room list and direct messages) and the chat view of one room; routing by the
// address; entering and leaving a room, and each open room's list kept as it was left
// (a stash) so that switching back shows it at once and resumes it with since= and rev=;
// releasing the name.

import { state, saveName, myName, resetRoom } from './state.js';
import { el, h, avatar, relativeTime } from './dom.js';
import { roomError, nameError, cleanName, normalizeRoom, isDmRoom } from './protocol.js';
import { connect, closeSocket, clearReconnect, setBanner } from './socket.js';
import { hashRoom, navigate } from './nav.js';
import { clearMessages } from './messages.js';
import { updateHistoryStatus } from './history.js';
import { renderUsers, renderTyping, toggleUsers, showMyStatus } from './presence.js';
import { renderRoles } from './roles.js';
import { closeThread, setReplyTo } from './changes.js';
import { updateTitle } from './notify.js';
import { loadDms, roomLabel } from './dms.js';
import { addOpenRoom, removeOpenRoom, isOpenRoom, openRooms, loadRoomInfo, pollUnread, showRoomList } from './rooms.js';
import { authHeaders, releaseName } from './names.js';
import { restoreOutbox } from './outbox.js';

/** Shows what the address names: a room, or the landing page. */
export function route() {
  const room = hashRoom();
  if (!room) return state.view === 'landing' ? undefined : showLanding();
  const problem = roomError(room);
  if (problem) return showLanding({ room, error: problem });
  if (nameError(state.name)) return showLanding({ room }); // no name yet: ask for one
  if (state.view !== 'chat' || state.room !== room) openRoom(room);
}

// --- Landing view ----------------------------------------------------------------------

export function showLanding({ room = '', error = null, field = el.roomInput } = {}) {
  leaveRoom();
  state.view = 'landing';
  el.chat.hidden = true;
  el.landing.hidden = false;
  document.title = 'edgechat';
  if (!el.nameInput.value) el.nameInput.value = state.name;
  if (room) el.roomInput.value = room;
  showFormError(error, error ? field : null);
  (error ? field : nameError(el.nameInput.value.trim()) ? el.nameInput : el.roomInput).focus();
  loadRooms();
}

function showFormError(message, field = null) {
  el.formNotice.hidden = true;
  el.formError.hidden = !message;
  el.formError.textContent = message || '';
  el.nameInput.toggleAttribute('aria-invalid', field === el.nameInput);
  el.roomInput.toggleAttribute('aria-invalid', field === el.roomInput);
}

/** Validates the form and joins; used by the form and by the room list. */
export function tryJoin() {
  const name = cleanName(el.nameInput.value);
  const room = normalizeRoom(el.roomInput.value);
  const nameProblem = nameError(name);
  const problem = nameProblem || roomError(room);
  if (problem) {
    const field = nameProblem ? el.nameInput : el.roomInput;
    showFormError(problem, field);
    return field.focus();
  }
  saveName(name);
  el.nameInput.value = name;
  el.roomInput.value = room;
  showFormError(null);
  navigate(room);
}

export async function loadRooms() {
  el.roomsStatus.textContent = 'Loading rooms…';
  try {
    const name = cleanName(el.nameInput.value || state.name || '');
    const known = name && !nameError(name);
    if (known) loadDms(name); else el.dmsSection.hidden = true;
    // With the name's token the list carries our unread counts.
    const shown = await showRoomList(authHeaders(known ? name : null, { accept: 'application/json' }), roomItem);
    el.roomsStatus.textContent = shown ? '' : 'No rooms yet. Type a name above to start one.';
  } catch {
    el.roomsStatus.textContent = 'Could not load the room list. You can still type a room name above.';
  }
}

function roomItem(room) {
  const count = Number(room.message_count) || 0;
  const meta = [`${count} message${count === 1 ? '' : 's'}`];
  if (room.online > 0) meta.unshift(`${room.online} online`);
  if (room.last_activity) meta.push(relativeTime(room.last_activity));
  const join = () => { el.roomInput.value = room.id; tryJoin(); };
  return h('li', { 'data-room': room.id },
    h('button', { type: 'button', class: 'room-button', onclick: join },
      avatar(room.id, 'small'),
      h('span', { class: room.title ? 'room-name titled' : 'room-name', text: room.title || room.id,
        title: room.title ? `${room.title} (#${room.id})` : `#${room.id}` },
        room.last_message ? h('span', {
          class: 'room-preview', text: `${room.last_message.name}: ${room.last_message.text || '(deleted)'}`,
        }) : null),
      h('span', { class: 'room-meta', text: meta.join(' · ') }),
      room.unread > 0 ? h('span', {
        class: 'unread-badge', text: room.unread > 99 ? '99+' : String(room.unread), title: `${room.unread} unread`,
        'aria-label': `${room.unread} unread`,
      }) : null));
}

// --- Chat view: entering and leaving a room --------------------------------------------

function openRoom(room) {
  leaveRoom();
  Object.assign(state, { view: 'chat', room });
  restoreRoom(room);
  renderRoles(); // as kept, until the welcome says
  addOpenRoom(room);
  loadRoomInfo(room);
  el.landing.hidden = true;
  el.chat.hidden = false;
  el.roomTitle.textContent = roomLabel(room);
  el.dmLeaveButton.hidden = !isDmRoom(room);
  const called = isDmRoom(room) ? roomLabel(room) : `#${room}`; // a DM by the other's name, not its address
  el.chat.classList.toggle('dm', isDmRoom(room));
  el.messageInput.placeholder = `Message ${called}`;
  el.messageInput.setAttribute('aria-label', `Message ${called}`);
  showMyStatus();
  updateTitle();
  updateHistoryStatus();
  connect();
  restoreOutbox(room); // what was sent here and not acknowledged, kept in this browser
  el.messageInput.focus();
  pollUnread();
}

// Each open room's list as it was left, so that switching back shows it at once and
// resumes it (since= and rev=) instead of starting over.
const stashes = new Map();

function stashRoom() {
  stashes.delete(state.room);
  if (!state.everConnected || state.detached || !isOpenRoom(state.room)) return;
  stashes.set(state.room, {
    nodes: [...el.messages.children], scrollTop: el.scroller.scrollTop,
    ...Object.fromEntries(['messages', 'minSeq', 'maxSeq', 'contiguousSeq', 'knownLastSeq', 'hasMoreOlder', 'rev',
      'readSeq', 'owner', 'moderators', 'role', 'pending'].map((k) => [k, state[k]])),
  });
}

function restoreRoom(room) {
  const stash = stashes.get(room);
  if (!stash) return;
  stashes.delete(room);
  const { nodes, scrollTop, ...kept } = stash;
  Object.assign(state, kept, { everConnected: true, restored: true });
  el.messages.replaceChildren(...nodes);
  requestAnimationFrame(() => { el.scroller.scrollTop = scrollTop; });
}

/** Takes a room out of the rail and drops what was kept of it. */
export function forgetRoom(room) {
  stashes.delete(room);
  removeOpenRoom(room);
}

/** The × of an open room: forget it; if it is the current one, go to another. */
export function onLeaveOpenRoom(room) {
  stashes.delete(room);
  if (room !== state.room) return;
  state.everConnected = false; // nothing to keep
  navigate(openRooms()[0] || '');
}

/** A direct message we left (dms.js): out of the rail; if we are in it, go elsewhere. */
export function onLeftDm(room) {
  forgetRoom(room);
  onLeaveOpenRoom(room);
}

/** Closes the socket and forgets everything about the current room. */
function leaveRoom() {
  if (!state.room) return;
  stashRoom();
  closeSocket();
  clearReconnect();
  clearTimeout(state.timers.hold);
  resetRoom();
  clearMessages();
  closeThread();
  setReplyTo(null);
  renderRoles();
  renderUsers();
  renderTyping();
  toggleUsers(false);
  setBanner(null);
}

// --- Releasing the name ----------------------------------------------------------------

/** "Release name": first says what releasing gives up, and asks. */
export function onReleaseName() {
  el.releaseName.textContent = myName();
  el.releaseDialog.returnValue = '';
  el.releaseDialog.showModal();
  el.releaseCancel.focus(); // the safe choice is the default one
}

/** Confirmed: gives the name up, then back to the join form. */
export async function releaseConfirmed() {
  const name = myName();
  el.releaseDialog.close('release');
  navigate(''); // leave first: nobody should find the name free while we still use it
  const { ok, message } = await releaseName(name);
  if (!ok) return showFormError(message, el.nameInput);
  el.formNotice.textContent = message;
  el.formNotice.hidden = false;
  el.nameInput.focus();
}
