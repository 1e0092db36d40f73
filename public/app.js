// edgechat web client: wiring and startup only.
//
// Two views: the landing page (pick a name and a room) and the chat view, which talks to
// the room's Durable Object over one WebSocket. PROTOCOL.md is the wire contract, and
// protocol.js its constants. The modules, from the bottom up:
//
//   protocol.js  the wire contract's constants and name/room rules
//   events.js    a tiny dispatch, so that low modules tell higher ones without a cycle
//   session.js   the room's session without I/O: pending, resend, resume, catch-up, dedupe
//   names.js     name claims and their tokens (never in a URL)
//   state.js     the one state object, and the small functions that change it
//   dom.js       elements (`el`), the `h` builder, avatars, dates, scrolling, toasts
//   icons.js     the UI's icons as inline SVG (no icon needs a font)
//   socket.js    connect, keep-alive, close codes, backoff, the refused-connect probe
//   nav.js       routing by the address
//   render.js    a message's body: markdown-lite, links, mentions, attachments
//   roles.js     owner and moderators, and moderation requests
//   changes.js   reactions, replies, threads, edits, deletes
//   rooms.js, dms.js   the rail of open rooms, making rooms, direct messages
//   reads.js, notify.js   read positions; announcements, the title count, notifications
//   messages.js  the message list on screen
//   history.js   older pages, catch-up, jumping to a message
//   composer.js, outbox.js   the message box; sending and pending messages
//   outbox-queue.js, outbox-store.js   the offline outbox: its rules, and its IndexedDB
//   sw.js, sw-cache.js   the service worker: the app shell for offline loads
//   presence.js  people, statuses, typing
//   attachments.js   uploads
//   views.js     the landing and chat views, entering and leaving rooms
//   frames.js    incoming frames to their handlers
//   search.js    the search panel (its own entry in index.html)
//
// Rule of the house: user text only reaches the DOM through textContent or text nodes
// (see dom.js `h`), never through innerHTML.

import { state } from './state.js';
import { el, scrollToBottom } from './dom.js';
import { fillIcons } from './icons.js';
import { on } from './events.js';
import { isDmRoom } from './protocol.js';
import { reconnectSoon, reconnectNow } from './socket.js';
import { navigate } from './nav.js';
import { onFrame } from './frames.js';
import { route, showLanding, tryJoin, loadRooms, onLeaveOpenRoom, onLeftDm, onReleaseName, releaseConfirmed } from './views.js';
import { onScroll, backToLatest } from './history.js';
import { sendMessage, sendThreadReply, onComposerKeydown, flushWaiting, markAllWaiting } from './outbox.js';
import { clearRoom as clearOutbox } from './outbox-store.js';
import { onComposerInput, stopTyping } from './composer.js';
import { setMyStatus, toggleUsers, closeUsers, setTypingNames, showMoreUsers } from './presence.js';
import { updateTitle, showNotifyButton, askNotificationPermission } from './notify.js';
import { markReadSoon } from './reads.js';
import { initChanges } from './changes.js';
import { initAttachments } from './attachments.js';
import { initRooms } from './rooms.js';
import { initExport } from './export.js';
import { leaveDm } from './dms.js';

window.edgechat = { state };

function onVisibilityChange() {
  if (document.hidden) return;
  state.unread = 0;
  updateTitle();
  reconnectSoon();
  markReadSoon();
}

/** What the lower modules tell (events.js). */
function wireEvents() {
  on('frame', onFrame);
  on('socket-lost', () => {
    state.typingOn = false;
    setTypingNames([]);
    markAllWaiting();
  });
  // Kicked or banned (no reconnect), or refused: what waits to be sent there never will be.
  on('removed', (room, why) => { clearOutbox(room); showLanding({ room, error: why }); });
  on('refused', (room, error, field) => { clearOutbox(room); showLanding({ room, error, field }); });
  on('route', route);
  on('open-room-left', onLeaveOpenRoom);
  on('dm-left', onLeftDm);
  on('released', flushWaiting);
}

function init() {
  fillIcons(document);
  wireEvents();
  el.joinForm.addEventListener('submit', (event) => { event.preventDefault(); tryJoin(); });
  el.roomsRefresh.addEventListener('click', loadRooms);
  el.leaveButton.addEventListener('click', () => navigate(''));
  el.reconnectNow.addEventListener('click', reconnectNow);
  el.statusSelect.addEventListener('change', () => setMyStatus(el.statusSelect.value));
  el.usersToggle.addEventListener('click', () => toggleUsers());
  el.notifyButton.addEventListener('click', askNotificationPermission);
  el.releaseButton.addEventListener('click', onReleaseName);
  el.releaseCancel.addEventListener('click', () => el.releaseDialog.close('cancel'));
  el.releaseConfirm.addEventListener('click', releaseConfirmed);
  el.releaseDialog.addEventListener('close', () => { if (el.releaseDialog.returnValue !== 'release') el.releaseButton.focus(); });
  el.dmLeaveButton.addEventListener('click', () => { if (isDmRoom(state.room)) leaveDm(state.room); });
  showNotifyButton();
  el.usersClose.addEventListener('click', closeUsers);
  el.usersMore.addEventListener('click', showMoreUsers);
  el.usersPanel.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeUsers(); });
  document.addEventListener('click', (event) => { // a click outside closes the phone drawer
    if (el.usersPanel.classList.contains('open') && !el.usersPanel.contains(event.target)
      && !el.usersToggle.contains(event.target)) toggleUsers(false);
  });
  el.scroller.addEventListener('scroll', onScroll, { passive: true });
  el.jumpButton.addEventListener('click', () => {
    if (state.detached) backToLatest(); else scrollToBottom();
    el.messageInput.focus();
  });
  el.composer.addEventListener('submit', (event) => { event.preventDefault(); sendMessage(); el.messageInput.focus(); });
  el.messageInput.addEventListener('keydown', onComposerKeydown);
  el.messageInput.addEventListener('input', onComposerInput);
  el.messageInput.addEventListener('blur', () => { if (!el.messageInput.value.trim()) stopTyping(); });
  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);
  window.addEventListener('online', reconnectSoon);
  document.addEventListener('visibilitychange', onVisibilityChange);
  el.threadForm.addEventListener('submit', (event) => { event.preventDefault(); sendThreadReply(); });
  initChanges();
  initAttachments();
  initRooms();
  initExport();
  route();
  registerServiceWorker();
}

/** The service worker keeps the app shell, so that a reload offline still shows the app
 *  (and what waits in the outbox). Without one (an old browser, http on another host) the
 *  app works as before, online only. */
function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('edgechat: no service worker', err));
}

init();
