// The composer's box: it grows with its text, shows a character counter near the limit
// (and disables Send past it), and tells the room we are typing, at most every 2.5 s.
// Sending what it holds is outbox.js's.

import { state } from './state.js';
import { el, keepBottom } from './dom.js';
import { MAX_TEXT_CHARS, codePoints } from './protocol.js';
import { sendFrame } from './socket.js';

const COUNTER_FROM = 3500;          // the character counter shows from this length on
const TYPING_THROTTLE_MS = 2500;

/** The box changed: its height, the counter, and typing on (or off when emptied). */
export function onComposerInput() {
  autoGrow();
  updateCounter();
  if (!el.messageInput.value.trim()) return stopTyping();
  const now = Date.now();
  if (now - state.lastTypingSent >= TYPING_THROTTLE_MS && sendFrame({ type: 'typing', on: true })) {
    Object.assign(state, { lastTypingSent: now, typingOn: true });
  }
}

export function stopTyping() {
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
  el.charCounter.textContent = show ? `${length} / ${MAX_TEXT_CHARS}` : '';
  el.charCounter.classList.toggle('over', length > MAX_TEXT_CHARS);
  el.sendButton.disabled = length === 0 || length > MAX_TEXT_CHARS;
}
