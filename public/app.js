// edgechat web client.
//
// Two views: the landing page (pick a name and a room) and the chat view, which talks
// to the room's Durable Object over one WebSocket. The wire contract lives in
// PROTOCOL.md; the frames handled here are welcome, message, ack, user_joined,
// user_left, user_status, typing, history and error.
//
// Rule of the house: user text only ever reaches the DOM through textContent or text
// nodes (see `h`), never through innerHTML.

// ---------------------------------------------------------------------------
// Constants

const MAX_TEXT = 4000;              // code points, after trimming
const COUNTER_FROM = 3500;          // show the counter once the text gets this long
const MAX_FRAME_BYTES = 16 * 1024;  // server refuses bigger frames with too_large
const PAGE_SIZE = 50;               // older history, per request
const CATCHUP_PAGE = 100;           // missed messages after a reconnect, per request
const TYPING_THROTTLE_MS = 2500;
const PING_EVERY_MS = 30_000;
const DEAD_AFTER_MS = 75_000;       // no frame at all for this long: the socket is dead
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const GAP_CHECK_MS = 1000;          // grace period before fetching a seq gap
const GROUP_WINDOW_MS = 5 * 60_000; // same author within 5 min: one group
const AUTO_AWAY_MS = 5 * 60_000;    // tab hidden this long: status becomes away
const LOAD_OLDER_PX = 120;          // distance from the top that triggers older history
const NEAR_BOTTOM_PX = 80;
const NAME_KEY = 'edgechat.name';

const ROOM_RE = /^[a-z0-9_-]{1,64}$/;
// Control characters (C0, C1) and invisible format characters (zero-width, bidi).
const BAD_NAME_RE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/u;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;

const STATUS_LABELS = { online: 'Online', away: 'Away', dnd: 'Do not disturb' };

// What each error code means to a person.
const ERROR_MEANINGS = {
  bad_frame: 'The server did not understand that request.',
  too_large: 'This message is too large to send.',
  invalid_text: 'Messages must be 1 to 4000 characters long.',
  rate_limited: 'You are sending too fast.',
  not_found: 'That message does not exist in this room.',
  internal: 'The server hit an error. Please try again.',
};

// ---------------------------------------------------------------------------
// State (one room at a time). Exposed as window.edgechat.state for debugging.

const state = {
  name: loadName(),
  status: 'online',      // chosen presence, kept across rooms and reconnects
  autoAway: false,       // status was set to away by the idle timer
  view: null,            // 'landing' | 'chat'
  room: null,
  me: null,              // User from the welcome
  socket: null,
  welcomed: false,       // the current socket has received its welcome
  everConnected: false,  // this room has had at least one welcome (so reconnects use since=)
  usedSince: false,      // the current socket was opened with since=
  attempt: 0,            // reconnect attempts since the last welcome
  reconnectAt: 0,
  timers: { reconnect: 0, countdown: 0, ping: 0, gap: 0, away: 0 },
  lastFrameAt: 0,
  messages: new Map(),   // seq -> { message, el }
  minSeq: Infinity,      // oldest seq on screen
  maxSeq: 0,             // newest seq on screen
  contiguousSeq: 0,      // every seq from minSeq up to this one is on screen
  knownLastSeq: 0,       // highest seq the room is known to have
  hasMoreOlder: false,
  history: null,         // the one history request in flight: { dir, cursor, limit, retry }
  pending: new Map(),    // client_id -> { clientId, text, status: 'pending'|'failed', el, retry }
  users: new Map(),      // lowercased name -> User
  typingNames: [],
  typingOn: false,
  lastTypingSent: 0,
  statusSentAt: 0,
  unread: 0,
};

window.edgechat = { state };

// ---------------------------------------------------------------------------
// DOM

const $ = (id) => document.getElementById(id);
const el = {
  landing: $('landing'), joinForm: $('join-form'), nameInput: $('name-input'),
  roomInput: $('room-input'), formError: $('form-error'), roomsList: $('rooms-list'),
  roomsStatus: $('rooms-status'), roomsRefresh: $('rooms-refresh'),
  chat: $('chat'), roomTitle: $('room-title'), leaveButton: $('leave-button'),
  statusPicker: $('status-picker'), statusSelect: $('status-select'),
  usersToggle: $('users-toggle'), usersCount: $('users-count'), usersPanel: $('users-panel'),
  usersClose: $('users-close'), users: $('users'),
  connBanner: $('conn-banner'), connText: $('conn-text'), reconnectNow: $('reconnect-now'),
  scroller: $('scroller'), historyStatus: $('history-status'), messages: $('messages'),
  jumpButton: $('jump-button'), typing: $('typing'),
  composer: $('composer'), messageInput: $('message-input'), charCounter: $('char-counter'),
  sendButton: $('send-button'), announcer: $('announcer'), toasts: $('toasts'),
};

/**
 * Creates an element. `attrs` may hold `class`, `text` (textContent), `on<event>`
 * handlers and plain attributes (null/false are skipped). Children may be nodes or
 * strings; strings become text nodes, so user text is never parsed as HTML.
 */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// ---------------------------------------------------------------------------
// Small helpers

const key = (name) => String(name).toLowerCase();
const codePoints = (text) => [...text].length;
const myName = () => state.me?.name || state.name;
const isMine = (message) => key(message.name) === key(myName());

function loadName() {
  try { return localStorage.getItem(NAME_KEY) || ''; } catch { return ''; }
}

function saveName(name) {
  state.name = name;
  try { localStorage.setItem(NAME_KEY, name); } catch { /* private mode: keep it in memory */ }
}

function normalizeRoom(raw) {
  return String(raw).trim().replace(/^#/, '').toLowerCase();
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
  // randomUUID needs a secure context; fall back to 128 random bits in hex.
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A stable hue (0-359) for a name, so each person keeps their colour. */
function nameHue(name) {
  let hash = 2166136261; // FNV-1a
  for (const ch of key(name)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0) % 360;
}

function initials(name) {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]].map((w) => [...w][0]) : [...(words[0] || '?')].slice(0, 1);
  return letters.join('').toUpperCase();
}

function avatar(name, size = '') {
  const node = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true', text: initials(name) });
  node.style.setProperty('--hue', String(nameHue(name)));
  return node;
}

// ---------------------------------------------------------------------------
// Dates

const pad2 = (n) => String(n).padStart(2, '0');
const hhmm = (ts) => { const d = new Date(ts); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`; };
const fullDate = (ts) => new Date(ts).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
const dayKey = (ts) => new Date(ts).toDateString();

function dayLabel(ts) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(ts) === today.toDateString()) return 'Today';
  if (dayKey(ts) === yesterday.toDateString()) return 'Yesterday';
  const sameYear = new Date(ts).getFullYear() === today.getFullYear();
  return new Date(ts).toLocaleDateString(undefined,
    { weekday: 'long', month: 'long', day: 'numeric', year: sameYear ? undefined : 'numeric' });
}

function relativeTime(ts) {
  const seconds = Math.round((Date.now() - ts) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

function timeEl(ts) {
  return h('time', {
    class: 'message-time', datetime: new Date(ts).toISOString(), title: fullDate(ts), text: hhmm(ts),
  });
}

// ---------------------------------------------------------------------------
// Routing: `/#room` opens a room, an empty hash shows the landing page.

function hashRoom() {
  try { return normalizeRoom(decodeURIComponent(location.hash.slice(1))); } catch { return ''; }
}

function route() {
  const room = hashRoom();
  if (!room) return state.view === 'landing' ? undefined : showLanding();
  const problem = roomError(room);
  if (problem) return showLanding({ room, error: problem });
  if (nameError(state.name)) return showLanding({ room });
  if (state.view === 'chat' && state.room === room) return; // already there
  openRoom(room);
}

/** Goes to a room (or to the landing page with an empty room) and routes. */
function navigate(room) {
  if (room) {
    if (hashRoom() === room && location.hash === `#${room}`) route();
    else location.hash = room; // hashchange routes
  } else {
    history.pushState(null, '', location.pathname + location.search);
    route();
  }
}

// ---------------------------------------------------------------------------
// Landing view

function showLanding({ room = '', error = null } = {}) {
  leaveRoom();
  state.view = 'landing';
  el.chat.hidden = true;
  el.landing.hidden = false;
  document.title = 'edgechat';
  if (!el.nameInput.value) el.nameInput.value = state.name;
  if (room) el.roomInput.value = room;
  showFormError(error);
  (nameError(el.nameInput.value.trim()) ? el.nameInput : el.roomInput).focus();
  loadRooms();
}

function showFormError(message, field = null) {
  el.formError.hidden = !message;
  el.formError.textContent = message || '';
  for (const input of [el.nameInput, el.roomInput]) {
    input.toggleAttribute('aria-invalid', Boolean(message) && input === field);
  }
}

/** Validates the form and joins; used by the form and by the room list. */
function tryJoin() {
  const name = el.nameInput.value.trim();
  const room = normalizeRoom(el.roomInput.value);
  const nameProblem = nameError(name);
  const problem = nameProblem || roomError(room);
  if (problem) {
    const field = nameProblem ? el.nameInput : el.roomInput;
    showFormError(problem, field);
    field.focus();
    return;
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
    const response = await fetch('/api/rooms', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { rooms = [] } = await response.json();
    renderRooms(rooms);
  } catch {
    el.roomsStatus.textContent = 'Could not load the room list. You can still type a room name above.';
  }
}

function renderRooms(rooms) {
  el.roomsList.replaceChildren(...rooms.map(roomItem));
  el.roomsStatus.textContent = rooms.length ? '' : 'No rooms yet. Type a name above to start one.';
}

function roomItem(room) {
  const count = Number(room.message_count) || 0;
  const meta = [`${count} message${count === 1 ? '' : 's'}`];
  if (room.last_activity) meta.push(relativeTime(room.last_activity));
  const button = h('button', {
    type: 'button', class: 'room-button',
    title: room.last_activity ? `Last message ${fullDate(room.last_activity)}` : null,
    onclick: () => { el.roomInput.value = room.id; tryJoin(); },
  }, avatar(room.id, 'small'), h('span', { class: 'room-name', text: room.id }),
  h('span', { class: 'room-meta', text: meta.join(' · ') }));
  return h('li', { 'data-room': room.id }, button);
}

// ---------------------------------------------------------------------------
// Chat view: entering and leaving a room

function openRoom(room) {
  leaveRoom();
  state.view = 'chat';
  state.room = room;
  el.landing.hidden = true;
  el.chat.hidden = false;
  el.roomTitle.textContent = room;
  el.messageInput.placeholder = `Message #${room}`;
  el.messageInput.setAttribute('aria-label', `Message #${room}`);
  el.statusSelect.value = state.status;
  el.statusPicker.dataset.status = state.status;
  updateTitle();
  updateHistoryStatus();
  connect();
  el.messageInput.focus();
}

/** Closes the socket and forgets everything about the current room. */
function leaveRoom() {
  if (!state.room) return;
  closeSocket();
  clearReconnect();
  clearTimeout(state.timers.gap);
  for (const pending of state.pending.values()) clearTimeout(pending.retry);
  Object.assign(state, {
    room: null, me: null, everConnected: false, attempt: 0, unread: 0,
    pending: new Map(), users: new Map(), typingNames: [], typingOn: false, lastTypingSent: 0,
  });
  clearMessages();
  renderUsers();
  renderTyping();
  toggleUsers(false);
  hideBanner();
}

function clearMessages() {
  state.messages = new Map();
  Object.assign(state, { minSeq: Infinity, maxSeq: 0, contiguousSeq: 0, knownLastSeq: 0, hasMoreOlder: false });
  clearHistoryRequest();
  // Pending messages stay: they are re-sent after the welcome.
  el.messages.replaceChildren(...[...state.pending.values()].map((p) => p.el));
  el.jumpButton.hidden = true;
}

function updateTitle() {
  if (state.view !== 'chat') return;
  document.title = `${state.unread ? `(${state.unread}) ` : ''}#${state.room} — edgechat`;
}

// ---------------------------------------------------------------------------
// Connection: connect, keep alive, reconnect with backoff

function connect() {
  closeSocket();
  clearReconnect();
  const params = new URLSearchParams({ name: state.name });
  state.usedSince = state.everConnected;
  if (state.usedSince) params.set('since', String(state.contiguousSeq));
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/room/${encodeURIComponent(state.room)}?${params}`);
  state.socket = socket;
  state.welcomed = false;
  showBanner(state.everConnected ? 'Reconnecting…' : 'Connecting…');
  // Events of a socket we have since replaced or closed are ignored.
  socket.addEventListener('message', (event) => { if (state.socket === socket) onFrame(event.data); });
  socket.addEventListener('close', () => { if (state.socket === socket) onSocketLost(); });
}

/** Closes the socket on purpose (leaving the room): no reconnect. */
function closeSocket() {
  const socket = state.socket;
  state.socket = null;
  state.welcomed = false;
  stopKeepAlive();
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
}

function onSocketLost() {
  const room = state.room;
  const firstFailure = !state.everConnected && state.attempt === 0;
  closeSocket();
  clearHistoryRequest();
  state.typingOn = false;
  setTypingNames([]);
  if (firstFailure) checkRoomRefused(room);
  scheduleReconnect();
}

/**
 * A refused WebSocket (HTTP 400) looks like any network failure to the browser, so
 * ask the room's users route, which answers 400 with a readable error for a bad room.
 */
async function checkRoomRefused(room) {
  try {
    const response = await fetch(`/room/${encodeURIComponent(room)}/users`);
    if (response.status !== 400) return;
    const body = await response.json().catch(() => null);
    if (state.room !== room || state.everConnected) return;
    showLanding({ room, error: body?.error?.message || 'The server refused this room.' });
  } catch { /* network trouble: keep retrying */ }
}

function scheduleReconnect() {
  clearReconnect();
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** state.attempt);
  const jittered = base * (0.75 + Math.random() * 0.5); // ±25 %
  const delay = Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)));
  state.attempt += 1;
  state.reconnectAt = Date.now() + delay;
  state.timers.reconnect = setTimeout(connect, delay);
  state.timers.countdown = setInterval(updateCountdown, 250);
  updateCountdown();
}

function updateCountdown() {
  const seconds = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
  const lead = state.everConnected ? 'Connection lost' : `Cannot reach #${state.room}`;
  showBanner(`${lead} — reconnecting in ${seconds}s…`, true);
}

function clearReconnect() {
  clearTimeout(state.timers.reconnect);
  clearInterval(state.timers.countdown);
  state.timers.reconnect = state.timers.countdown = 0;
}

/** Reconnects at once if we are waiting to (back online, tab visible, button). */
function reconnectSoon() {
  if (state.view === 'chat' && !state.socket) connect();
}

function showBanner(text, canRetryNow = false) {
  el.connBanner.hidden = false;
  el.connText.textContent = text;
  el.reconnectNow.hidden = !canRetryNow;
}

function hideBanner() {
  el.connBanner.hidden = true;
  el.connText.textContent = '';
}

function startKeepAlive() {
  stopKeepAlive();
  state.lastFrameAt = Date.now();
  state.timers.ping = setInterval(() => {
    if (Date.now() - state.lastFrameAt > DEAD_AFTER_MS) return onSocketLost();
    if (state.socket?.readyState === WebSocket.OPEN) state.socket.send('ping');
  }, PING_EVERY_MS);
}

function stopKeepAlive() {
  clearInterval(state.timers.ping);
  state.timers.ping = 0;
}

/** Sends one JSON frame if the socket is open; returns whether it was sent. */
function sendFrame(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

// ---------------------------------------------------------------------------
// Incoming frames

const FRAME_HANDLERS = {
  welcome: onWelcome,
  message: (frame) => addMessage(frame.message, { live: true }),
  ack: onAck,
  user_joined: (frame) => onPresence(frame.user, 'joined'),
  user_left: (frame) => onPresence(frame.user, 'left'),
  user_status: (frame) => upsertUser(frame.user),
  typing: (frame) => setTypingNames(frame.names),
  history: onHistory,
  error: onErrorFrame,
};

function onFrame(data) {
  state.lastFrameAt = Date.now();
  if (typeof data !== 'string' || data === 'pong') return; // keep-alive answer, not JSON
  let frame;
  try { frame = JSON.parse(data); } catch { return console.warn('edgechat: ignoring a non-JSON frame', data); }
  const handler = FRAME_HANDLERS[frame?.type];
  if (handler) handler(frame);
  else console.debug('edgechat: ignoring frame', frame);
}

function onWelcome(frame) {
  const lastSeq = Number(frame.last_seq) || 0;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  // Without since= (or if the room went backwards, e.g. a wiped dev server) start over.
  const fresh = !state.usedSince || lastSeq < state.contiguousSeq;
  Object.assign(state, { welcomed: true, everConnected: true, attempt: 0, me: frame.you || state.me });
  hideBanner();
  startKeepAlive();
  setUsers(frame.users);
  const stick = isNearBottom();
  if (fresh) {
    clearMessages();
    state.hasMoreOlder = state.usedSince ? lastSeq > 0 : Boolean(frame.has_more);
    state.contiguousSeq = messages.length ? messages[messages.length - 1].seq : lastSeq;
  }
  state.knownLastSeq = Math.max(state.knownLastSeq, lastSeq);
  for (const message of messages) addMessage(message);
  if (state.usedSince && frame.has_more) {
    state.knownLastSeq = Math.max(state.knownLastSeq, state.contiguousSeq + 1);
  }
  resendPending();
  if (state.status !== 'online') setMyStatus(state.status, state.autoAway);
  if (fresh || stick) scrollToBottom();
  fillGap();          // missed messages beyond the welcome, if any
  maybeLoadOlder();   // a short history does not fill the screen
  updateHistoryStatus();
}

/**
 * Adds one message, deduplicated and ordered by seq. A message carrying the
 * client_id of one of our pending messages takes that pending entry's place.
 */
function addMessage(message, { live = false } = {}) {
  if (!Number.isInteger(message?.seq)) return;
  const seq = message.seq;
  state.knownLastSeq = Math.max(state.knownLastSeq, seq);
  const existing = state.messages.get(seq);
  if (existing) { // seen already (e.g. placed from its ack): refresh, never duplicate
    existing.message = message;
    updateMessageEl(existing.el, message);
    return;
  }
  const stick = live && isNearBottom();
  const pending = ownPending(message);
  const node = pending ? confirmPending(pending, message) : renderMessage(message);
  placeBySeq(node, seq);
  state.messages.set(seq, { message, el: node });
  state.minSeq = Math.min(state.minSeq, seq);
  state.maxSeq = Math.max(state.maxSeq, seq);
  advanceContiguous();
  if (state.contiguousSeq < state.knownLastSeq) scheduleGapCheck();
  if (!live) return;
  if (stick || pending) scrollToBottom();
  else el.jumpButton.hidden = false;
  if (!pending && !isMine(message)) notifyIncoming(message);
}

function advanceContiguous() {
  while (state.messages.has(state.contiguousSeq + 1)) state.contiguousSeq += 1;
}

function onAck(frame) {
  const pending = state.pending.get(frame.client_id);
  if (!pending || !Number.isInteger(frame.seq)) return; // already confirmed by its broadcast
  if (state.messages.has(frame.seq)) { // a duplicate send: the original is already on screen
    dropPending(pending);
    return;
  }
  // The ack came before the broadcast: confirm now, the broadcast will just refresh it.
  addMessage({
    seq: frame.seq, room: state.room, name: myName(), text: pending.text,
    ts: Date.now(), client_id: pending.clientId, reply_to: null,
  });
}

function onPresence(user, change) {
  if (!user?.name) return;
  if (change === 'joined') upsertUser(user);
  else {
    state.users.delete(key(user.name));
    renderUsers();
    setTypingNames(state.typingNames.filter((n) => key(n) !== key(user.name)));
  }
  addSystemLine(`${user.name} ${change}`);
}

function onErrorFrame(frame) {
  const pending = frame.client_id ? state.pending.get(frame.client_id) : null;
  if (pending) return onPendingError(pending, frame);
  if (frame.code === 'rate_limited') return onRateLimited(Number(frame.retry_after_ms) || 1000);
  if (state.history) clearHistoryRequest(); // it may have been the refused frame
  toast(ERROR_MEANINGS[frame.code] || frame.message || 'Something went wrong.', 'error');
}

/**
 * A rate-limited frame without client_id was a typing, status or history frame.
 * Typing is harmless to lose; repeat a recent status change and the history request.
 */
function onRateLimited(delay) {
  const history = state.history;
  if (history) {
    clearTimeout(history.retry);
    history.retry = setTimeout(() => {
      if (state.history === history) { state.history = null; requestHistory(history.dir, history.cursor, history.limit); }
    }, delay);
  }
  if (Date.now() - state.statusSentAt < 2000) setTimeout(() => sendStatus(state.status), delay);
}

// ---------------------------------------------------------------------------
// History: older pages on scroll, missed pages after a reconnect

function requestHistory(dir, cursor, limit) {
  if (state.history || !state.welcomed) return false;
  state.history = { dir, cursor, limit, retry: 0 };
  sendFrame({ type: 'history', [dir]: cursor, limit });
  updateHistoryStatus();
  return true;
}

function clearHistoryRequest() {
  if (state.history) clearTimeout(state.history.retry);
  state.history = null;
}

/** Fetches missed messages after the last contiguous seq, one page at a time. */
function fillGap() {
  if (state.contiguousSeq < state.knownLastSeq) requestHistory('after', state.contiguousSeq, CATCHUP_PAGE);
}

function scheduleGapCheck() {
  if (state.timers.gap) return;
  state.timers.gap = setTimeout(() => { state.timers.gap = 0; fillGap(); }, GAP_CHECK_MS);
}

/** Asks for an older page when the top of the history is (nearly) in view. */
function maybeLoadOlder() {
  if (!state.hasMoreOlder || state.history || !state.welcomed) return;
  if (el.scroller.scrollTop > LOAD_OLDER_PX) return;
  const before = Number.isFinite(state.minSeq) ? state.minSeq : state.knownLastSeq + 1;
  if (before <= 1) { state.hasMoreOlder = false; updateHistoryStatus(); return; }
  requestHistory('before', before, PAGE_SIZE);
}

function onHistory(frame) {
  const request = state.history;
  if (!request) return; // an answer to a request abandoned on reconnect
  clearHistoryRequest();
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  if (request.dir === 'before') {
    const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    for (const message of messages) addMessage(message);
    state.hasMoreOlder = Boolean(frame.has_more) && messages.length > 0;
    el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom; // keep the view still
  } else {
    const stick = isNearBottom();
    const before = state.contiguousSeq;
    for (const message of messages) addMessage(message);
    if (state.contiguousSeq === before) state.knownLastSeq = state.contiguousSeq; // no progress: stop
    else if (frame.has_more) state.knownLastSeq = Math.max(state.knownLastSeq, state.contiguousSeq + 1);
    if (stick) scrollToBottom();
  }
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

// ---------------------------------------------------------------------------
// Message list rendering

/** Where a list item sorts: confirmed messages by seq, system lines after the seq they followed, pending last. */
function sortKey(node) {
  if (node.dataset.seq) return Number(node.dataset.seq);
  if (node.classList.contains('system-line')) return Number(node.dataset.after) + 0.5;
  return Infinity;
}

function placeBySeq(node, seq) {
  const list = el.messages;
  if (seq < state.minSeq) { // older than anything shown: walk from the top
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

function buildMessageEl({ seq = null, name, text, ts, clientId = null }) {
  const node = h('li', {
    class: 'message', 'data-seq': seq, 'data-client-id': clientId ?? '',
    'data-author': key(name), 'data-ts': ts,
  },
  avatar(name),
  h('div', { class: 'message-body' },
    h('div', { class: 'message-meta' }, h('span', { class: 'message-name', text: name }), ' ', timeEl(ts)),
    textEl(text)));
  node.style.setProperty('--hue', String(nameHue(name)));
  if (key(name) === key(myName())) node.classList.add('own');
  else if (mentionsMe(text)) node.classList.add('mention');
  return node;
}

function renderMessage(message) {
  return buildMessageEl({
    seq: message.seq, name: message.name, text: message.text, ts: message.ts, clientId: message.client_id,
  });
}

/** Refreshes time (and text) of a message element from the server's copy. */
function updateMessageEl(node, message) {
  node.dataset.ts = String(message.ts);
  node.querySelector('.message-time').replaceWith(timeEl(message.ts));
  const text = node.querySelector('.message-text');
  if (text.textContent !== message.text) text.replaceWith(textEl(message.text));
  refreshAround(node);
}

/** Message text with http(s) links made clickable; everything else stays text. */
function textEl(text) {
  const node = h('div', { class: 'message-text' });
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(/[.,;:!?)\]}]+$/, '');
    node.append(text.slice(last, match.index),
      h('a', { href: url, target: '_blank', rel: 'noopener noreferrer nofollow', text: url }));
    last = match.index + url.length;
  }
  node.append(text.slice(last));
  return node;
}

function mentionsMe(text) {
  const me = myName();
  return Boolean(me) && key(text).includes(`@${key(me)}`);
}

function refreshAround(node) {
  refreshGrouping(node);
  if (node.nextElementSibling) refreshGrouping(node.nextElementSibling);
}

/** Groups consecutive messages of one author and marks the first message of each day. */
function refreshGrouping(node) {
  if (!node.classList.contains('message')) return;
  const ts = Number(node.dataset.ts);
  let prevMessage = node.previousElementSibling;
  while (prevMessage && !prevMessage.classList.contains('message')) prevMessage = prevMessage.previousElementSibling;
  const newDay = !prevMessage || dayKey(Number(prevMessage.dataset.ts)) !== dayKey(ts);
  const prev = node.previousElementSibling;
  const grouped = !newDay && prev === prevMessage && !prev.classList.contains('failed')
    && prev.dataset.author === node.dataset.author && ts - Number(prev.dataset.ts) < GROUP_WINDOW_MS;
  node.classList.toggle('grouped', grouped);
  node.classList.toggle('day-start', newDay);
  if (newDay) node.dataset.day = dayLabel(ts); else delete node.dataset.day;
}

function addSystemLine(text) {
  const stick = isNearBottom();
  const now = Date.now();
  const line = h('li', { class: 'system-line', 'data-after': state.maxSeq },
    h('span', { text }), ' ', h('time', { datetime: new Date(now).toISOString(), title: fullDate(now), text: hhmm(now) }));
  placeBySeq(line, state.maxSeq + 0.5);
  if (stick) scrollToBottom();
}

function isNearBottom() {
  const s = el.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
  el.jumpButton.hidden = true;
}

function onScroll() {
  if (isNearBottom()) el.jumpButton.hidden = true;
  maybeLoadOlder();
}

function notifyIncoming(message) {
  const text = message.text.length > 200 ? `${message.text.slice(0, 200)}…` : message.text;
  el.announcer.textContent = `${message.name}: ${text}`;
  if (document.hidden) {
    state.unread += 1;
    updateTitle();
  }
}

// ---------------------------------------------------------------------------
// Sending, pending messages and their errors

function textProblem(text) {
  const length = codePoints(text);
  if (length > MAX_TEXT) return `Messages are limited to ${MAX_TEXT} characters (this one has ${length}).`;
  const frame = JSON.stringify({ type: 'send', text, client_id: '00000000-0000-0000-0000-000000000000' });
  if (new TextEncoder().encode(frame).length > MAX_FRAME_BYTES) return ERROR_MEANINGS.too_large;
  return null;
}

function sendMessage() {
  const text = el.messageInput.value.trim();
  if (!text) return;
  const problem = textProblem(text);
  if (problem) return toast(problem, 'error');
  const pending = { clientId: newClientId(), text, status: 'pending', el: null, retry: 0 };
  pending.el = buildMessageEl({ name: myName(), text, ts: Date.now(), clientId: pending.clientId });
  pending.el.classList.add('pending');
  pending.el.querySelector('.message-body').append(
    h('span', { class: 'message-state', role: 'img', 'aria-label': 'Sending', title: 'Sending…' }));
  state.pending.set(pending.clientId, pending);
  el.messages.append(pending.el);
  refreshAround(pending.el);
  transmit(pending);
  el.messageInput.value = '';
  onComposerInput(); // resets height, counter, and sends typing off
  scrollToBottom();
}

/** Sends a pending message; while disconnected it waits for the next welcome. */
function transmit(pending) {
  if (state.welcomed) sendFrame({ type: 'send', text: pending.text, client_id: pending.clientId });
}

function resendPending() {
  for (const pending of state.pending.values()) {
    if (pending.status !== 'pending') continue;
    clearTimeout(pending.retry);
    setPendingNote(pending, null);
    transmit(pending);
  }
}

function ownPending(message) {
  const pending = message.client_id ? state.pending.get(message.client_id) : null;
  return pending && isMine(message) ? pending : null;
}

/** Turns a pending element into the confirmed message; returns it detached. */
function confirmPending(pending, message) {
  state.pending.delete(pending.clientId);
  clearTimeout(pending.retry);
  const node = pending.el;
  const next = node.nextElementSibling;
  node.remove();
  if (next) refreshGrouping(next);
  node.classList.remove('pending', 'failed');
  node.dataset.seq = String(message.seq);
  node.querySelector('.message-state')?.remove();
  node.querySelector('.message-error')?.remove();
  node.dataset.ts = String(message.ts);
  node.querySelector('.message-time').replaceWith(timeEl(message.ts));
  return node;
}

function dropPending(pending) {
  state.pending.delete(pending.clientId);
  clearTimeout(pending.retry);
  const next = pending.el.nextElementSibling;
  pending.el.remove();
  if (next) refreshGrouping(next);
}

function onPendingError(pending, frame) {
  if (frame.code === 'rate_limited') {
    const delay = Math.max(100, Number(frame.retry_after_ms) || 1000);
    setPendingNote(pending, `Sending too fast — retrying in ${Math.ceil(delay / 1000)}s…`);
    clearTimeout(pending.retry);
    pending.retry = setTimeout(() => { setPendingNote(pending, null); transmit(pending); }, delay);
    return;
  }
  markFailed(pending, frame.code, frame.message);
}

/** A small note under a pending message (e.g. rate limiting), or none. */
function setPendingNote(pending, text) {
  pending.el.querySelector('.message-note')?.remove();
  if (text) pending.el.querySelector('.message-body').append(h('div', { class: 'message-note', text }));
}

function markFailed(pending, code, serverMessage) {
  pending.status = 'failed';
  clearTimeout(pending.retry);
  setPendingNote(pending, null);
  const node = pending.el;
  node.classList.replace('pending', 'failed');
  node.querySelector('.message-state')?.setAttribute('aria-label', 'Not sent');
  node.querySelector('.message-error')?.remove();
  const editable = code === 'invalid_text' || code === 'too_large';
  const actions = editable
    ? [h('button', { type: 'button', class: 'link', text: 'Edit', onclick: () => editFailed(pending) })]
    : [h('button', { type: 'button', class: 'link', text: 'Retry', onclick: () => retryFailed(pending) })];
  actions.push(h('button', {
    type: 'button', class: 'link', text: 'Dismiss', onclick: () => { dropPending(pending); el.messageInput.focus(); },
  }));
  node.querySelector('.message-body').append(h('div', { class: 'message-error', role: 'alert', title: serverMessage || null },
    h('span', { text: `Not sent: ${ERROR_MEANINGS[code] || serverMessage || 'unknown error.'}` }), ...actions));
  refreshAround(node);
}

function retryFailed(pending) {
  pending.status = 'pending';
  pending.el.classList.replace('failed', 'pending');
  pending.el.querySelector('.message-error')?.remove();
  pending.el.querySelector('.message-state')?.setAttribute('aria-label', 'Sending');
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

// ---------------------------------------------------------------------------
// Composer: Enter sends, Shift+Enter breaks the line, typing notifications

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
  if (now - state.lastTypingSent < TYPING_THROTTLE_MS) return;
  if (sendFrame({ type: 'typing', on: true })) {
    state.lastTypingSent = now;
    state.typingOn = true;
  }
}

function stopTyping() {
  if (!state.typingOn) return;
  state.typingOn = false;
  state.lastTypingSent = 0;
  sendFrame({ type: 'typing', on: false });
}

function autoGrow() {
  const input = el.messageInput;
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}

function updateCounter() {
  const length = codePoints(el.messageInput.value.trim());
  const show = length >= COUNTER_FROM;
  el.charCounter.hidden = !show;
  el.charCounter.textContent = show ? `${length} / ${MAX_TEXT}` : '';
  el.charCounter.classList.toggle('over', length > MAX_TEXT);
  el.sendButton.disabled = length === 0 || length > MAX_TEXT;
}

// ---------------------------------------------------------------------------
// Typing indicator

function setTypingNames(names) {
  const me = key(myName());
  state.typingNames = (Array.isArray(names) ? names : []).filter((n) => typeof n === 'string' && key(n) !== me);
  renderTyping();
}

function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'several people are typing…';
}

function renderTyping() {
  el.typing.textContent = typingText(state.typingNames);
  el.typing.classList.toggle('several', state.typingNames.length > 2);
}

// ---------------------------------------------------------------------------
// Users and presence

function setUsers(users) {
  state.users = new Map((Array.isArray(users) ? users : []).filter((u) => u?.name).map((u) => [key(u.name), u]));
  renderUsers();
}

function upsertUser(user) {
  if (!user?.name) return;
  state.users.set(key(user.name), user);
  renderUsers();
}

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
  return h('li', { 'data-name': user.name, 'data-status': status, class: isMe ? 'me' : null },
    avatar(user.name, 'small'),
    h('span', { class: 'user-name', text: user.name }),
    isMe ? h('span', { class: 'you-tag', text: '(you)' }) : null,
    h('span', { class: 'user-status' },
      h('span', { class: 'status-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'status-label', text: STATUS_LABELS[status] })));
}

function sendStatus(status) {
  state.statusSentAt = Date.now();
  sendFrame({ type: 'status', status });
}

/** Changes our presence; `auto` marks a change made by the idle timer. */
function setMyStatus(status, auto = false) {
  if (!STATUS_LABELS[status]) return;
  state.status = status;
  state.autoAway = auto;
  el.statusSelect.value = status;
  el.statusPicker.dataset.status = status;
  sendStatus(status);
  if (state.me) upsertUser({ ...state.me, status });
}

/** Auto-away: after a while in a hidden tab, online becomes away (and back). */
function onVisibilityChange() {
  clearTimeout(state.timers.away);
  if (document.hidden) {
    state.timers.away = setTimeout(() => {
      if (state.status === 'online' && state.view === 'chat') setMyStatus('away', true);
    }, AUTO_AWAY_MS);
    return;
  }
  state.unread = 0;
  updateTitle();
  if (state.autoAway) setMyStatus('online');
  reconnectSoon();
}

function toggleUsers(open = !el.usersPanel.classList.contains('open')) {
  el.usersPanel.classList.toggle('open', open);
  el.usersToggle.setAttribute('aria-expanded', String(open));
  if (open) el.usersPanel.focus();
}

// ---------------------------------------------------------------------------
// Toasts

function toast(text, kind = 'info') {
  if ([...el.toasts.children].some((t) => t.dataset.text === text)) return; // no repeats
  const node = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-text': text },
    h('span', { text }),
    h('button', { type: 'button', class: 'ghost icon', 'aria-label': 'Dismiss', text: '×', onclick: () => node.remove() }));
  el.toasts.append(node);
  setTimeout(() => node.remove(), 6000);
}

// ---------------------------------------------------------------------------
// Wiring

function init() {
  el.joinForm.addEventListener('submit', (event) => { event.preventDefault(); tryJoin(); });
  el.roomsRefresh.addEventListener('click', loadRooms);
  el.leaveButton.addEventListener('click', () => navigate(''));
  el.reconnectNow.addEventListener('click', () => { state.attempt = 0; connect(); });
  el.statusSelect.addEventListener('change', () => setMyStatus(el.statusSelect.value));
  el.usersToggle.addEventListener('click', () => toggleUsers());
  el.usersClose.addEventListener('click', () => { toggleUsers(false); el.usersToggle.focus(); });
  el.usersPanel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { toggleUsers(false); el.usersToggle.focus(); }
  });
  el.scroller.addEventListener('scroll', onScroll, { passive: true });
  el.jumpButton.addEventListener('click', () => { scrollToBottom(); el.messageInput.focus(); });
  el.composer.addEventListener('submit', (event) => { event.preventDefault(); sendMessage(); el.messageInput.focus(); });
  el.messageInput.addEventListener('keydown', onComposerKeydown);
  el.messageInput.addEventListener('input', onComposerInput);
  el.messageInput.addEventListener('blur', () => { if (!el.messageInput.value.trim()) stopTyping(); });
  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);
  window.addEventListener('online', reconnectSoon);
  document.addEventListener('visibilitychange', onVisibilityChange);
  route();
}

init();
