// The message list on screen: each message's element (built, refreshed, confirmed from
// pending), kept in seq order with system lines between, grouped by author and day, the
// "new messages" divider, and the list's reset and "detached" mode (a window of older
// history after a jump). Which seqs are shown is the session's (session.js); this module
// mirrors it in the DOM.

import { state, key, myName, isMine } from './state.js';
import { el, h, avatar, nameHue, timeEl, dayKey, dayLabel, isNearBottom, scrollToBottom, keepBottom } from './dom.js';
import { textEl, mentionsMe } from './render.js';
import { decorate, onNewMessage, onUpdate } from './changes.js';
import { lookup, record, update, ownPending, drop, clearList } from './session.js';
import { markReadSoon } from './reads.js';
import { notifyIncoming } from './notify.js';
import { renderSeen } from './dms.js';
import { emit } from './events.js';
import { remove as forgetKept } from './outbox-store.js';

const GROUP_WINDOW_MS = 5 * 60_000; // one author within 5 minutes: one group

/** Adds one message, deduplicated and ordered by seq. A message with the client_id of one
 *  of our pending messages takes that pending entry's place. */
export function addMessage(message, { live = false } = {}) {
  const found = lookup(state, message);
  if (!found) return;
  const seq = message.seq;
  if (found.entry) { // already shown (e.g. placed from its ack): refresh, never duplicate
    found.entry.message = message;
    return updateMessageEl(found.entry.el, message);
  }
  const stick = live && isNearBottom() && !state.detached; // after a jump, the live end is not on screen
  const pending = ownPending(state, message, isMine(message));
  const node = pending ? confirmPending(pending, message) : buildMessageEl(message);
  if (pending) decorate(node, message);
  placeBySeq(node, seq);
  onNewMessage(message);
  record(state, message, node);
  if (!live) return;
  if (stick || pending) scrollToBottom();
  else el.jumpButton.hidden = false;
  if (!pending && !isMine(message)) notifyIncoming(message);
  else if (state.peerReadSeq) renderSeen();
  markReadSoon();
}

/** A message changed (an update, or a welcome's updates): show it as it is now. */
export function applyUpdate(message, rev) {
  const entry = update(state, message, rev);
  if (entry) updateMessageEl(entry.el, message);
  onUpdate(message);
}

/** Rebuilds the actions of every message shown, after our role changed. */
export function refreshMessageActions() {
  for (const { message, el: node } of state.messages.values()) decorate(node, message);
}

/** Forgets the history on screen; pending messages stay (they are re-sent after a welcome). */
export function clearMessages() {
  clearList(state);
  clearListEl();
}

/** The DOM half of `clearMessages`, when the session's list was cleared already. */
export function clearListEl() {
  el.messages.replaceChildren(...[...state.pending.values()].map((p) => p.el));
  setDetached(false);
}

/** Away from the live end, the jump button brings the newest messages back. */
export function setDetached(detached) {
  state.detached = detached;
  el.jumpButton.querySelector('.jump-label').textContent = detached ? 'Latest messages' : 'New messages';
  el.jumpButton.hidden = !detached;
}

// --- Pending messages' elements ----------------------------------------------------------

/** Takes a pending message off the list (confirmed, dismissed, a repeat). */
export function dropPending(pending) {
  const held = drop(state, pending);
  forgetKept(pending.clientId); // out of the offline outbox too
  detach(pending.el);
  if (held) emit('released'); // it may have held others back
}

/** Turns a pending element into the confirmed message; returns it detached from the list. */
function confirmPending(pending, message) {
  const node = pending.el;
  dropPending(pending);
  node.classList.remove('pending', 'failed', 'waiting');
  node.dataset.seq = String(message.seq);
  for (const extra of node.querySelectorAll('.message-state, .message-error, .message-note, .message-waiting')) extra.remove();
  setMessageTime(node, message.ts);
  return node;
}

/** A pending message's element, at the end of the list. */
export function appendPending(pending) {
  el.messages.append(pending.el);
  refreshAround(pending.el);
}

// --- Elements -----------------------------------------------------------------------------

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
export function buildMessageEl(message) {
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

export function refreshAround(node) {
  refreshGrouping(node);
  const next = nextDated(node);
  if (next) refreshGrouping(next);
}

/** Items with a time (messages, and system lines such as "X joined") carry `data-ts`; the
 *  day divider goes on the first of each day, whichever kind it is. */
const isDated = (node) => Boolean(node.dataset.ts);

function nextDated(node) {
  let next = node.nextElementSibling;
  while (next && !isDated(next)) next = next.nextElementSibling;
  return next;
}

/** Removes a list item, regrouping the one that followed it. */
function detach(node) {
  const next = nextDated(node);
  node.remove();
  if (next) refreshGrouping(next);
}

/** Groups consecutive messages of one author and marks the first item of each day. */
function refreshGrouping(node) {
  if (!isDated(node)) return;
  const ts = Number(node.dataset.ts);
  const prev = node.previousElementSibling;
  let prevDated = prev;
  while (prevDated && !isDated(prevDated)) prevDated = prevDated.previousElementSibling;
  const newDay = !prevDated || dayKey(Number(prevDated.dataset.ts)) !== dayKey(ts);
  const grouped = node.classList.contains('message') && !newDay && prev === prevDated
    && prev.classList.contains('message') && !prev.classList.contains('failed')
    && prev.dataset.author === node.dataset.author && ts - Number(prev.dataset.ts) < GROUP_WINDOW_MS;
  node.classList.toggle('grouped', grouped);
  node.classList.toggle('day-start', newDay);
  if (newDay) node.dataset.day = dayLabel(ts); else delete node.dataset.day;
}

/** A line about the room (joined, left, moderation), after the newest message. */
export function addSystemLine(text) {
  const now = Date.now();
  const line = h('li', { class: 'system-line', 'data-after': state.maxSeq, 'data-ts': now },
    h('span', { text }), ' ', timeEl(now, 'system-time'));
  keepBottom(() => placeBySeq(line, state.maxSeq + 0.5));
}

/** Marks where the messages we have not read begin (none on a first visit). */
export function showNewDivider(readSeq) {
  el.messages.querySelector('.new-divider')?.remove();
  if (!readSeq) return;
  const first = [...state.messages.keys()].filter((seq) => seq > readSeq && !isMine(state.messages.get(seq).message))
    .sort((a, b) => a - b)[0];
  if (first === undefined) return;
  const line = h('li', { class: 'system-line new-divider', 'data-after': first - 1, role: 'separator' },
    h('span', { text: 'New messages' }));
  placeBySeq(line, first - 0.5);
}
