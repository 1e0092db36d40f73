// The room session without I/O: what the client knows of one room's stream and what it
// owes it. It owns the messages pending an ack (and their resend, with the same
// client_id, after a reconnect or a rate limit), the resume parameters (`since`, `rev`),
// the catch-up after a reconnect (pages of missed messages), the one history request in
// flight, and the bookkeeping of the messages shown by seq (dedupe, contiguity). Each
// function takes the session object (`createSession()`; the app's one lives inside
// `state.js`'s state) plus frames and the time, changes the session and returns what to
// send or what changed. No `document`, no `WebSocket`, no timers: Node tests it
// (tests/unit/session.test.mjs), as `crates/cli/src/session.rs` is tested for the CLI.

import { CATCHUP_PAGE, PAGE_SIZE, MAX_TEXT_CHARS, MAX_FRAME_BYTES, ERROR_MEANINGS, codePoints } from './protocol.js';

/** A fresh session: nothing shown, nothing pending, never connected. */
export function createSession() {
  return {
    welcomed: false,       // the current socket has had its welcome
    everConnected: false,  // this room has had a welcome, so reconnects use since=
    usedSince: false,      // the current socket was opened with since=
    messages: new Map(),   // seq -> { message, el } (el: the renderer's, never read here)
    minSeq: Infinity,      // oldest seq shown
    maxSeq: 0,             // newest seq shown
    contiguousSeq: 0,      // every seq from minSeq up to this one is shown
    knownLastSeq: 0,       // highest seq the room is known to have
    rev: null,             // the room's last change seen (edits, reactions...): rev= on resume
    hasMoreOlder: false,
    history: null,         // the one history request in flight: { dir, cursor }
    pending: new Map(),    // client_id -> { clientId, text, replyTo, attachment, status, el, waiting, limited }
    holdUntil: 0,          // rate limited: no sends before this time
  };
}

/** A client_id: a UUID, or 128 random bits in hex where randomUUID needs a secure context. */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// --- Connecting and resuming --------------------------------------------------------------

/** The resume parameters of the next connect: `{ since, rev }` once the room has had a
 *  welcome (rev only when a change was seen), else `{}`. Marks the socket as resuming. */
export function resumeParams(s) {
  s.usedSince = s.everConnected;
  if (!s.usedSince) return {};
  return s.rev !== null ? { since: s.contiguousSeq, rev: s.rev } : { since: s.contiguousSeq };
}

/** The socket was lost or closed: no welcome, and no history answer will come. */
export function disconnected(s) {
  s.welcomed = false;
  s.history = null;
}

/** Forgets the messages shown (pending ones stay: they are resent after a welcome). */
export function clearList(s) {
  Object.assign(s, {
    messages: new Map(), minSeq: Infinity, maxSeq: 0, contiguousSeq: 0, knownLastSeq: 0, hasMoreOlder: false,
  });
  s.history = null;
}

/** Shows a window of the history from `after` on (a jump, back to the latest), keeping
 *  what is known of the room's end (`knownLastSeq`, by default the session's own). */
export function reopenAt(s, after, knownLastSeq = s.knownLastSeq) {
  clearList(s);
  Object.assign(s, { knownLastSeq, contiguousSeq: after, hasMoreOlder: after > 0 });
}

/**
 * The first half of a welcome, before its messages are recorded: whether it starts the
 * list over (`fresh`: no since=, or the room went backwards, e.g. a wiped dev server),
 * and the list's new bounds. Returns `{ fresh, messages }`.
 */
export function welcome(s, frame) {
  const lastSeq = Number(frame.last_seq) || 0;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  const fresh = !s.usedSince || lastSeq < s.contiguousSeq;
  Object.assign(s, { welcomed: true, everConnected: true });
  if (fresh) {
    clearList(s);
    s.hasMoreOlder = s.usedSince ? lastSeq > 0 : Boolean(frame.has_more);
    s.contiguousSeq = messages.length ? messages[messages.length - 1].seq : lastSeq;
  }
  s.knownLastSeq = Math.max(s.knownLastSeq, lastSeq);
  return { fresh, messages };
}

/**
 * The second half of a welcome, once its messages and updates are recorded: the new
 * `rev`, and whether more missed messages follow (the catch-up asks for them). Returns
 * `{ restart: true }` when too much changed to patch (connect again without since=),
 * else `{ restart: false, resend }`: the frames of every message still pending.
 */
export function welcomed(s, frame, now) {
  s.rev = Number.isInteger(frame.rev) ? frame.rev : null;
  if (frame.updates_truncated) {
    s.everConnected = false;
    return { restart: true, resend: [] };
  }
  if (s.usedSince && frame.has_more) s.knownLastSeq = Math.max(s.knownLastSeq, s.contiguousSeq + 1);
  return { restart: false, resend: resend(s, now) };
}

// --- Messages shown, by seq -----------------------------------------------------------------

/** Before recording `message`: null if it has no seq, else `{ entry }`, where entry is the
 *  one already shown with that seq (refresh it, never duplicate) or undefined. */
export function lookup(s, message) {
  if (!Number.isInteger(message?.seq)) return null;
  s.knownLastSeq = Math.max(s.knownLastSeq, message.seq);
  return { entry: s.messages.get(message.seq) };
}

/** Records a new message shown (after `lookup` found none); returns its entry. */
export function record(s, message, el = null) {
  const seq = message.seq;
  const entry = { message, el };
  s.messages.set(seq, entry);
  s.minSeq = Math.min(s.minSeq, seq);
  s.maxSeq = Math.max(s.maxSeq, seq);
  while (s.messages.has(s.contiguousSeq + 1)) s.contiguousSeq += 1;
  return entry;
}

/** A changed message (an update frame or a welcome's updates): refreshes its entry if
 *  shown, returns it. An update frame's `rev` moves the resume point on. */
export function update(s, message, rev) {
  if (Number.isInteger(rev)) s.rev = Math.max(s.rev ?? 0, rev);
  const entry = s.messages.get(message.seq);
  if (entry) entry.message = message;
  return entry;
}

/** Whether a message with this client_id is shown. */
export function isShown(s, clientId) {
  for (const { message } of s.messages.values()) if (message.client_id === clientId) return true;
  return false;
}

// --- History: older pages, and the catch-up after a reconnect ------------------------------

/** Asks for a page (`dir` 'before' or 'after' `cursor`) unless one is in flight or the
 *  socket has no welcome; returns the frame to send, or null. */
export function requestHistory(s, dir, cursor, limit) {
  if (s.history || !s.welcomed) return null;
  s.history = { dir, cursor };
  return { type: 'history', [dir]: cursor, limit };
}

/** The next page of missed messages, after the last contiguous seq, or null. */
export function catchUp(s) {
  return s.contiguousSeq < s.knownLastSeq ? requestHistory(s, 'after', s.contiguousSeq, CATCHUP_PAGE) : null;
}

/** The next older page: `{ frame }` to send, `{ ended: true }` when the beginning is
 *  reached, or null (nothing to ask now). */
export function older(s) {
  if (!s.hasMoreOlder || s.history || !s.welcomed) return null;
  const before = Number.isFinite(s.minSeq) ? s.minSeq : s.knownLastSeq + 1;
  if (before > 1) return { frame: requestHistory(s, 'before', before, PAGE_SIZE) };
  s.hasMoreOlder = false;
  return { ended: true };
}

/**
 * A history frame arrives. Answers carry no request id: one that does not fit the request
 * in flight is a late answer to an abandoned one (its messages are still good; keep
 * waiting for ours). Returns `{ messages, request, reached }`; request is null for such a
 * late answer, else the request it answers (now no longer in flight) and `reached` the
 * contiguous seq before its messages are recorded (for `historyDone`).
 */
export function history(s, frame) {
  const request = s.history;
  const messages = Array.isArray(frame.messages) ? frame.messages : [];
  const fits = request && (!messages.length || (request.dir === 'before'
    ? messages[messages.length - 1].seq < request.cursor : messages[0].seq > request.cursor));
  if (!fits) return { messages, request: null, reached: s.contiguousSeq };
  s.history = null;
  return { messages, request, reached: s.contiguousSeq };
}

/** After a fitting history answer's messages are recorded: whether older pages remain,
 *  or how far the catch-up still has to go (no progress: it stops). */
export function historyDone(s, frame, answer) {
  if (answer.request.dir === 'before') {
    s.hasMoreOlder = Boolean(frame.has_more) && answer.messages.length > 0;
  } else if (s.contiguousSeq === answer.reached) {
    s.knownLastSeq = answer.reached;
  } else if (frame.has_more) {
    s.knownLastSeq = Math.max(s.knownLastSeq, s.contiguousSeq + 1);
  }
}

// --- Sending: pending messages, acks, errors, resend ---------------------------------------

/** Why a text cannot be sent (too long, a frame too big), or null. */
export function textProblem(text) {
  const length = codePoints(text);
  if (length > MAX_TEXT_CHARS) return `Messages are limited to ${MAX_TEXT_CHARS} characters (this one has ${length}).`;
  const frame = JSON.stringify({ type: 'send', text, client_id: newClientId() });
  if (new TextEncoder().encode(frame).length > MAX_FRAME_BYTES) return ERROR_MEANINGS.too_large;
  return null;
}

/** A new pending message (not yet tracked: `track` it once its element is built). */
export function newPending(text, replyTo = null, attachment = null, clientId = newClientId()) {
  return { clientId, text, replyTo, attachment, status: 'pending', el: null, waiting: false, limited: false };
}

export function track(s, pending) {
  s.pending.set(pending.clientId, pending);
}

/** Stops tracking a pending message; true if it held others back (flush them). */
export function drop(s, pending) {
  s.pending.delete(pending.clientId);
  return pending.limited;
}

/** The pending entry a message confirms: ours (`mine`) and with its client_id. */
export function ownPending(s, message, mine) {
  const pending = message.client_id ? s.pending.get(message.client_id) : null;
  return pending && mine ? pending : null;
}

/** Whether an older pending message, refused as rate limited, is still unconfirmed. */
function olderIsRetrying(s, pending) {
  for (const other of s.pending.values()) {
    if (other === pending) return false;
    if (other.limited && other.status === 'pending') return true;
  }
  return false;
}

/** The send frame of a pending message, or null while it has to wait: disconnected (the
 *  next welcome sends it) or held back by rate limiting (so that messages keep their order). */
export function transmit(s, pending, now) {
  pending.waiting = !s.welcomed || now < s.holdUntil || olderIsRetrying(s, pending);
  if (pending.waiting) return null;
  const frame = { type: 'send', text: pending.text, client_id: pending.clientId };
  if (pending.replyTo !== null) frame.reply_to = pending.replyTo;
  if (pending.attachment) frame.attachment = pending.attachment;
  return frame;
}

/** The waiting pending messages, oldest first (a Map keeps insertion order), each with
 *  its frame if it may go now: `[{ pending, frame }]`. */
export function flush(s, now) {
  const out = [];
  for (const pending of s.pending.values()) {
    if (pending.status !== 'pending' || !pending.waiting) continue;
    out.push({ pending, frame: transmit(s, pending, now) });
  }
  return out;
}

/** After a welcome: everything not yet acked goes again, with the same client_id. */
export function resend(s, now) {
  for (const pending of s.pending.values()) pending.waiting = true;
  return flush(s, now);
}

/**
 * An ack. Returns null when there is nothing to do (already confirmed by its broadcast),
 * `{ repeat: pending }` when the message is shown already (drop the pending copy), or
 * `{ confirm: message }`: the ack came before the broadcast, show this message now (the
 * broadcast will only refresh it).
 */
export function ack(s, frame, { room, name, now }) {
  const pending = s.pending.get(frame.client_id);
  if (!pending || !Number.isInteger(frame.seq)) return null;
  if (s.messages.has(frame.seq)) return { repeat: pending };
  return {
    confirm: {
      seq: frame.seq, room, name, text: pending.text, ts: now, client_id: pending.clientId, reply_to: pending.replyTo ?? null,
    },
  };
}

/** The pending message an error frame is about (its client_id), or null. */
export const pendingFor = (s, frame) => (frame.client_id ? s.pending.get(frame.client_id) ?? null : null);

/**
 * An error about a pending message. `{ failed: true }`: it is refused (the person fixes,
 * retries or dismisses it). Rate limited: all sending holds until `s.holdUntil`, then it
 * goes again with the same client_id (`flush`); returns `{ delay }` (ms).
 */
export function pendingError(s, pending, frame, now) {
  if (frame.code !== 'rate_limited') {
    pending.status = 'failed';
    return { failed: true };
  }
  const delay = Math.max(100, Number(frame.retry_after_ms) || 1000);
  Object.assign(pending, { waiting: true, limited: true });
  s.holdUntil = Math.max(s.holdUntil, now + delay);
  return { delay };
}
