// The page's elements and the builders every view uses: `el` (each element with an id,
// as el.camelCase), `h` (elements from text nodes only: user text never reaches the DOM
// as HTML), avatars, times and dates, the scroller's "stay at the bottom", and toasts.

import { key } from './state.js';
import { icon } from './icons.js';

/** Every element with one of these ids, as el.camelCase (e.g. el.nameInput). */
export const el = Object.fromEntries([
  'landing', 'join-form', 'name-input', 'room-input', 'form-error', 'form-notice', 'rooms-list', 'rooms-status',
  'rooms-refresh', 'chat', 'room-title', 'leave-button', 'status-picker', 'status-select',
  'notify-button', 'release-button', 'release-dialog', 'release-name', 'release-cancel', 'release-confirm',
  'dm-leave-button', 'room-roles', 'room-edit-button', 'room-edit-dialog', 'room-edit-form', 'room-edit-title',
  'room-edit-description', 'room-edit-error', 'room-edit-cancel', 'users-toggle', 'users-count', 'users-panel', 'users-close', 'users', 'users-online', 'users-more', 'users-offline-heading', 'users-offline', 'conn-banner', 'conn-text', 'conn-spoken',
  'reconnect-now', 'scroller', 'history-status', 'messages', 'jump-button', 'typing', 'composer',
  'message-input', 'char-counter', 'send-button', 'announcer', 'toasts',
  'attach-button', 'file-input', 'attach-status', 'dms-section', 'dms-list',
  'create-form', 'create-title', 'create-id', 'create-private', 'create-description', 'create-error',
  'room-description', 'open-rooms', 'open-rooms-list',
  'reply-bar', 'reply-name', 'reply-text', 'reply-cancel', 'thread-panel', 'thread-close', 'thread-parent',
  'thread-count', 'thread-list', 'thread-form', 'thread-input', 'export-menu', 'export-toggle', 'export-jsonl', 'export-md',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

/** Creates an element: attrs are `class`, `text`, `on<event>` or attributes (null/false skipped);
 *  string children become text nodes, so user text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
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

// --- Avatars ----------------------------------------------------------------------------

/** A stable hue (0-359) per name (FNV-1a), so everyone keeps their colour. */
export function nameHue(name) {
  let hash = 2166136261;
  for (const ch of key(name)) hash = Math.imul(hash ^ ch.codePointAt(0), 16777619);
  return (hash >>> 0) % 360;
}

function initials(name) {
  const words = name.trim().split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [[...words[0]][0], [...words[1]][0]] : [[...(words[0] || '?')][0]];
  return letters.join('').toUpperCase();
}

export function avatar(name, size = '') {
  const node = h('span', { class: `avatar ${size}`.trim(), 'aria-hidden': 'true', text: initials(name) });
  node.style.setProperty('--hue', String(nameHue(name)));
  return node;
}

// --- Dates ------------------------------------------------------------------------------

const pad2 = (n) => String(n).padStart(2, '0');
export const hhmm = (ts) => { const d = new Date(ts); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`; };
export const fullDate = (ts) => new Date(ts).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'medium' });
export const dayKey = (ts) => new Date(ts).toDateString();

export function dayLabel(ts) {
  const now = new Date();
  if (dayKey(ts) === now.toDateString()) return 'Today';
  if (dayKey(ts) === new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).toDateString()) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, { dateStyle: 'full' });
}

export function relativeTime(ts) {
  const seconds = Math.round((Date.now() - ts) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function timeEl(ts, className = 'message-time') {
  return h('time', { class: className, datetime: new Date(ts).toISOString(), title: fullDate(ts), text: hhmm(ts) });
}

// --- The message list's scroller ----------------------------------------------------------

const NEAR_BOTTOM_PX = 80;

export function isNearBottom() {
  const { scrollHeight, scrollTop, clientHeight } = el.scroller;
  return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
}

export function scrollToBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
  el.jumpButton.hidden = true;
}

/** Runs a layout change; if the history was scrolled to the bottom, it stays there. */
export function keepBottom(change) {
  const stick = isNearBottom();
  change();
  if (stick) scrollToBottom();
}

// --- Toasts -----------------------------------------------------------------------------

/** A passing note; `kind` 'error' (the default) or 'info'; `ms` how long it stays. */
export function toast(text, kind = 'error', ms = 6000) {
  if ([...el.toasts.children].some((t) => t.dataset.text === text)) return; // no repeats
  const node = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-text': text },
    h('span', { text }),
    h('button', { type: 'button', class: 'ghost icon', 'aria-label': 'Dismiss', onclick: () => node.remove() }, icon('close')));
  el.toasts.append(node);
  setTimeout(() => node.remove(), ms);
}
