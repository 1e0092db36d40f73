// Incoming frames: each frame type of PROTOCOL.md to the module that handles it. The
// welcome, ack, error, update, roles and moderation frames are handled here, since each
// touches several modules: the session (session.js) says what the frame does to the
// room's state, the views show it.

import { state, key, myName } from './state.js';
import { el, h, hhmm, toast, isNearBottom, scrollToBottom, keepBottom } from './dom.js';
import { STATUS_LABELS, ERROR_MEANINGS } from './protocol.js';
import * as session from './session.js';
import { connect, setBanner, startKeepAlive } from './socket.js';
import { addMessage, applyUpdate, clearListEl, dropPending, refreshMessageActions, showNewDivider, addSystemLine }
  from './messages.js';
import { onHistory, fillGap, maybeLoadOlder, updateHistoryStatus, continueJump } from './history.js';
import { onPendingError, sendReleased, restoreOutbox } from './outbox.js';
import { onWelcomeUsers, renderUsers, onPresence, onUserStatus, onPresenceFrame, onUsersPage, setTypingNames, setMyStatus, showMyStatus }
  from './presence.js';
import { setRoles, isModerator, unban } from './roles.js';
import { onChangeError, onThread, withMyReactions } from './changes.js';
import { markReadSoon, onRead } from './reads.js';
import { renderSeen } from './dms.js';
import { showLanding, forgetRoom } from './views.js';
import { keepClaim, keepPass } from './names.js';
import { setPins, renderPins } from './pins.js';

const FRAME_HANDLERS = {
  welcome: onWelcome,
  message: (frame) => addMessage(frame.message, { live: true }),
  ack: onAck,
  user_joined: (frame) => onPresence(frame.user, 'joined'),
  user_left: (frame) => onPresence(frame.user, 'left', frame.at),
  user_status: onUserStatus,
  presence: onPresenceFrame,
  users: onUsersPage,
  typing: (frame) => setTypingNames(frame.names),
  history: onHistory,
  update: onUpdateFrame,
  moderation: onModeration,
  read: onRead,
  thread: (frame) => onThread(frame),
  error: onErrorFrame,
  name_claimed: onNameClaimed,
  pass: (frame) => keepPass(state.name, frame),
  roles: onRoles,
  pins: (frame) => setPins(frame.pins),
};

/** One text frame of the socket (not the keep-alive's `pong`). */
export function onFrame(data) {
  let frame;
  try { frame = JSON.parse(data); } catch { return console.warn('edgechat: ignoring a non-JSON frame', data); }
  const handler = FRAME_HANDLERS[frame?.type];
  if (handler) handler(frame);
  else console.debug('edgechat: ignoring frame', frame);
}

/** Our connect claimed the name: keep its token (names.js confirms it to the server). */
function onNameClaimed(frame) {
  if (keepClaim(frame)) return renderUsers(); // "Message" needs the token
  toast(`This browser cannot store data for this site (storage is off or full), so the name “${frame.name}” `
    + 'will not be kept: it becomes free for anyone again in a few minutes, and direct messages are not available.',
  'error', 20_000);
}

function onWelcome(frame) {
  const { fresh, messages } = session.welcome(state, frame); // welcomed; a fresh start clears the list
  Object.assign(state, { attempt: 0, me: frame.you || state.me, refusal: null });
  setBanner(null);
  startKeepAlive();
  // `creator` is what a server before owners and moderators sent.
  const wasRole = state.role;
  setRoles(frame.owner !== undefined ? frame.owner : frame.creator ?? null, frame.moderators, frame.role);
  if (state.role !== wasRole) refreshMessageActions(); // what we kept was decorated for the old role
  setPins(frame.pins); // a server before pins sends none: nothing is pinned
  onWelcomeUsers(frame);
  const stick = isNearBottom();
  if (fresh) clearListEl();
  for (const message of messages) addMessage(message);
  // Older messages that changed while we were away, as they are now.
  for (const message of Array.isArray(frame.updates) ? frame.updates : []) applyUpdate(message);
  const done = session.welcomed(state, frame, Date.now());
  if (done.restart) return connect(); // too much changed to patch: start over from the newest
  sendReleased(done.resend);
  restoreOutbox(state.room); // and what a tab closed since left waiting here
  if (state.status !== 'online') setMyStatus(state.status); // presence restarts online
  else if (STATUS_LABELS[state.me?.status]) { state.status = state.me.status; showMyStatus(); } // set in another tab
  if (fresh || state.restored) showNewDivider(Number(frame.read_seq) || 0);
  state.restored = false;
  state.peerReadSeq = Number.isInteger(frame.peer_read_seq) ? frame.peer_read_seq : null;
  renderSeen();
  state.readSeq = Math.max(state.readSeq, Number(frame.read_seq) || 0);
  if (fresh || stick) scrollToBottom();
  fillGap();
  maybeLoadOlder(); // a short history does not fill the screen
  updateHistoryStatus();
  continueJump();
  markReadSoon();
}

function onAck(frame) {
  const outcome = session.ack(state, frame, { room: state.room, name: myName(), now: Date.now() });
  if (outcome?.repeat) dropPending(outcome.repeat); // a repeat: the original is shown
  else if (outcome?.confirm) addMessage(outcome.confirm);
}

function onErrorFrame(frame) {
  const pending = session.pendingFor(state, frame);
  if (pending) return onPendingError(pending, frame);
  if (onChangeError(frame)) return;
  // An `internal` about a message already shown: the room has it and broadcast it, and
  // keeps retrying its write to the history database; only its ack is late.
  if (frame.client_id && frame.code === 'internal' && session.isShown(state, frame.client_id)) return;
  // Without client_id it was a typing, status or history frame. Typing is harmless to lose;
  // a history request in flight is abandoned and asked again (after the delay if limited).
  state.history = null;
  // (Or a kick, ban, appoint or dismiss: the server's message says what went wrong.)
  if (frame.code !== 'rate_limited') {
    const why = ['forbidden', 'not_found'].includes(frame.code) && frame.message ? frame.message : ERROR_MEANINGS[frame.code];
    return toast(why || frame.message || 'Something went wrong.');
  }
  setTimeout(() => { fillGap(); maybeLoadOlder(); }, Number(frame.retry_after_ms) || 1000);
}

/** A message changed (edited, deleted, reacted to, replied to): show it as it is now. */
function onUpdateFrame(frame) {
  if (!frame.message || !Number.isInteger(frame.message.seq)) return;
  keepBottom(() => applyUpdate(withMyReactions(frame, state.messages.get(frame.message.seq)?.message), frame.rev));
}

/** A `roles` frame: someone was appointed or dismissed (or the owner changed). */
function onRoles(frame) {
  const before = state.moderators;
  const wasRole = state.role;
  setRoles(frame.owner ?? null, frame.moderators);
  const added = state.moderators.filter((m) => !before.some((b) => key(b) === key(m)));
  const removed = before.filter((b) => !state.moderators.some((m) => key(m) === key(b)));
  const me = key(myName());
  for (const name of added) addSystemLine(key(name) === me ? 'You are now a moderator of this room' : `${name} is now a moderator`);
  for (const name of removed) addSystemLine(key(name) === me ? 'You are no longer a moderator of this room' : `${name} is no longer a moderator`);
  if (state.role !== wasRole) el.announcer.textContent = state.role ? `You are now the room's ${state.role}.` : 'You no longer moderate this room.';
  refreshMessageActions();
  renderPins(); // moderators get "Unpin" in the list
  renderUsers();
}

function onModeration(frame) {
  const reason = frame.reason ? ` (${frame.reason})` : '';
  const text = {
    kick: `${frame.by} removed ${frame.name} from the room${reason}`,
    ban: `${frame.by} banned ${frame.name} until ${hhmm(frame.until)}${reason}`,
    unban: `${frame.by} lifted the ban on ${frame.name}`,
    delete: `${frame.by} deleted a message of ${frame.name}`,
  }[frame.action];
  if (!text) return;
  addSystemLine(text);
  if (frame.action === 'ban' && isModerator()) { // the line offers to undo it
    const line = el.messages.lastElementChild;
    line?.append(' ', h('button', {
      type: 'button', class: 'link unban', text: 'Unban',
      onclick: (event) => { event.currentTarget.remove(); unban(frame.name); },
    }));
  }
  if ((frame.action === 'kick' || frame.action === 'ban') && key(frame.name) === key(myName())) {
    // The room closes this socket right after; leave now rather than wait for the close.
    const why = frame.action === 'kick'
      ? `${frame.by} removed you from #${state.room}${reason}.`
      : `${frame.by} banned you from #${state.room} until ${hhmm(frame.until)}${reason}.`;
    const room = state.room;
    showLanding({ room, error: why });
    forgetRoom(room); // nothing to come back to
  }
}
