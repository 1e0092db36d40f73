// Sending messages: the composer's Enter and Send, the thread box, uploads' messages.
// Each becomes a pending entry (session.js: its client_id, resend, rate-limit hold) with
// an element at the end of the list, greyed until its ack or broadcast confirms it, or
// red with Retry/Edit and Dismiss when refused. Each is also kept in the offline outbox
// (outbox-store.js, IndexedDB) until its ack, so that what is sent offline, reload or not,
// shows as "waiting to send" (with Discard) and goes once the connection is back.

import { state, myName, key } from './state.js';
import { el, h, toast, keepBottom, scrollToBottom } from './dom.js';
import { ERROR_MEANINGS } from './protocol.js';
import * as session from './session.js';
import { sendFrame } from './socket.js';
import { buildMessageEl, appendPending, refreshAround, dropPending } from './messages.js';
import { replyTarget, setReplyTo, threadSeq } from './changes.js';
import { backToLatest } from './history.js';
import { onComposerInput } from './composer.js';
import * as store from './outbox-store.js';
import { entryFor, nextAt, MAX_WAITING_PER_ROOM } from './outbox-queue.js';

let lastAt = 0; // the newest entry this tab made (outbox-queue.js `nextAt`)

/** Enter sends, Shift+Enter breaks the line (and never while an IME composes). */
export function onComposerKeydown(event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  sendMessage();
}

/** Sends what the composer holds (an answer to the reply bar's message, if any). */
export function sendMessage() {
  const text = el.messageInput.value.trim();
  if (!text) return;
  if (!sendText(text, replyTarget())) return;
  setReplyTo(null);
  el.messageInput.value = '';
  onComposerInput(); // resets height and counter, and sends typing off
  scrollToBottom();
}

/** The thread box: its message answers the thread's parent. */
export function sendThreadReply() {
  const text = el.threadInput.value.trim();
  if (!text || threadSeq() === null) return;
  if (sendText(text, threadSeq())) el.threadInput.value = '';
}

/** Sends a message (an answer to `replyTo` if given); its client_id, or null if refused here. */
export function sendText(text, replyTo = null, attachment = null) {
  const problem = session.textProblem(text);
  if (problem) { toast(problem); return null; }
  if (state.pending.size >= MAX_WAITING_PER_ROOM) {
    toast(`${MAX_WAITING_PER_ROOM} messages are already waiting to be sent here: wait for the connection, or discard some.`);
    return null;
  }
  if (state.detached) backToLatest(); // a message sent goes to the live end: show it
  const pending = session.newPending(text, replyTo, attachment);
  lastAt = nextAt(lastAt, Date.now());
  showPending(pending, lastAt);
  persist(pending);
  transmit(pending);
  return pending.clientId;
}

/** Builds, tracks and lists a pending message (greyed, with its clock). */
function showPending(pending, ts) {
  pending.at = ts;
  pending.el = buildMessageEl({
    name: myName(), text: pending.text, ts, client_id: pending.clientId, reply_to: pending.replyTo ?? null,
  });
  pending.el.querySelector('.message-body').append(h('span', { class: 'message-state', role: 'img' }));
  setPendingStatus(pending, 'pending');
  session.track(state, pending);
  appendPending(pending);
}

/** Keeps it in the outbox. The write is asked for before the frame goes; writes run in
 *  order (outbox-store.js), so the delete of its ack never comes first. */
function persist(pending) {
  store.save(entryFor(pending, { room: state.room, nameKey: key(myName()), tab: store.TAB, at: pending.at }));
}

function transmit(pending) {
  const frame = session.transmit(state, pending, Date.now());
  if (frame) sendFrame(frame);
  setWaiting(pending, !frame && !state.welcomed);
}

/**
 * Shows the room's messages kept in the outbox by this tab (or by a tab since closed) and
 * not on screen yet, oldest first, and sends them (now if connected, else after the next
 * welcome, as every pending message). Runs when a room opens and after each welcome.
 */
export async function restoreOutbox(room) {
  const entries = await store.adopt(room, key(myName()));
  if (state.room !== room || state.view !== 'chat') return; // they stay this tab's, for its return
  for (const entry of entries) {
    if (state.pending.has(entry.clientId)) continue;
    if (session.isShown(state, entry.clientId)) { store.remove(entry.clientId); continue; } // it got in
    const pending = session.newPending(entry.text, entry.replyTo, entry.attachment, entry.clientId);
    lastAt = Math.max(lastAt, entry.at);
    showPending(pending, entry.at);
    transmit(pending);
  }
}

/** The socket is gone: what was not acknowledged waits for the next welcome. */
export function markAllWaiting() {
  for (const pending of state.pending.values()) if (pending.status === 'pending') setWaiting(pending, true);
}

/** The "waiting to send" mark of a pending message kept for later (offline), with Discard. */
function setWaiting(pending, waiting) {
  if (!pending.el || pending.el.classList.contains('waiting') === waiting) return;
  keepBottom(() => {
    pending.el.classList.toggle('waiting', waiting);
    pending.el.querySelector('.message-waiting')?.remove();
    if (!waiting) return;
    const discard = h('button', {
      type: 'button', class: 'link', text: 'Discard', 'aria-label': 'Discard this message: it will not be sent',
      onclick: () => { dropPending(pending); el.messageInput.focus(); },
    });
    pending.el.querySelector('.message-body').append(
      h('div', { class: 'message-waiting' }, h('span', { text: 'Waiting to send' }), ' ', discard));
  });
}

/** Sends the pending messages the session lets go (`session.flush`, `session.resend`,
 *  a welcome's `resend`), oldest first, each losing its note. */
export function sendReleased(released) {
  for (const { pending, frame } of released) {
    setPendingNote(pending, null);
    if (frame) sendFrame(frame);
    setWaiting(pending, !frame && !state.welcomed);
  }
}

/** Sends the waiting pending messages (a rate limit's hold is over, or one that held
 *  the others back is gone). */
export function flushWaiting() {
  sendReleased(session.flush(state, Date.now()));
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

/** An error frame about one of our pending messages. */
export function onPendingError(pending, frame) {
  const now = Date.now();
  const outcome = session.pendingError(state, pending, frame, now);
  if (outcome.failed) return markFailed(pending, frame.code, frame.message);
  // Rate limited: hold all sending, then send this client_id again (and those held back).
  setPendingNote(pending, `Sending too fast — retrying in ${Math.ceil(outcome.delay / 1000)}s…`);
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
  setWaiting(pending, false);
  // Refused for good (not `internal`, whose write the room retries): the room's outbox is
  // cleared, so that no reload sends it again; this one stays on screen with its error.
  if (code !== 'internal') store.clearRoom(state.room);
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
  persist(pending);
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
