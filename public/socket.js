// The room's WebSocket: connect (with the session's resume parameters and the token as a
// subprotocol), keep-alive pings and dead detection, the close codes (4001 removed, 4003
// claim gone, 1008 policy), reconnect with backoff and its countdown banner, and the HTTP probe that says
// why a connect was refused. Frames go up through events.js ('frame'), as do a removal
// ('removed'), a refusal ('refused') and a lost socket ('socket-lost'); `sendFrame` is
// how every module sends.

import { state } from './state.js';
import { el } from './dom.js';
import { emit } from './events.js';
import { CLOSE_REMOVED, CLOSE_POLICY, CLOSE_CLAIM_GONE, ERROR_MEANINGS } from './protocol.js';
import { resumeParams, disconnected } from './session.js';
import { authHeaders, socketProtocols, forgetPass } from './names.js';

const PING_EVERY_MS = 30_000;
const DEAD_AFTER_MS = 75_000;       // no frame at all for this long: the socket is dead
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const POLICY_RETRY_MS = 60_000;     // after a 1008 close: reconnect slowly, never in a loop

export function connect() {
  closeSocket();
  clearReconnect();
  const params = new URLSearchParams({ name: state.name, presence: '2' }); // PROTOCOL.md "Presence 2"
  for (const [param, value] of Object.entries(resumeParams(state))) params.set(param, String(value));
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

function onFrame(data) {
  state.lastFrameAt = Date.now();
  if (typeof data !== 'string' || data === 'pong') return; // the keep-alive answer is not JSON
  emit('frame', data);
}

/** Closes the socket on purpose: no reconnect follows. */
export function closeSocket() {
  const socket = state.socket;
  Object.assign(state, { socket: null, welcomed: false });
  clearInterval(state.timers.ping);
  if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'bye');
}

function onSocketLost(event) {
  if (event?.code === CLOSE_REMOVED) { // kicked or banned by a moderator: no reconnect
    return emit('removed', state.room, event.reason || 'You were removed from this room.');
  }
  // The name's claim is gone (released or lapsed elsewhere) though our pass opened the
  // socket: drop the pass, so that the next connect asks the server about the name.
  if (event?.code === CLOSE_CLAIM_GONE) {
    forgetPass(state.name);
    state.refusal = 'This name’s claim is gone'; // the next refused connect asks why
  }
  const welcomed = state.welcomed;
  // A room never reached, or reopened from its kept list, may refuse us: ask why once.
  // A socket refused before its welcome (a cap, a ban) is asked about again each time.
  const firstFailure = (!state.everConnected || state.restored) && state.attempt === 0;
  closeSocket();
  disconnected(state);
  emit('socket-lost');
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
    emit('refused', room, error?.message || 'The server refused this room or name.', field);
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

export function clearReconnect() {
  clearTimeout(state.timers.reconnect);
  clearInterval(state.timers.countdown);
}

/** Reconnects at once if a reconnect is pending (back online, tab visible again). */
export function reconnectSoon() {
  if (state.view === 'chat' && !state.socket) connect();
}

/** "Reconnect now": at once, and the backoff starts over. */
export function reconnectNow() {
  state.attempt = 0;
  connect();
}

/** Shows the connection banner with `text`, or hides it for null. Screen readers get
 *  `spoken` instead, so that a ticking countdown is not read out every second. */
export function setBanner(text, canRetryNow = false, spoken = text) {
  el.connBanner.hidden = !text;
  // While disconnected the users list is only what we last knew: show it as such.
  el.users.classList.toggle('stale', Boolean(text));
  el.users.title = text ? 'As last seen; reconnecting…' : '';
  el.connText.textContent = text || '';
  if (el.connSpoken.textContent !== (spoken || '')) el.connSpoken.textContent = spoken || '';
  el.reconnectNow.hidden = !canRetryNow;
}

/** After a welcome: pings every 30 s, and a socket silent for 75 s counts as lost. */
export function startKeepAlive() {
  clearInterval(state.timers.ping);
  state.lastFrameAt = Date.now();
  state.timers.ping = setInterval(() => {
    if (Date.now() - state.lastFrameAt > DEAD_AFTER_MS) return onSocketLost();
    if (state.socket?.readyState === WebSocket.OPEN) state.socket.send('ping');
  }, PING_EVERY_MS);
}

/** Sends one JSON frame if the socket is open; returns whether it was sent. */
export function sendFrame(frame) {
  if (state.socket?.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}
