// edgechat web client.
//
// Two views: the landing page (pick a name and a room) and the chat view, which talks to
// the room's Durable Object over one WebSocket. PROTOCOL.md is the wire contract; the
// frames handled here are welcome, message, ack, user_joined, user_left, user_status,
// typing, history, update, thread and error. What a message shows beyond its text, and the
// actions on it (reactions, replies, threads, edits, deletes), live in changes.js.
//
// Name claims (tokens, confirmation, release) live in names.js: a token never goes into a
// URL, only into an `Authorization: Bearer` header or, for the socket, a subprotocol.
// Who owns and who moderates the room comes from the welcome and from `roles` frames.
//
// Rule of the house: user text only reaches the DOM through textContent or text nodes
// (see `h`), never through innerHTML.

import {
  initChanges, decorate, onUpdate, onNewMessage, onChangeError, onThread, replyTarget, setReplyTo, closeThread,
  withMyReactions,
} from './changes.js';
import { initAttachments, attachmentEl } from './attachments.js';
import { initDms, loadDms, canMessage, messageUser, renderSeen, roomLabel, isDmRoom, leaveDm } from './dms.js';
import {
  initRooms, addOpenRoom, removeOpenRoom, isOpenRoom, openRooms, loadRoomInfo, pollUnread, updateRoomEdit,
  showRoomList,
} from './rooms.js';
import { nameKey, authHeaders, socketProtocols, keepClaim, releaseName } from './names.js';

// --- Constants -------------------------------------------------------------------------

const MAX_TEXT = 4000;              // code points, after trimming
const COUNTER_FROM = 3500;          // the character counter shows from this length on
const MAX_FRAME_BYTES = 16 * 1024;  // bigger frames are refused with too_large
const PAGE_SIZE = 50;               // older history, per request
const CATCHUP_PAGE = 100;           // missed messages after a reconnect, per request
const TYPING_THROTTLE_MS = 2500;
const PING_EVERY_MS = 30_000;
const DEAD_AFTER_MS = 75_000;       // no frame at all for this long: the socket is dead
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const GROUP_WINDOW_MS = 5 * 60_000; // one author within 5 minutes: one group
const LOAD_OLDER_PX = 120;          // this close to the top, older history loads
const NEAR_BOTTOM_PX = 80;
const NAME_KEY = 'edgechat.name';

const ROOM_RE = /^[a-z0-9_-]{1,64}$/;
// Control (Cc) and format (Cf) characters, line separators, variation selectors, fillers.
const BAD_NAME_RE = /[\p{Cc}\p{Cf}\u2028\u2029\ufe00-\ufe0f\u{e0100}-\u{e01ef}\u115f\u1160\u2800\u3164\uffa0]/u;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

const CLOSE_REMOVED = 4001;            // the close code of a kicked or banned connection
const CLOSE_POLICY = 1008;             // closed for too many refused frames
const POLICY_RETRY_MS = 60_000;        // after a 1008 close: reconnect slowly, never in a loop
const STATUS_LABELS = { online: 'Online', away: 'Away', dnd: 'Do not disturb' };

// What each error code means to a person.
const ERROR_MEANINGS = {
  bad_frame: 'The server did not understand that request.',
  too_large: 'This message is too large to send.',
  invalid_text: 'Messages must be 1 to 4000 characters long.',
  rate_limited: 'You are sending too fast.',
  not_found: 'That message does not exist in this room.',
  forbidden: 'You are not allowed to do that here.',
  internal: 'The server hit an error. Please try again.',
  too_many_sockets: 'Too many connections are open to this room.',
};

// --- State: one room at a time (window.edgechat.state, for debugging) ------------------

const state = {
  name: loadName(),
  status: 'online',      // chosen presence, kept across rooms and reconnects
  view: null,            // 'landing' | 'chat'
  room: null,
  me: null,              // our User, from the welcome
  socket: null,
  welcomed: false,       // the current socket has had its welcome
  everConnected: false,  // this room has had a welcome, so reconnects use since=
  usedSince: false,      // the current socket was opened with since=
  attempt: 0,            // reconnect attempts since the last welcome
  refusal: null,         // why the room refuses us for now (a cap, a 1008 close), for the banner
  reconnectAt: 0,
  timers: { reconnect: 0, countdown: 0, ping: 0, hold: 0 },
  lastFrameAt: 0,
  messages: new Map(),   // seq -> { message, el }
  minSeq: Infinity,      // oldest seq on screen
  maxSeq: 0,             // newest seq on screen
  contiguousSeq: 0,      // every seq from minSeq up to this one is on screen
  knownLastSeq: 0,       // highest seq the room is known to have
  rev: null,             // the room's last change seen (edits, reactions...): rev= on resume
  owner: null,           // the room's owner's name (welcome, `roles`); null in a direct message
  moderators: [],        // the names of the room's moderators
  role: null,            // ours here: 'owner' | 'moderator' | null
  readSeq: 0,            // the last seq we have read here (the server keeps it per name)
  peerReadSeq: null,     // in a direct message: how far the other name has read
  readTimer: 0,
  hasMoreOlder: false,
  history: null,         // the one history request in flight: { dir, cursor }
  detached: false,       // showing a window of older history (a jump), not the live end
  jump: null,            // a message to show once it is loaded: { room, seq, loading }
  pending: new Map(),    // client_id -> { clientId, text, status: 'pending'|'failed', el, waiting, limited }
  holdUntil: 0,          // rate limited: no sends before this time
  users: new Map(),      // lowercased name -> User
  typingNames: [],
  typingOn: false,
  lastTypingSent: 0,
  unread: 0,             // messages that arrived while the tab was hidden
};

window.edgechat = { state };

// --- DOM -------------------------------------------------------------------------------

// Every element with one of these ids, as el.camelCase (e.g. el.nameInput).
const el = Object.fromEntries([
  'landing', 'join-form', 'name-input', 'room-input', 'form-error', 'form-notice', 'rooms-list', 'rooms-status',
  'rooms-refresh', 'chat', 'room-title', 'leave-button', 'status-picker', 'status-select',
  'notify-button', 'release-button', 'release-dialog', 'release-name', 'release-cancel', 'release-confirm',
  'dm-leave-button', 'room-roles', 'room-edit-button', 'room-edit-dialog', 'room-edit-form', 'room-edit-title',
  'room-edit-description', 'room-edit-error', 'room-edit-cancel', 'users-toggle', 'users-count', 'users-panel', 'users-close', 'users', 'conn-banner', 'conn-text', 'conn-spoken',
  'reconnect-now', 'scroller', 'history-status', 'messages', 'jump-button', 'typing', 'composer',
  'message-input', 'char-counter', 'send-button', 'announcer', 'toasts',
  'attach-button', 'file-input', 'attach-status', 'dms-section', 'dms-list',
  'create-form', 'create-title', 'create-id', 'create-private', 'create-description', 'create-error',
  'room-description', 'open-rooms', 'open-rooms-list',
  'reply-bar', 'reply-name', 'reply-text', 'reply-cancel', 'thread-panel', 'thread-close', 'thread-parent',
  'thread-count', 'thread-list', 'thread-form', 'thread-input',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

/** Creates an element: attrs are `class`, `text`, `on<event>` or attributes (null/false skipped);
 *  string children become text nodes, so user text is never parsed as HTML. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// --- Small helpers ---------------------------------------------------------------------

const key = nameKey; // as the server compares names: NFKC and case folding
/** A name as the server shows it: trimmed, each run of inner whitespace one space. */
const cleanName = (raw) => String(raw).trim().replace(/\s+/gu, ' ');
const codePoints = (text) => [...text].length;
const myName = () => state.me?.name || state.name;
const isMine = (message) => key(message.name) === key(myName());
const normalizeRoom = (raw) => String(raw).trim().replace(/^#/, '').toLowerCase();

function loadName() {
  try { return localStorage.getItem(NAME_KEY) || ''; } catch { return ''; }
}

function saveName(name) {
  state.name = name;
  try { localStorage.setItem(NAME_KEY, name); } catch { /* private mode: keep it in memory */ }
}

function roomError(room) {
  if (!room) return 'Choose a room to join.';
  if (room.length > 64) return 'Room names are at most 64 characters.';
  if (!ROOM_RE.test(room)) return 'Room names may only use letters a–z, digits, “-” and “_”.';
  return null;
}

function nameError(name) {
  const length = codePoints(name);
  if (length === 0) return 'Enter a name so others know who you are.';
  if (length > 32) return `Names are at most 32 characters (this one has ${length}).`;
  if (BAD_NAME_RE.test(name)) return 'Names cannot contain control or invisible characters.';
  return null;
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; elsewhere use 128 random bits in hex.
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A stable hue (0-359) per name (FNV-1a), so everyone keeps their colour. */
function nameHue(name) {
  let hash = 2166136261;
  for (const ch of key(name)) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619);
  return (hash >>> 0) % 360;
}

function initials(name) {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [[...words[0]][0], [...words[1]][0]] : [[...(words[0] || '?')][0]];
  return letters.join('').toUpperCase();
}

function avatar(name, size = '') {
  const node = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true', text: initials(name) });
  node.style.setProperty('--hue', String(nameHue(name)));
  return node;
}

// --- Dates -----------------------------------------------------------------------------

const pad2 = (n) => String(n).padStart(2, '0');
const hhmm = (ts) => { const d = new Date(ts); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`; };
const fullDate = (ts) => new Date(ts).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayKey = (ts) => new Date(ts).toDateString();

function dayLabel(ts) {
  const now = new Date();
  if (dayKey(ts) === now.toDateString()) return 'Today';
  if (dayKey(ts) === new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).toDateString()) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, { dateStyle: 'full' });
}

function relativeTime(ts) {
  const seconds = Math.round((Date.now() - ts) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

function timeEl(ts, className = 'message-time') {
  return h('time', { class: className, datetime: new Date(ts).toISOString(), title: fullDate(ts), text: hhmm(ts) });
}

// --- Routing: `/#room` opens a room, no hash shows the landing page --------------------

function hashRoom() {
  try { return normalizeRoom(decodeURIComponent(location.hash.slice(1))); } catch { return ''; }
}

function route() {
  const room = hashRoom();
  if (!room) return state.view === 'landing' ? undefined : showLanding();
  const problem = roomError(room);
  if (problem) return showLanding({ room, error: problem });
  if (nameError(state.name)) return showLanding({ room }); // no name yet: ask for one
  if (state.view !== 'chat' || state.room !== room) openRoom(room);
}

/** Goes to a room, or to the landing page for an empty room. */
function navigate(room) {
  if (!room) {
    history.pushState(null, '', location.pathname + location.search);
    route();
  } else if (location.hash === `#${room}`) {
    route();
  } else {
    location.hash = room; // hashchange routes
  }
}

// --- Landing view ----------------------------------------------------------------------

function showLanding({ room = '', error = null, field = el.roomInput } = {}) {
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
function tryJoin() {
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

async function loadRooms() {
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
      h('span', { class: room.title ? 'room-name titled' : 'room-name', text: room.title || room.id, title: `#${room.id}` },
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
  el.messageInput.placeholder = `Message #${room}`;
  el.messageInput.setAttribute('aria-label', `Message #${room}`);
  showMyStatus();
  updateTitle();
  updateHistoryStatus();
  connect();
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
function forgetRoom(room) {
  stashes.delete(room);
  removeOpenRoom(room);
}

/** The × of an open room: forget it; if it is the current one, go to another. */
function onLeaveOpenRoom(room) {
  stashes.delete(room);
  if (room !== state.room) return;
  state.everConnected = false; // nothing to keep
  navigate(openRooms()[0] || '');
}

/** A direct message we left (dms.js): out of the rail; if we are in it, go elsewhere. */
function onLeftDm(room) {
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
  Object.assign(state, {
    holdUntil: 0, room: null, me: null, everConnected: false, attempt: 0, unread: 0, pending: new Map(),
    users: new Map(), typingNames: [], typingOn: false, lastTypingSent: 0, rev: null, owner: null, moderators: [], role: null,
    readSeq: 0, restored: false, refusal: null,
  });
  clearMessages();
  closeThread();
  setReplyTo(null);
  renderRoles();
  renderUsers();
  renderTyping();
  toggleUsers(false);
  setBanner(null);
}

/** Forgets the history on screen; pending messages stay (they are re-sent after a welcome). */
function clearMessages() {
  Object.assign(state, {
    messages: new Map(), minSeq: Infinity, maxSeq: 0, contiguousSeq: 0, knownLastSeq: 0, hasMoreOlder: false,
  });
  state.history = null;
  el.messages.replaceChildren(...[...state.pending.values()].map((p) => p.el));
  setDetached(false);
}

function updateTitle() {
  if (state.view === 'chat') document.title = `${state.unread ? `(${state.unread}) ` : ''}#${state.room} — edgechat`;
}

// --- Connection: connect, keep alive, reconnect with backoff ---------------------------

function connect() {
  closeSocket();
  clearReconnect();
  const params = new URLSearchParams({ name: state.name });
  state.usedSince = state.everConnected;
  if (state.usedSince) params.set('since', String(state.contiguousSeq));
  if (state.usedSince && state.rev !== null) params.set('rev', String(state.rev));
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  // The token rides as a subprotocol (`edgechat.bearer.<token>`), never in the URL.
  const socket = new WebSocket(`${scheme}://${location.host}/room/${encodeURIComponent(state.room)}?${params}`,
    socketProtocols(state.name));
  Object.assign(state, { socket, welcomed: false });
  setBanner(state.everConnected ? 'Reconnecting…' : 'Connecting…');
  // Events of a socket that has since been replaced or closed are ignored.
  socket.addEventListener('message', (event) => { if (state.socket === socket) onFrame(event.data); });
  socket.addEventListener('close', (event) => { if (state.socket === socket) onSocketLost(event); });
}

/** Closes the socket on purpose: no reconnect follows. */
function closeSocket() {
  const socket = state.socket;
  Object.assign(state, { socket: null, welcomed: false });
  clearInterval(state.timers.ping);
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
}

function onSocketLost(event) {
  if (event?.code === CLOSE_REMOVED) { // kicked or banned by a moderator: no reconnect
    const room = state.room;
    const why = event.reason || 'You were removed from this room.';
    return showLanding({ room, error: why });
  }
  const welcomed = state.welcomed;
  // A room never reached, or reopened from its kept list, may refuse us: ask why once.
  // A socket refused before its welcome (a cap, a ban) is asked about again each time.
  const firstFailure = (!state.everConnected || state.restored) && state.attempt === 0;
  closeSocket();
  state.history = null;
  state.typingOn = false;
  setTypingNames([]);
  if (event?.code === CLOSE_POLICY) {
    // The room closed us for too many refused frames (a bug or a stuck client): say so
    // and come back slowly; "Reconnect now" is there for the impatient.
    state.refusal = `The room closed the connection (${event.reason || 'too many refused frames'})`;
    return scheduleReconnect(POLICY_RETRY_MS);
  }
  if (firstFailure || (!welcomed && state.refusal)) checkRefused(state.room, state.name);
  scheduleReconnect();
}

/** A refused WebSocket (HTTP 400, 403 or 429) looks like a network failure to the
 *  browser, so ask the same URL over plain HTTP: a bad room or name gets its 400 JSON
 *  error there too, a name claimed by someone else its 403 `name_taken` (the probe never
 *  claims), a ban its 403 `banned`, and a socket cap its 429 `too_many_sockets`. */
async function checkRefused(room, name) {
  try {
    const params = new URLSearchParams({ name });
    const response = await fetch(`/room/${encodeURIComponent(room)}?${params}`, { headers: authHeaders(name) });
    if (state.room !== room || state.welcomed) return;
    if (response.status === 429) {
      // Too many of our tabs, a full room, or too many connects: keep retrying, slowly,
      // and say why in the banner meanwhile.
      const { error } = await response.json().catch(() => ({}));
      if (state.room !== room || state.welcomed) return;
      state.refusal = error?.message || ERROR_MEANINGS[error?.code] || 'The room refused the connection for now';
      const wait = (Number(response.headers.get('retry-after')) || 0) * 1000;
      if (wait > 0 && state.reconnectAt - Date.now() < wait) scheduleReconnect(wait);
      else updateCountdown();
      return;
    }
    state.refusal = null;
    if (response.status !== 400 && response.status !== 403) return; // 403: a claimed name, or banned here
    const { error } = await response.json().catch(() => ({}));
    if (state.room !== room || state.welcomed) return;
    const field = ['invalid_name', 'name_taken'].includes(error?.code) ? el.nameInput : el.roomInput;
    showLanding({ room, error: error?.message || 'The server refused this room or name.', field });
  } catch { /* network trouble: keep retrying */ }
}

/** Exponential backoff (0.5 s doubling up to 15 s) with ±25 % jitter, or at least
 *  `atLeast` ms (a 1008 close, a server's Retry-After). */
function scheduleReconnect(atLeast = 0) {
  clearReconnect();
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** state.attempt);
  const jittered = base * (0.75 + Math.random() * 0.5);
  const delay = Math.max(atLeast, Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered))));
  state.attempt += 1;
  state.reconnectAt = Date.now() + delay;
  state.timers.reconnect = setTimeout(connect, delay);
  state.timers.countdown = setInterval(updateCountdown, 250);
  updateCountdown();
}

function updateCountdown() {
  const seconds = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
  const lead = state.refusal || (state.everConnected ? 'Connection lost' : `Cannot reach #${state.room}`);
  setBanner(`${lead} — reconnecting in ${seconds}s…`, true, `${lead}. Reconnecting soon.`);
}

function clearReconnect() {
  clearTimeout(state.timers.reconnect);
  clearInterval(state.timers.countdown);
}

/** Reconnects at once if a reconnect is pending (back online, tab visible again). */
function reconnectSoon() {
  if (state.view === 'chat' && !state.socket) connect();
}

/** Shows the connection banner with `text`, or hides it for null. Screen readers get
 *  `spoken` instead, so that a ticking countdown is not read out every second. */
function setBanner(text, canRetryNow = false, spoken = text) {
  el.connBanner.hidden = !text;
  // While disconnected the users list is only what we last knew: show it as such.
  el.users.classList.toggle('stale', Boolean(text));
  el.users.title = text ? 'As last seen; reconnecting…' : '';
  el.connText.textContent = text || '';
  if (el.connSpoken.textContent !== (spoken || '')) el.connSpoken.textContent = spoken || '';
  el.reconnectNow.hidden = !canRetryNow;
}

function startKeepAlive() {
  clearInterval(state.timers.ping);
  state.lastFrameAt = Date.now();
  state.timers.ping = setInterval(() => {
    if (Date.now() - state.lastFrameAt > DEAD_AFTER_MS) return onSocketLost();
    if (state.socket?.readyState === WebSocket.OPEN) state.socket.send('ping');
  }, PING_EVERY_MS);
}

/** Sends one JSON frame if the socket is open; returns whether it was sent. */
function sendFrame(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

// --- Incoming frames -------------------------------------------------------------------

const FRAME_HANDLERS = {
  welcome: onWelcome,
  message: (frame) => addMessage(frame.message, { live: true }),
  ack: onAck,
  user_joined: (frame) => onPresence(frame.user, 'joined'),
  user_left: (frame) => onPresence(frame.user, 'left'),
  user_status: onUserStatus,
  typing: (frame) => setTypingNames(frame.names),
  history: onHistory,
  update: onUpdateFrame,
  moderation: onModeration,
  read: onRead,
  thread: (frame) => onThread(frame),
  error: onErrorFrame,
  name_claimed: onNameClaimed,
  roles: onRoles,
};

function onFrame(data) {
  state.lastFrameAt = Date.now();
  if (typeof data !== 'string' || data === 'pong') return; // the keep-alive answer is not JSON
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
  const lastSeq = Number(frame.last_seq) || 0;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  // Without since= (or if the room went backwards, e.g. a wiped dev server) start over.
  const fresh = !state.usedSince || lastSeq < state.contiguousSeq;
  Object.assign(state, {
    welcomed: true, everConnected: true, attempt: 0, me: frame.you || state.me, refusal: null,
  });
  setBanner(null);
  startKeepAlive();
  // `creator` is what a server before owners and moderators sent.
  const wasRole = state.role;
  setRoles(frame.owner !== undefined ? frame.owner : frame.creator ?? null, frame.moderators, frame.role);
  if (state.role !== wasRole) refreshMessageActions(); // what we kept was decorated for the old role
  setUsers(frame.users);
  const stick = isNearBottom();
  if (fresh) {
    clearMessages();
    state.hasMoreOlder = state.usedSince ? lastSeq > 0 : Boolean(frame.has_more);
    state.contiguousSeq = messages.length ? messages[messages.length - 1].seq : lastSeq;
  }
  state.knownLastSeq = Math.max(state.knownLastSeq, lastSeq);
  for (const message of messages) addMessage(message);
  // Older messages that changed while we were away, as they are now.
  for (const message of Array.isArray(frame.updates) ? frame.updates : []) applyUpdate(message);
  state.rev = Number.isInteger(frame.rev) ? frame.rev : null;
  if (frame.updates_truncated) { // too much changed to patch: start over from the newest
    state.everConnected = false;
    return connect();
  }
  // With since=, has_more means more missed messages follow: fillGap fetches them.
  if (state.usedSince && frame.has_more) state.knownLastSeq = Math.max(state.knownLastSeq, state.contiguousSeq + 1);
  resendPending();
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

// --- Read state: a "new messages" divider, and the read position kept by the room ------

/** A read position moved: ours (another tab), or in a direct message the other name's. */
function onRead(frame) {
  const seq = Number(frame.seq) || 0;
  if (frame.name && key(frame.name) !== key(myName())) {
    state.peerReadSeq = Math.max(state.peerReadSeq ?? 0, seq);
    return renderSeen();
  }
  state.readSeq = Math.max(state.readSeq, seq);
}

/** Marks where the messages we have not read begin (none on a first visit). */
function showNewDivider(readSeq) {
  el.messages.querySelector('.new-divider')?.remove();
  if (!readSeq) return;
  const first = [...state.messages.keys()].filter((seq) => seq > readSeq && !isMine(state.messages.get(seq).message))
    .sort((a, b) => a - b)[0];
  if (first === undefined) return;
  const line = h('li', { class: 'system-line new-divider', 'data-after': first - 1, role: 'separator' },
    h('span', { text: 'New messages' }));
  placeBySeq(line, first - 0.5);
}

/** Tells the room we have read what is on screen, once the tab is visible and at the newest
 *  messages; at most every half second. */
function markReadSoon() {
  if (state.readTimer) return;
  state.readTimer = setTimeout(() => {
    state.readTimer = 0;
    if (document.hidden || !state.welcomed || !isNearBottom() || state.detached) return;
    const seq = state.contiguousSeq;
    if (seq > state.readSeq && sendFrame({ type: 'read', seq })) state.readSeq = seq;
  }, 500);
}

/** Adds one message, deduplicated and ordered by seq. A message with the client_id of one
 *  of our pending messages takes that pending entry's place. */
function addMessage(message, { live = false } = {}) {
  if (!Number.isInteger(message?.seq)) return;
  const seq = message.seq;
  state.knownLastSeq = Math.max(state.knownLastSeq, seq);
  const existing = state.messages.get(seq);
  if (existing) { // already shown (e.g. placed from its ack): refresh, never duplicate
    existing.message = message;
    return updateMessageEl(existing.el, message);
  }
  const stick = live && isNearBottom() && !state.detached; // after a jump, the live end is not on screen
  const pending = ownPending(message);
  const node = pending ? confirmPending(pending, message) : buildMessageEl(message);
  if (pending) decorate(node, message);
  placeBySeq(node, seq);
  onNewMessage(message);
  state.messages.set(seq, { message, el: node });
  state.minSeq = Math.min(state.minSeq, seq);
  state.maxSeq = Math.max(state.maxSeq, seq);
  while (state.messages.has(state.contiguousSeq + 1)) state.contiguousSeq += 1;
  if (!live) return;
  if (stick || pending) scrollToBottom();
  else el.jumpButton.hidden = false;
  if (!pending && !isMine(message)) notifyIncoming(message);
  else if (state.peerReadSeq) renderSeen();
  markReadSoon();
}

// --- Moderation: the owner and the moderators kick, ban, unban and delete -------------
// The owner also appoints and dismisses moderators. Nobody moderates a direct message.

const isModerator = () => !isDmRoom(state.room) && (state.role === 'owner' || state.role === 'moderator');
const isOwnerName = (name) => Boolean(state.owner) && key(name) === key(state.owner);
const isModeratorName = (name) => state.moderators.some((m) => key(m) === key(name));

/** Whether we may kick, ban or delete the messages of `name`: the owner anyone but
 *  themselves, a moderator anyone but the owner and the other moderators. */
function canModerate(name) {
  if (!isModerator() || key(name) === key(myName())) return false;
  return state.role === 'owner' || (!isOwnerName(name) && !isModeratorName(name));
}

/** Takes the room's roles (welcome, `roles` frame); our own role comes from the server's
 *  `role` when given, else from comparing folded names. */
function setRoles(owner, moderators, role) {
  state.owner = typeof owner === 'string' && owner ? owner : null;
  state.moderators = (Array.isArray(moderators) ? moderators : []).filter((m) => typeof m === 'string');
  const me = key(myName());
  const derived = state.owner && key(state.owner) === me ? 'owner' : state.moderators.some((m) => key(m) === me) ? 'moderator' : null;
  state.role = role === 'owner' || role === 'moderator' || role === null ? role : derived;
  if (isDmRoom(state.room)) state.role = null;
  renderRoles();
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
  renderUsers();
}

/** The roles line of the people panel, the owner's "Edit", and the controls that depend on them. */
function renderRoles() {
  const parts = [];
  if (state.owner) parts.push(`Owner: ${state.owner}`);
  if (state.moderators.length) parts.push(`${state.moderators.length === 1 ? 'Moderator' : 'Moderators'}: ${state.moderators.join(', ')}`);
  el.roomRoles.textContent = parts.join(' · ');
  el.roomRoles.hidden = parts.length === 0;
  updateRoomEdit();
}

/** Rebuilds the actions of every message shown, after our role changed. */
function refreshMessageActions() {
  for (const { message, el: node } of state.messages.values()) decorate(node, message);
}

function appoint(name) {
  sendFrame({ type: 'appoint', name });
}

function dismiss(name) {
  sendFrame({ type: 'dismiss', name });
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
      onclick: (event) => { event.currentTarget.remove(); sendFrame({ type: 'unban', name: frame.name }); },
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

function kick(name) {
  sendFrame({ type: 'kick', name });
}

function ban(name) {
  const minutes = Number(window.prompt(`Ban ${name} from #${state.room} for how many minutes?`, '60'));
  if (!Number.isInteger(minutes) || minutes < 1) return;
  const reason = (window.prompt('Reason (optional, everyone sees it):', '') || '').trim();
  sendFrame({ type: 'ban', name, minutes, ...(reason ? { reason } : {}) });
}

/** A message changed (edited, deleted, reacted to, replied to): show it as it is now. */
function onUpdateFrame(frame) {
  if (!frame.message || !Number.isInteger(frame.message.seq)) return;
  if (Number.isInteger(frame.rev)) state.rev = Math.max(state.rev ?? 0, frame.rev);
  keepBottom(() => applyUpdate(withMyReactions(frame, state.messages.get(frame.message.seq)?.message)));
}

function applyUpdate(message) {
  const entry = state.messages.get(message.seq);
  if (entry) {
    entry.message = message;
    updateMessageEl(entry.el, message);
  }
  onUpdate(message);
}

/** Scrolls to a message shown in the list and flashes it; false if it is not shown. */
function scrollToSeq(seq) {
  const entry = state.messages.get(seq);
  if (!entry) return false;
  entry.el.scrollIntoView({ block: 'center' });
  entry.el.classList.remove('flash');
  void entry.el.offsetWidth; // restart the animation
  entry.el.classList.add('flash');
  return true;
}

function onAck(frame) {
  const pending = state.pending.get(frame.client_id);
  if (!pending || !Number.isInteger(frame.seq)) return; // already confirmed by its broadcast
  if (state.messages.has(frame.seq)) return dropPending(pending); // a repeat: the original is shown
  // The ack came before the broadcast: confirm now; the broadcast will only refresh it.
  addMessage({
    seq: frame.seq, room: state.room, name: myName(), text: pending.text,
    ts: Date.now(), client_id: pending.clientId, reply_to: pending.replyTo ?? null,
  });
}

function onPresence(user, change) {
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
function onUserStatus({ user }) {
  upsertUser(user);
  if (user?.name && key(user.name) === key(myName()) && STATUS_LABELS[user.status]) {
    state.status = user.status;
    showMyStatus();
  }
}

function onErrorFrame(frame) {
  const pending = frame.client_id ? state.pending.get(frame.client_id) : null;
  if (pending) return onPendingError(pending, frame);
  if (onChangeError(frame)) return;
  // An `internal` about a message already shown: the room has it and broadcast it, and
  // keeps retrying its write to the history database; only its ack is late.
  if (frame.client_id && frame.code === 'internal' && isShown(frame.client_id)) return;
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

function isShown(clientId) {
  for (const { message } of state.messages.values()) if (message.client_id === clientId) return true;
  return false;
}

// --- History: older pages on scroll, missed pages after a reconnect --------------------

function requestHistory(dir, cursor, limit) {
  if (state.history || !state.welcomed) return;
  state.history = { dir, cursor };
  sendFrame({ type: 'history', [dir]: cursor, limit });
  updateHistoryStatus();
}

/** Fetches missed messages after the last contiguous seq, a page at a time. Away from the
 *  live end (after a jump), only when the bottom of what is shown is (nearly) in view. */
function fillGap() {
  if (state.detached && state.contiguousSeq >= state.knownLastSeq) setDetached(false);
  if (state.detached && !isNearBottom()) return;
  if (state.contiguousSeq < state.knownLastSeq) requestHistory('after', state.contiguousSeq, CATCHUP_PAGE);
}

/** Asks for an older page when the top of the history is (nearly) in view. */
function maybeLoadOlder() {
  if (!state.hasMoreOlder || state.history || !state.welcomed || el.scroller.scrollTop > LOAD_OLDER_PX) return;
  const before = Number.isFinite(state.minSeq) ? state.minSeq : state.knownLastSeq + 1;
  if (before > 1) return requestHistory('before', before, PAGE_SIZE);
  state.hasMoreOlder = false;
  updateHistoryStatus();
}

function onHistory(frame) {
  const request = state.history;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  // Answers carry no request id: one that does not fit the request in flight is a late
  // answer to an abandoned one. Its messages are still good; keep waiting for ours.
  const fits = request && (!messages.length || (request.dir === 'before'
    ? messages[messages.length - 1].seq < request.cursor : messages[0].seq > request.cursor));
  if (!fits) {
    messages.forEach((message) => addMessage(message));
    return continueJump();
  }
  state.history = null;
  if (request.dir === 'before') {
    const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    for (const message of messages) addMessage(message);
    state.hasMoreOlder = Boolean(frame.has_more) && messages.length > 0;
    el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom; // keep the view still
  } else {
    const stick = isNearBottom();
    const reached = state.contiguousSeq;
    for (const message of messages) addMessage(message);
    if (state.contiguousSeq === reached) state.knownLastSeq = reached; // no progress: stop
    else if (frame.has_more) state.knownLastSeq = Math.max(state.knownLastSeq, state.contiguousSeq + 1);
    if (stick && !state.detached) scrollToBottom();
  }
  continueJump();
  updateHistoryStatus();
  fillGap();
  maybeLoadOlder();
}

function updateHistoryStatus() {
  let text = '';
  if (state.history?.dir === 'before') text = 'Loading older messages…';
  else if (state.everConnected && !state.hasMoreOlder) text = `This is the beginning of #${state.room}.`;
  el.historyStatus.textContent = text;
}

// --- Message list ----------------------------------------------------------------------

/** Sort order in the list: messages by seq, a system line after the seq it followed, pending last. */
function sortKey(node) {
  if (node.dataset.seq) return Number(node.dataset.seq);
  if (node.classList.contains('system-line')) return Number(node.dataset.after) + 0.5;
  return Infinity;
}

function placeBySeq(node, seq) {
  const list = el.messages;
  if (seq < state.minSeq) { // older than everything shown: walk from the top
    let next = list.firstElementChild;
    while (next && sortKey(next) < seq) next = next.nextElementSibling;
    list.insertBefore(node, next);
  } else { // usually the newest: walk from the bottom
    let prev = list.lastElementChild;
    while (prev && sortKey(prev) > seq) prev = prev.previousElementSibling;
    if (prev) prev.after(node); else list.prepend(node);
  }
  refreshAround(node);
}

/** Builds a message element from a Message (seq may be absent for a pending one). */
function buildMessageEl(message) {
  const { seq, name, text, ts, client_id: clientId } = message;
  const node = h('li', {
    class: 'message', 'data-seq': seq, 'data-client-id': clientId ?? '', 'data-author': key(name), 'data-ts': ts,
  },
  avatar(name),
  h('div', { class: 'message-body' },
    h('div', { class: 'message-meta' }, h('span', { class: 'message-name', text: name }), ' ', timeEl(ts)),
    textEl(text)));
  node.style.setProperty('--hue', String(nameHue(name)));
  if (key(name) === key(myName())) node.classList.add('own');
  else if (mentionsMe(text)) node.classList.add('mention');
  decorate(node, message);
  return node;
}

/** Refreshes a message element from the server's copy: time, text if it differs, and the
 *  marks of changes. An edit box stays open unless its edit was saved or the text changed. */
function updateMessageEl(node, message) {
  setMessageTime(node, message.ts);
  const editing = node.querySelector('.edit-form');
  const text = editing || node.querySelector('.message-text');
  const stale = editing ? editing.classList.contains('saving') || message.text !== editing.dataset.raw
    : text.dataset.raw !== message.text;
  if (stale || message.deleted) text.replaceWith(textEl(message.text));
  if (!isMine(message)) node.classList.toggle('mention', !message.deleted && mentionsMe(message.text));
  decorate(node, message);
  refreshAround(node);
}

function setMessageTime(node, ts) {
  node.dataset.ts = String(ts);
  node.querySelector('.message-time').replaceWith(timeEl(ts));
}

/**
 * Message text as markdown-lite: ```code blocks```, `code`, *bold*, _italic_ and http(s)
 * links. Built from text nodes and a few elements only, so no markup in a message can ever
 * reach the page as HTML.
 */
function textEl(text) {
  const node = h('div', { class: 'message-text' });
  node.dataset.raw = text;
  let last = 0;
  for (const match of text.matchAll(CODE_BLOCK_RE)) {
    appendInline(node, text.slice(last, match.index));
    node.append(h('pre', { class: 'message-code' }, h('code', { text: match[1].replace(/\n$/, '') })));
    last = match.index + match[0].length;
    // The block ends its line already.
    if (text[last] === '\n') last += 1;
  }
  appendInline(node, text.slice(last));
  return node;
}

/** ```optional-language⏎ ... ``` */
const CODE_BLOCK_RE = /```(?:[^\n`]*\n)?([\s\S]*?)```/g;
/** `code`, *bold* and _italic_: markers hug their text and do not sit inside words. */
const INLINE_RE = /`([^`\n]+)`|(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g;

function appendInline(parent, text) {
  let last = 0;
  for (const match of text.matchAll(INLINE_RE)) {
    appendLinks(parent, text.slice(last, match.index));
    const [, code, bold, italic] = match;
    if (code !== undefined) parent.append(h('code', { text: code }));
    else {
      const el = h(bold !== undefined ? 'strong' : 'em');
      appendInline(el, bold ?? italic);
      parent.append(el);
    }
    last = match.index + match[0].length;
  }
  appendLinks(parent, text.slice(last));
}

/** Plain text with its http(s) links made clickable and its @mentions marked. */
function appendLinks(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(/[.,;:!?)\]}*_]+$/, '');
    appendMentions(parent, text.slice(last, match.index));
    parent.append(h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', text: url }));
    last = match.index + url.length;
  }
  appendMentions(parent, text.slice(last));
}

/** `@name`: an @ not inside a word, then the name up to a space (names with spaces match
 *  by their first word). */
const MENTION_RE = /(?<![\w@])@([^\s@]{1,32})/g;
const trimMention = (name) => name.replace(/[.,;:!?)\]}'"]+$/, '');

function mentionsMe(text) {
  const me = key(myName());
  const first = me.split(/\s/)[0];
  for (const match of text.matchAll(MENTION_RE)) {
    const who = key(trimMention(match[1]));
    if (who === me || who === first) return true;
  }
  return false;
}

function appendMentions(parent, text) {
  let last = 0;
  const me = key(myName());
  for (const match of text.matchAll(MENTION_RE)) {
    const name = trimMention(match[1]);
    const tag = `@${name}`;
    const mine = key(name) === me || key(name) === me.split(/\s/)[0];
    parent.append(text.slice(last, match.index), h('span', { class: mine ? 'mention-tag me' : 'mention-tag', text: tag }));
    last = match.index + tag.length;
  }
  parent.append(text.slice(last));
}

function refreshAround(node) {
  refreshGrouping(node);
  if (node.nextElementSibling) refreshGrouping(node.nextElementSibling);
}

/** Removes a list item, regrouping the one that followed it. */
function detach(node) {
  const next = node.nextElementSibling;
  node.remove();
  if (next) refreshGrouping(next);
}

/** Groups consecutive messages of one author and marks the first message of each day. */
function refreshGrouping(node) {
  if (!node.classList.contains('message')) return;
  const ts = Number(node.dataset.ts);
  const prev = node.previousElementSibling;
  let prevMessage = prev;
  while (prevMessage && !prevMessage.classList.contains('message')) prevMessage = prevMessage.previousElementSibling;
  const newDay = !prevMessage || dayKey(Number(prevMessage.dataset.ts)) !== dayKey(ts);
  const grouped = !newDay && prev === prevMessage && !prev.classList.contains('failed')
    && prev.dataset.author === node.dataset.author && ts - Number(prev.dataset.ts) < GROUP_WINDOW_MS;
  node.classList.toggle('grouped', grouped);
  node.classList.toggle('day-start', newDay);
  if (newDay) node.dataset.day = dayLabel(ts); else delete node.dataset.day;
}

function addSystemLine(text) {
  const line = h('li', { class: 'system-line', 'data-after': state.maxSeq },
    h('span', { text }), ' ', timeEl(Date.now(), 'system-time'));
  keepBottom(() => placeBySeq(line, state.maxSeq + 0.5));
}

function isNearBottom() {
  const { scrollHeight, scrollTop, clientHeight } = el.scroller;
  return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
  el.jumpButton.hidden = true;
}

/** Runs a layout change; if the history was scrolled to the bottom, it stays there. */
function keepBottom(change) {
  const stick = isNearBottom();
  change();
  if (stick) scrollToBottom();
}

function onScroll() {
  if (isNearBottom() && !state.detached) { el.jumpButton.hidden = true; markReadSoon(); }
  maybeLoadOlder();
  if (state.detached) fillGap();
}

/** Announces a new message to screen readers and counts it while the tab is hidden. */
function notifyIncoming(message) {
  const text = message.text.length > 200 ? `${message.text.slice(0, 200)}…` : message.text;
  el.announcer.textContent = `${message.name}: ${text}`;
  if (document.hidden) {
    state.unread += 1;
    updateTitle();
    if (state.status !== 'dnd' && mentionsMe(message.text)) notifyMention(message, text);
  }
}

// --- Browser notifications for mentions (permission asked on a click, never on load) ---

const notificationsSupported = () => typeof Notification === 'function';

function showNotifyButton() {
  el.notifyButton.hidden = !(notificationsSupported() && Notification.permission === 'default');
}

async function askNotificationPermission() {
  if (!notificationsSupported()) return;
  try {
    await Notification.requestPermission();
  } catch {
    // An old browser with the callback form only: nothing to do but hide the button.
  }
  showNotifyButton();
  if (Notification.permission === 'denied') toast('Notifications are blocked for this site in the browser settings.');
}

function notifyMention(message, text) {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(`${message.name} mentioned you in #${state.room}`, { body: text, tag: `edgechat-${state.room}` });
    n.onclick = () => { window.focus(); n.close(); };
  } catch {
    // Some browsers only allow notifications from a service worker; the title count stays.
  }
}

// --- Sending, pending messages and their errors ----------------------------------------

function textProblem(text) {
  const length = codePoints(text);
  if (length > MAX_TEXT) return `Messages are limited to ${MAX_TEXT} characters (this one has ${length}).`;
  const frame = JSON.stringify({ type: 'send', text, client_id: newClientId() });
  if (new TextEncoder().encode(frame).length > MAX_FRAME_BYTES) return ERROR_MEANINGS.too_large;
  return null;
}

function sendMessage() {
  const text = el.messageInput.value.trim();
  if (!text) return;
  if (!sendText(text, replyTarget())) return;
  setReplyTo(null);
  el.messageInput.value = '';
  onComposerInput(); // resets height and counter, and sends typing off
  scrollToBottom();
}

/** Sends a message (an answer to `replyTo` if given); its client_id, or null if refused here. */
function sendText(text, replyTo = null, attachment = null) {
  const problem = textProblem(text);
  if (problem) { toast(problem); return null; }
  if (state.detached) backToLatest(); // a message sent goes to the live end: show it
  const pending = {
    clientId: newClientId(), text, replyTo, attachment, status: 'pending', el: null, waiting: false, limited: false,
  };
  pending.el = buildMessageEl({
    name: myName(), text, ts: Date.now(), client_id: pending.clientId, reply_to: replyTo ?? null,
  });
  pending.el.querySelector('.message-body').append(h('span', { class: 'message-state', role: 'img' }));
  setPendingStatus(pending, 'pending');
  state.pending.set(pending.clientId, pending);
  el.messages.append(pending.el);
  refreshAround(pending.el);
  transmit(pending);
  return pending.clientId;
}

/** Sends a pending message unless disconnected (the next welcome sends it) or held back
 *  by rate limiting (flushWaiting sends it later, so that messages keep their order). */
function transmit(pending) {
  pending.waiting = !state.welcomed || Date.now() < state.holdUntil || olderIsRetrying(pending);
  if (pending.waiting) return;
  const frame = { type: 'send', text: pending.text, client_id: pending.clientId };
  if (pending.replyTo !== null) frame.reply_to = pending.replyTo;
  if (pending.attachment) frame.attachment = pending.attachment;
  sendFrame(frame);
}

/** Whether an older pending message, refused as rate limited, is still unconfirmed. */
function olderIsRetrying(pending) {
  for (const other of state.pending.values()) {
    if (other === pending) return false;
    if (other.limited && other.status === 'pending') return true;
  }
  return false;
}

/** Sends the waiting pending messages, oldest first (a Map keeps insertion order). */
function flushWaiting() {
  for (const pending of state.pending.values()) {
    if (pending.status !== 'pending' || !pending.waiting) continue;
    setPendingNote(pending, null);
    transmit(pending);
  }
}

/** After a welcome: everything not yet acked goes again, with the same client_id. */
function resendPending() {
  for (const pending of state.pending.values()) pending.waiting = true;
  flushWaiting();
}

function ownPending(message) {
  const pending = message.client_id ? state.pending.get(message.client_id) : null;
  return pending && isMine(message) ? pending : null;
}

/** Turns a pending element into the confirmed message; returns it detached from the list. */
function confirmPending(pending, message) {
  const node = pending.el;
  dropPending(pending);
  node.classList.remove('pending', 'failed');
  node.dataset.seq = String(message.seq);
  for (const extra of node.querySelectorAll('.message-state, .message-error, .message-note')) extra.remove();
  setMessageTime(node, message.ts);
  return node;
}

function dropPending(pending) {
  state.pending.delete(pending.clientId);
  detach(pending.el);
  if (pending.limited) flushWaiting(); // it may have held others back
}

/** 'pending' (greyed, clock) or 'failed' (red, with actions). */
function setPendingStatus(pending, status) {
  pending.status = status;
  pending.el.classList.toggle('pending', status === 'pending');
  pending.el.classList.toggle('failed', status === 'failed');
  const label = status === 'pending' ? 'Sending…' : 'Not sent';
  pending.el.querySelector('.message-state').setAttribute('aria-label', label);
  pending.el.querySelector('.message-state').title = label;
  pending.el.querySelector('.message-error')?.remove();
}

function onPendingError(pending, frame) {
  if (frame.code !== 'rate_limited') return markFailed(pending, frame.code, frame.message);
  // Rate limited: hold all sending, then send this client_id again (and those held back).
  const delay = Math.max(100, Number(frame.retry_after_ms) || 1000);
  Object.assign(pending, { waiting: true, limited: true });
  setPendingNote(pending, `Sending too fast — retrying in ${Math.ceil(delay / 1000)}s…`);
  state.holdUntil = Math.max(state.holdUntil, Date.now() + delay);
  clearTimeout(state.timers.hold);
  state.timers.hold = setTimeout(flushWaiting, state.holdUntil - Date.now() + 10);
}

/** A small note under a pending message (e.g. about rate limiting), or none for null. */
function setPendingNote(pending, text) {
  keepBottom(() => {
    pending.el.querySelector('.message-note')?.remove();
    if (text) pending.el.querySelector('.message-body').append(h('div', { class: 'message-note', text }));
  });
}

function markFailed(pending, code, serverMessage) {
  setPendingNote(pending, null);
  setPendingStatus(pending, 'failed');
  // Refused text can only be fixed, not retried as is; other failures may be retried.
  const fixable = code === 'invalid_text' || code === 'too_large';
  const action = fixable
    ? h('button', { type: 'button', class: 'link', text: 'Edit', onclick: () => editFailed(pending) })
    : h('button', { type: 'button', class: 'link', text: 'Retry', onclick: () => retryFailed(pending) });
  const dismiss = h('button', {
    type: 'button', class: 'link', text: 'Dismiss', onclick: () => { dropPending(pending); el.messageInput.focus(); },
  });
  const reason = `Not sent: ${ERROR_MEANINGS[code] || serverMessage || 'unknown error.'}`;
  const error = h('div', { class: 'message-error', role: 'alert', title: serverMessage || null },
    h('span', { text: reason }), action, dismiss);
  keepBottom(() => pending.el.querySelector('.message-body').append(error));
  refreshAround(pending.el);
  if (pending.limited) flushWaiting(); // it no longer holds the others back
}

function retryFailed(pending) {
  setPendingStatus(pending, 'pending');
  transmit(pending);
  el.messageInput.focus();
}

/** Puts a refused message's text back into the composer so it can be fixed. */
function editFailed(pending) {
  if (!el.messageInput.value.trim()) el.messageInput.value = pending.text;
  dropPending(pending);
  el.messageInput.focus();
  onComposerInput();
}

// --- Composer: Enter sends, Shift+Enter breaks the line, typing notifications ---------

function onComposerKeydown(event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  sendMessage();
}

function onComposerInput() {
  autoGrow();
  updateCounter();
  if (!el.messageInput.value.trim()) return stopTyping();
  const now = Date.now();
  if (now - state.lastTypingSent >= TYPING_THROTTLE_MS && sendFrame({ type: 'typing', on: true })) {
    Object.assign(state, { lastTypingSent: now, typingOn: true });
  }
}

function stopTyping() {
  if (!state.typingOn) return;
  Object.assign(state, { typingOn: false, lastTypingSent: 0 });
  sendFrame({ type: 'typing', on: false });
}

/** Fits the textarea to its text (CSS caps it), keeping the history pinned to the bottom. */
function autoGrow() {
  const input = el.messageInput;
  keepBottom(() => {
    input.style.height = 'auto';
    input.style.height = `${input.scrollHeight + 2}px`;
  });
}

function updateCounter() {
  const length = codePoints(el.messageInput.value.trim());
  const show = length >= COUNTER_FROM;
  el.charCounter.hidden = !show;
  el.charCounter.textContent = show ? `${length} / ${MAX_TEXT}` : '';
  el.charCounter.classList.toggle('over', length > MAX_TEXT);
  el.sendButton.disabled = length === 0 || length > MAX_TEXT;
}

function setTypingNames(names) {
  const me = key(myName());
  state.typingNames = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && key(n) !== me);
  renderTyping();
}

function renderTyping() {
  const names = state.typingNames;
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = 'several people are typing…';
  el.typing.textContent = text;
  el.typing.classList.toggle('several', names.length > 2); // capitalised by CSS
}

// --- Users and presence ----------------------------------------------------------------

function setUsers(users) {
  const list = (Array.isArray(users) ? users : []).filter((user) => user?.name);
  state.users = new Map(list.map((user) => [key(user.name), user]));
  renderUsers();
}

function upsertUser(user) {
  if (!user?.name) return;
  state.users.set(key(user.name), user);
  renderUsers();
}

/** The users list: ourselves first, then by name. */
function renderUsers() {
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

/** Changes our presence: tells the room, and shows it (the server only tells the others). */
function setMyStatus(status) {
  if (!STATUS_LABELS[status]) return;
  state.status = status;
  showMyStatus();
  sendFrame({ type: 'status', status });
  if (state.me) upsertUser({ ...state.me, status });
}

function showMyStatus() {
  el.statusSelect.value = state.status;
  el.statusPicker.dataset.status = state.status;
}

/** "Release name": first says what releasing gives up, and asks. */
function onReleaseName() {
  el.releaseName.textContent = myName();
  el.releaseDialog.returnValue = '';
  el.releaseDialog.showModal();
  el.releaseCancel.focus(); // the safe choice is the default one
}

/** Confirmed: gives the name up, then back to the join form. */
async function releaseConfirmed() {
  const name = myName();
  el.releaseDialog.close('release');
  navigate(''); // leave first: nobody should find the name free while we still use it
  const { ok, message } = await releaseName(name);
  if (!ok) return showFormError(message, el.nameInput);
  el.formNotice.textContent = message;
  el.formNotice.hidden = false;
  el.nameInput.focus();
}

function toggleUsers(open = !el.usersPanel.classList.contains('open')) {
  el.usersPanel.classList.toggle('open', open);
  el.usersToggle.setAttribute('aria-expanded', String(open));
  if (open) el.usersPanel.focus();
}

function closeUsers() {
  toggleUsers(false);
  el.usersToggle.focus();
}

// --- Jumping to a message (search results: see search.js) ------------------------------

const JUMP_CONTEXT = 20; // messages loaded above the one jumped to

/** Shows message `seq` of `room` among its neighbours, highlighted; opens the room first
 *  if needed (the jump then continues after the welcome). */
function jumpToMessage(room, seq) {
  if (!ROOM_RE.test(room) || !Number.isInteger(seq) || seq < 1) return;
  state.jump = { room, seq, loading: false };
  if (state.view === 'chat' && state.room === room) continueJump();
  else navigate(room);
}

/** Moves a jump on: shows the target once it is on screen, or loads the page around it. */
function continueJump() {
  const jump = state.jump;
  if (!jump || jump.room !== state.room || !state.welcomed) return;
  if (state.messages.has(jump.seq)) return showJumpTarget(jump.seq);
  if (state.history) return; // a request is in flight: go on when it is answered
  if (jump.loading) { // the page around it came without it
    state.jump = null;
    return toast('That message is not in the history any more.');
  }
  jump.loading = true;
  const { knownLastSeq } = state;
  const after = Math.max(0, jump.seq - JUMP_CONTEXT - 1);
  clearMessages();
  Object.assign(state, { knownLastSeq, contiguousSeq: after, hasMoreOlder: after > 0 });
  setDetached(true);
  requestHistory('after', after, PAGE_SIZE);
}

function showJumpTarget(seq) {
  state.jump = null;
  for (const node of el.messages.querySelectorAll('.jump-target')) node.classList.remove('jump-target');
  const node = state.messages.get(seq).el;
  node.classList.add('jump-target');
  node.scrollIntoView({ block: 'center' });
  if (!isNearBottom() && state.maxSeq > seq) el.jumpButton.hidden = false;
}

/** Away from the live end, the jump button brings the newest messages back. */
function setDetached(detached) {
  state.detached = detached;
  el.jumpButton.textContent = detached ? 'Latest messages ↓' : 'New messages ↓';
  el.jumpButton.hidden = !detached;
}

function backToLatest() {
  const { knownLastSeq } = state;
  const after = Math.max(0, knownLastSeq - PAGE_SIZE);
  clearMessages();
  Object.assign(state, { knownLastSeq, contiguousSeq: after, hasMoreOlder: after > 0 });
  requestHistory('after', after, PAGE_SIZE);
}

// --- Toasts ----------------------------------------------------------------------------

/** A passing note; `kind` 'error' (the default) or 'info'; `ms` how long it stays. */
function toast(text, kind = 'error', ms = 6000) {
  if ([...el.toasts.children].some((t) => t.dataset.text === text)) return; // no repeats
  const node = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-text': text },
    h('span', { text }),
    h('button', { type: 'button', class: 'ghost icon', 'aria-label': 'Dismiss', text: '×', onclick: () => node.remove() }));
  el.toasts.append(node);
  setTimeout(() => node.remove(), ms);
}

// --- Wiring ----------------------------------------------------------------------------

function onVisibilityChange() {
  if (document.hidden) return;
  state.unread = 0;
  updateTitle();
  reconnectSoon();
  markReadSoon();
}

function init() {
  el.joinForm.addEventListener('submit', (event) => { event.preventDefault(); tryJoin(); });
  el.roomsRefresh.addEventListener('click', loadRooms);
  el.leaveButton.addEventListener('click', () => navigate(''));
  el.reconnectNow.addEventListener('click', () => { state.attempt = 0; connect(); });
  el.statusSelect.addEventListener('change', () => setMyStatus(el.statusSelect.value));
  el.usersToggle.addEventListener('click', () => toggleUsers());
  el.notifyButton.addEventListener('click', askNotificationPermission);
  el.releaseButton.addEventListener('click', onReleaseName);
  el.releaseCancel.addEventListener('click', () => el.releaseDialog.close('cancel'));
  el.releaseConfirm.addEventListener('click', releaseConfirmed);
  el.releaseDialog.addEventListener('close', () => { if (el.releaseDialog.returnValue !== 'release') el.releaseButton.focus(); });
  el.dmLeaveButton.addEventListener('click', () => { if (isDmRoom(state.room)) leaveDm(state.room); });
  showNotifyButton();
  el.usersClose.addEventListener('click', closeUsers);
  el.usersPanel.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeUsers(); });
  document.addEventListener('click', (event) => { // a click outside closes the phone drawer
    if (el.usersPanel.classList.contains('open') && !el.usersPanel.contains(event.target)
      && !el.usersToggle.contains(event.target)) toggleUsers(false);
  });
  el.scroller.addEventListener('scroll', onScroll, { passive: true });
  el.jumpButton.addEventListener('click', () => {
    if (state.detached) backToLatest(); else scrollToBottom();
    el.messageInput.focus();
  });
  el.composer.addEventListener('submit', (event) => { event.preventDefault(); sendMessage(); el.messageInput.focus(); });
  el.messageInput.addEventListener('keydown', onComposerKeydown);
  el.messageInput.addEventListener('input', onComposerInput);
  el.messageInput.addEventListener('blur', () => { if (!el.messageInput.value.trim()) stopTyping(); });
  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);
  window.addEventListener('online', reconnectSoon);
  document.addEventListener('visibilitychange', onVisibilityChange);
  initChanges({
    state, el, h, sendFrame, newClientId, key, myName, textEl, timeEl, fullDate, toast, scrollToSeq, sendText,
    canModerate, attachmentEl,
  });
  initAttachments({ state, el, h, myName, toast, sendText, replyTarget, setReplyTo });
  initDms({ state, el, h, key, myName, toast, navigate, relativeTime, onLeftDm });
  initRooms({ state, el, h, myName, toast, navigate, onLeaveOpenRoom, setName: saveName, nameError, cleanName });
  route();
}

init();

// What search.js uses.
export { state, h, timeEl, fullDate, toast, jumpToMessage };
