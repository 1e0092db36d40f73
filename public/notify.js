// Telling the person about new messages: the screen reader's announcement, the unread
// count in the tab's title while it is hidden, and browser notifications for mentions
// (permission asked on a click, never on load).

import { state } from './state.js';
import { el, toast } from './dom.js';
import { mentionsMe } from './render.js';

/** The tab's title: the room, with the count of messages that came while it was hidden. */
export function updateTitle() {
  if (state.view === 'chat') document.title = `${state.unread ? `(${state.unread}) ` : ''}#${state.room} — edgechat`;
}

/** Announces a new message to screen readers and counts it while the tab is hidden. */
export function notifyIncoming(message) {
  const text = message.text.length > 200 ? `${message.text.slice(0, 200)}…` : message.text;
  el.announcer.textContent = `${message.name}: ${text}`;
  if (document.hidden) {
    state.unread += 1;
    updateTitle();
    if (state.status !== 'dnd' && mentionsMe(message.text)) notifyMention(message, text);
  }
}

const notificationsSupported = () => typeof Notification === 'function';

export function showNotifyButton() {
  el.notifyButton.hidden = !(notificationsSupported() && Notification.permission === 'default');
}

export async function askNotificationPermission() {
  if (!notificationsSupported()) return;
  try {
    await Notification.requestPermission();
  } catch {
    // An old browser with the callback form only: nothing to do but hide the button.
  }
  showNotifyButton();
  if (Notification.permission === 'denied') toast('Notifications are blocked for this site in the browser settings.');
}

function notifyMention(message, text) {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(`${message.name} mentioned you in #${state.room}`, { body: text, tag: `edgechat-${state.room}` });
    n.onclick = () => { window.focus(); n.close(); };
  } catch {
    // Some browsers only allow notifications from a service worker; the title count stays.
  }
}
