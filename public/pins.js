// Pinned messages: the header's pin control (an icon and how many are pinned) opens the
// room's pin list; an entry jumps to its message (history.js loads the page around it).
// The owner and the moderators pin and unpin from a message's actions (changes.js) or
// unpin from the list. The list comes whole with the welcome and with every `pins`
// frame; each entry carries the start of the message's text, so it shows without the
// message being loaded. Icons are inline SVG, built as elements (no markup strings).

import { state } from './state.js';
import { h, fullDate } from './dom.js';
import { isModerator } from './roles.js';
import { jumpToMessage } from './history.js';
import { setPinned } from './changes.js';

const el = Object.fromEntries(['pins-toggle', 'pins-count', 'pins-panel', 'pins-close', 'pins-list']
  .map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

const isPin = (p) => p && Number.isInteger(p.seq) && p.seq > 0 && typeof p.name === 'string';

/** Takes the room's pin list (welcome, `pins` frame) and shows it. */
export function setPins(pins) {
  state.pins = (Array.isArray(pins) ? pins : []).filter(isPin).sort((a, b) => a.seq - b.seq);
  renderPins();
}

/** The header's control (hidden while nothing is pinned) and the list, if open. */
export function renderPins() {
  const n = state.pins.length;
  el.pinsToggle.hidden = n === 0;
  el.pinsCount.textContent = String(n);
  el.pinsToggle.title = n === 1 ? '1 pinned message' : `${n} pinned messages`;
  if (n === 0 && !el.pinsPanel.hidden) togglePins(false);
  el.pinsList.replaceChildren(...[...state.pins].reverse().map(entryEl)); // the newest message first
}

function entryEl(pin) {
  const go = h('button', {
    type: 'button', class: 'pin-entry',
    title: `Pinned by ${pin.by}${Number.isFinite(pin.ts) ? `, ${fullDate(pin.ts)}` : ''}`,
    onclick: () => { togglePins(false); jumpToMessage(state.room, pin.seq); },
  },
  h('span', { class: 'pin-entry-name', text: pin.name }),
  h('span', { class: 'pin-entry-text', text: pin.text || `Message ${pin.seq}` }));
  const li = h('li', { class: 'pin-item', 'data-seq': String(pin.seq) }, go);
  if (isModerator()) {
    li.append(h('button', {
      type: 'button', class: 'ghost pin-remove', text: 'Unpin', 'aria-label': `Unpin the message of ${pin.name}`,
      onclick: () => setPinned(pin.seq, false),
    }));
  }
  return li;
}

function togglePins(open = el.pinsPanel.hidden) {
  el.pinsPanel.hidden = !open;
  el.pinsToggle.setAttribute('aria-expanded', String(open));
  if (open) el.pinsList.querySelector('button')?.focus();
}

el.pinsToggle.addEventListener('click', () => togglePins());
el.pinsClose.addEventListener('click', () => { togglePins(false); el.pinsToggle.focus(); });
el.pinsPanel.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') { togglePins(false); el.pinsToggle.focus(); }
});
