// What a message's body shows, built from text nodes and a few elements only (no markup
// in a message can ever reach the page as HTML): markdown-lite (```code blocks```,
// `code`, *bold*, _italic_), http(s) links, @mentions (and whether one is ours), and an
// attachment (an inline image, or a download link).

import { state, key, myName } from './state.js';
import { h } from './dom.js';
import { icon } from './icons.js';

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** ```optional-language⏎ ... ``` */
const CODE_BLOCK_RE = /```(?:[^\n`]*\n)?([\s\S]*?)```/g;
/** `code`, *bold* and _italic_: markers hug their text and do not sit inside words. */
const INLINE_RE = /`([^`\n]+)`|(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g;
/** `@name`: an @ not inside a word, then the name up to a space (names with spaces match
 *  by their first word). */
const MENTION_RE = /(?<![\w@])@([^\s@]{1,32})/g;
const trimMention = (name) => name.replace(/[.,;:!?)\]}'"]+$/, '');

/** A message's text element (`.message-text`, its raw text in data-raw). */
export function textEl(text) {
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

/** Whether `text` mentions our name (or its first word). */
export function mentionsMe(text) {
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

export const sizeLabel = (n) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** The attachment of a message: an inline image (a link to the full file) or a link. */
export function attachmentEl(message) {
  const file = message.attachment;
  const url = `/room/${encodeURIComponent(message.room || state.room)}/files/${encodeURIComponent(file.id)}`;
  if (String(file.content_type).startsWith('image/')) {
    return h('a', { class: 'attachment attachment-image', href: url, target: '_blank', rel: 'noopener' },
      h('img', { src: url, alt: file.filename, loading: 'lazy' }));
  }
  return h('a', { class: 'attachment attachment-file', href: url, download: file.filename, rel: 'noopener' },
    icon('paperclip'),
    h('span', { class: 'attachment-name', text: file.filename }),
    h('span', { class: 'attachment-size', text: ` (${sizeLabel(Number(file.size) || 0)})` }));
}
