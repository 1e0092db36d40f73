// Messages that change after they are sent, in the web UI: the actions on a message
// (react, reply, thread, edit, delete), the marks a changed message carries (a quote
// of its parent, "edited", a tombstone, reaction chips, a reply count), the reply bar
// above the composer and the thread panel. messages.js calls `decorate` on every
// message it shows; sending a reply (the composer's, the thread box's) is outbox.js's.
// Everything is built from text nodes.

import { state, key, myName } from './state.js';
import { el, h, timeEl, fullDate, toast } from './dom.js';
import { icon } from './icons.js';
import { textEl, attachmentEl } from './render.js';
import { sendFrame } from './socket.js';
import { newClientId } from './session.js';
import { canModerate, isModerator } from './roles.js';
import { THREAD_PAGE } from './protocol.js';

/** The reactions offered in the picker; any emoji the server accepts is shown. */
export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀'];
const QUOTE_CHARS = 120;

const thread = { seq: null, messages: new Map() }; // the thread panel's parent and replies
let replyTo = null;                                  // the message the composer answers

/** Wires the reply bar and the thread panel. */
export function initChanges() {
  el.replyCancel.addEventListener('click', () => setReplyTo(null));
  el.threadClose.addEventListener('click', closeThread);
  el.threadPanel.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeThread(); });
  el.threadInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.threadForm.requestSubmit();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && replyTo !== null && document.activeElement === el.messageInput) setReplyTo(null);
  });
  document.addEventListener('click', (event) => { // a click elsewhere closes an open picker
    for (const picker of document.querySelectorAll('.reaction-picker')) {
      if (!picker.parentElement.contains(event.target)) picker.remove();
    }
  });
  el.messages.addEventListener('click', onMessageTap);
}

/** A tap (or click) on a message shows its actions, and hides any other's: where nothing
 *  hovers (a touch screen) this is how the actions are reached. Taps on its links, buttons
 *  and edit box keep their own meaning. */
function onMessageTap(event) {
  if (event.target.closest('a, button, textarea, input, select, form')) return;
  const node = event.target.closest('.message');
  if (!node || !node.querySelector('.message-actions')) return;
  if (window.getSelection()?.toString()) return; // selecting text is not a tap
  const open = !node.classList.contains('actions-open');
  for (const other of el.messages.querySelectorAll('.message.actions-open')) other.classList.remove('actions-open');
  node.classList.toggle('actions-open', open);
}

// --- Marks on a message ------------------------------------------------------------------

const mine = (message) => key(message.name) === key(myName());

/** Adds (or refreshes) everything a message shows beyond its text. `node` is its <li>. */
export function decorate(node, message) {
  const body = node.querySelector('.message-body');
  for (const old of body.querySelectorAll('.reply-quote, .edited-mark, .pinned-mark, .attachment, .reactions, .reply-count, .message-actions')) old.remove();
  node.classList.toggle('deleted', Boolean(message.deleted));
  if (message.deleted) {
    body.querySelector('.message-text').replaceWith(h('div', { class: 'message-text tombstone', text: 'This message was deleted.' }));
  }
  if (Number.isInteger(message.reply_to)) body.querySelector('.message-meta').after(quoteEl(message.reply_to));
  if (message.edited_ts && !message.deleted) {
    body.querySelector('.message-meta').append(' ', h('span', {
      class: 'edited-mark', text: '(edited)', title: `Edited ${fullDate(message.edited_ts)}`,
    }));
  }
  if (message.pinned && !message.deleted) {
    body.querySelector('.message-meta').append(' ', h('span', {
      class: 'pinned-mark', title: `Pinned by ${message.pinned.by}`,
    }, pinIcon(12), h('span', { text: 'Pinned' })));
  }
  if (message.attachment && !message.deleted) body.querySelector('.message-text').after(attachmentEl(message));
  if (!Number.isInteger(message.seq)) return; // a pending message has no actions yet
  if (message.reactions?.length) body.append(reactionsEl(message));
  if (message.reply_count > 0) {
    const n = message.reply_count;
    body.append(h('button', {
      type: 'button', class: 'reply-count link', text: `${n} ${n === 1 ? 'reply' : 'replies'}`,
      onclick: () => openThread(message.seq),
    }));
  }
  if (!message.deleted) body.append(actionsEl(message));
}

/** The parent of a reply, quoted: its author and the start of its text, or its number. */
function quoteEl(parentSeq) {
  const parent = state.messages.get(parentSeq)?.message ?? thread.messages.get(parentSeq);
  let summary;
  if (!parent) summary = `message #${parentSeq}`;
  else if (parent.deleted) summary = 'a deleted message';
  else summary = [...parent.text].length > QUOTE_CHARS ? `${[...parent.text].slice(0, QUOTE_CHARS).join('')}…` : parent.text;
  return h('button', {
    type: 'button', class: 'reply-quote', 'data-parent': parentSeq,
    title: 'Show the message this replies to',
    onclick: () => { if (!scrollToSeq(parentSeq)) openThread(parentSeq); },
  },
  h('span', { class: 'quote-name', text: parent ? parent.name : 'Reply' }), ' ', h('span', { class: 'quote-text', text: summary }));
}

/** How many reacted: `count`, or (from an older server) the names listed. */
const reactionCount = (r) => Math.max(Number.isInteger(r.count) ? r.count : 0, r.names?.length ?? 0);

/** Whether a reaction is ours: marked `mine` (in frames sent to us), or we are listed. */
function isMyReaction(r) {
  const me = key(myName());
  return r.mine === true || (r.names ?? []).some((n) => key(n) === me);
}

/**
 * A broadcast `update` carries no `mine` marks (it is the same frame for everyone): keep
 * the marks we knew for this message, and take the change the frame names when it is
 * ours (`reaction`: {emoji, name, on}). Returns the message with its marks set.
 */
export function withMyReactions(frame, previous) {
  const message = frame.message;
  if (!Array.isArray(message?.reactions)) return message;
  const before = new Map((previous?.reactions ?? []).map((r) => [r.emoji, isMyReaction(r)]));
  const change = frame.reaction;
  const mineNow = change && key(change.name) === key(myName());
  for (const r of message.reactions) {
    if (mineNow && r.emoji === change.emoji) r.mine = Boolean(change.on);
    else r.mine = r.mine === true || before.get(r.emoji) === true;
  }
  return message;
}

function reactionsEl(message) {
  return h('div', { class: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    ...message.reactions.map((r) => {
      const { emoji } = r;
      const names = r.names ?? [];
      const count = reactionCount(r);
      const reacted = isMyReaction(r);
      const others = count - names.length;
      const who = names.join(', ') + (others > 0 ? ` and ${others} other${others === 1 ? '' : 's'}` : '');
      return h('button', {
        type: 'button', class: 'reaction', 'aria-pressed': String(reacted), 'data-emoji': emoji,
        title: `${who} reacted with ${emoji}`,
        'aria-label': `${emoji} ${count}: ${who}${reacted ? ' (you; click to remove)' : ''}`,
        onclick: () => react(message.seq, emoji, !reacted),
      }, h('span', { class: 'reaction-emoji', text: emoji }), h('span', { class: 'reaction-count', text: String(count) }));
    }));
}

function actionsEl(message) {
  const action = (label, glyph, onclick, cls = '') => h('button', {
    type: 'button', class: `ghost icon ${cls}`, 'aria-label': label, title: label, onclick,
  }, icon(glyph));
  const bar = h('div', { class: 'message-actions' },
    action('Add reaction', 'react', (event) => togglePicker(event.currentTarget.parentElement, message.seq)),
    action('Reply', 'reply', () => setReplyTo(message)),
    action('Open thread', 'thread', () => openThread(message.seq)));
  if (mine(message)) {
    bar.append(
      action('Edit message', 'edit', () => startEdit(message.seq)),
      action('Delete message', 'trash', () => deleteMessage(message.seq), 'danger'));
  } else if (canModerate(message.name)) { // the owner and the moderators delete others' messages
    bar.append(action('Delete message (moderator)', 'trash', () => deleteMessage(message.seq), 'danger'));
  }
  if (isModerator()) { // the owner and the moderators pin any message
    const label = message.pinned ? 'Unpin message' : 'Pin message';
    bar.append(action(label, 'pin', () => setPinned(message.seq, !message.pinned), message.pinned ? 'pin-action pinned' : 'pin-action'));
  }
  return bar;
}

function togglePicker(bar, seq) {
  const open = bar.querySelector('.reaction-picker');
  if (open) return open.remove();
  bar.append(h('div', { class: 'reaction-picker', role: 'group', 'aria-label': 'Pick a reaction' },
    ...QUICK_EMOJI.map((emoji) => h('button', {
      type: 'button', class: 'ghost', 'aria-label': `React with ${emoji}`, text: emoji,
      onclick: (event) => { event.stopPropagation(); event.currentTarget.parentElement.remove(); react(seq, emoji, true); },
    }))));
}

// --- What a click sends --------------------------------------------------------------------

const changeId = () => `chg-${newClientId()}`;

function send(frame) {
  if (!sendFrame(frame)) toast('Not connected: try again in a moment.');
}

function react(seq, emoji, on) {
  send({ type: 'react', seq, emoji, on, client_id: changeId() });
}

function deleteMessage(seq) {
  if (!window.confirm('Delete this message? Everyone will see that a message was deleted here.')) return;
  send({ type: 'delete', seq, client_id: changeId() });
}

/** Edits in place: the text becomes a box; Enter saves, Escape cancels. */
function startEdit(seq) {
  const entry = state.messages.get(seq);
  if (!entry || entry.message.deleted) return;
  const textNode = entry.el.querySelector('.message-text');
  const input = h('textarea', { class: 'edit-input', rows: '2', 'aria-label': 'Edit your message' });
  input.value = entry.message.text;
  const cancel = () => { form.replaceWith(textNode); };
  const save = () => {
    const text = input.value.trim();
    if (!text || text === entry.message.text) return cancel();
    send({ type: 'edit', seq, text, client_id: changeId() });
    form.classList.add('saving');
  };
  const form = h('form', { class: 'edit-form', onsubmit: (event) => { event.preventDefault(); save(); } },
    input,
    h('div', { class: 'edit-buttons' },
      h('button', { type: 'button', class: 'ghost', text: 'Cancel', onclick: cancel }),
      h('button', { type: 'submit', class: 'primary', text: 'Save' })));
  form.dataset.raw = entry.message.text;
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { event.preventDefault(); cancel(); }
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) { event.preventDefault(); save(); }
  });
  textNode.replaceWith(form);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

// --- Replying ------------------------------------------------------------------------------

/** The message the thread panel shows (its replies go to it), or null. */
export const threadSeq = () => thread.seq;

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

/** The seq the composer's next message answers, if any. */
export const replyTarget = () => replyTo;

export function setReplyTo(message) {
  replyTo = message ? message.seq : null;
  el.replyBar.hidden = !message;
  if (message) {
    el.replyName.textContent = message.name;
    el.replyText.textContent = [...message.text].slice(0, QUOTE_CHARS).join('');
    el.messageInput.focus();
  }
}

// --- Frames --------------------------------------------------------------------------------

/** A message changed: whichever views show it are refreshed. */
export function onUpdate(message) {
  if (thread.messages.has(message.seq) || thread.seq === message.seq) {
    thread.messages.set(message.seq, message);
    renderThread();
  }
  // Replies quoting it show its new text.
  for (const quote of document.querySelectorAll(`#messages .reply-quote[data-parent="${message.seq}"]`)) {
    quote.replaceWith(quoteEl(message.seq));
  }
}

/** A new message: a reply to the open thread joins it. */
export function onNewMessage(message) {
  if (thread.seq !== null && message.reply_to === thread.seq) {
    thread.messages.set(message.seq, message);
    renderThread();
  }
}

/** Whether an error frame is about a change made here; if so it has been shown. */
export function onChangeError(frame) {
  if (!frame.client_id?.startsWith('chg-')) return false;
  toast(frame.message || 'That change was refused.');
  for (const form of document.querySelectorAll('.edit-form.saving')) form.classList.remove('saving');
  return true;
}

// --- The thread panel ----------------------------------------------------------------------

export function openThread(seq) {
  thread.seq = seq;
  thread.messages = new Map();
  thread.loaded = false;
  const parent = state.messages.get(seq)?.message;
  if (parent) thread.messages.set(seq, parent);
  el.threadPanel.hidden = false;
  el.threadPanel.classList.add('open');
  el.threadList.replaceChildren(h('li', { class: 'thread-loading', text: 'Loading replies…' }));
  el.threadParent.replaceChildren();
  renderThread();
  send({ type: 'thread', seq, limit: THREAD_PAGE });
  el.threadInput.focus();
}

export function closeThread() {
  thread.seq = null;
  thread.messages = new Map();
  el.threadPanel.classList.remove('open');
  el.threadPanel.hidden = true;
}

export function onThread(frame) {
  if (frame.seq !== thread.seq) return; // an answer for a thread since closed
  for (const m of frame.messages) thread.messages.set(m.seq, m);
  thread.loaded = true;
  renderThread();
  if (frame.has_more && frame.messages.length) {
    send({ type: 'thread', seq: thread.seq, after: frame.messages[frame.messages.length - 1].seq, limit: THREAD_PAGE });
  }
}

function threadItem(message) {
  const node = h('li', { class: 'thread-message', 'data-seq': message.seq },
    h('div', { class: 'message-body' },
      h('div', { class: 'message-meta' }, h('span', { class: 'message-name', text: message.name }), ' ', timeEl(message.ts)),
      message.deleted ? h('div', { class: 'message-text tombstone', text: 'This message was deleted.' }) : textEl(message.text)));
  if (message.edited_ts && !message.deleted) node.querySelector('.message-meta').append(' ', h('span', { class: 'edited-mark', text: '(edited)' }));
  if (message.reactions?.length) node.querySelector('.message-body').append(reactionsEl(message));
  return node;
}

function renderThread() {
  if (thread.seq === null) return;
  const parent = thread.messages.get(thread.seq);
  el.threadParent.replaceChildren(parent ? threadItem(parent) : h('p', { text: `Message #${thread.seq}` }));
  const replies = [...thread.messages.values()].filter((m) => m.reply_to === thread.seq).sort((a, b) => a.seq - b.seq);
  if (!thread.loaded && !replies.length) return;
  el.threadCount.textContent = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
  el.threadList.replaceChildren(...(replies.length
    ? replies.map(threadItem)
    : [h('li', { class: 'thread-empty', text: 'No replies yet. Start the thread below.' })]));
}

/** The pin icon (icons.js), `size` pixels square, hidden from assistive technology. */
export function pinIcon(size = 16) {
  const svg = icon('pin');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  return svg;
}

/** Asks the room to pin (`on`) or unpin message `seq` (owner and moderators only). */
export function setPinned(seq, on) {
  if (!sendFrame({ type: on ? 'pin' : 'unpin', seq, client_id: `chg-${newClientId()}` })) {
    toast('Not connected: try again in a moment.');
  }
}
