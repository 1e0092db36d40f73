// History on screen: older pages when the top is in view, the catch-up of missed pages
// after a reconnect, the history status line, and jumping to a message (a search result)
// by loading the window around it; "Latest messages" brings the live end back. What to
// ask and how an answer moves the list is the session's (session.js); this module sends
// it and keeps the view still.

import { state } from './state.js';
import { el, toast, isNearBottom, scrollToBottom } from './dom.js';
import { ROOM_RE, PAGE_SIZE, isDmRoom } from './protocol.js';
import { roomLabel } from './dms.js';
import * as session from './session.js';
import { sendFrame } from './socket.js';
import { addMessage, clearMessages, setDetached } from './messages.js';
import { markReadSoon } from './reads.js';
import { navigate } from './nav.js';

const LOAD_OLDER_PX = 120; // this close to the top, older history loads
const JUMP_CONTEXT = 20;   // messages loaded above the one jumped to

function send(frame) {
  if (!frame) return;
  sendFrame(frame);
  updateHistoryStatus();
}

function requestHistory(dir, cursor, limit) {
  send(session.requestHistory(state, dir, cursor, limit));
}

/** Fetches missed messages after the last contiguous seq, a page at a time. Away from the
 *  live end (after a jump), only when the bottom of what is shown is (nearly) in view. */
export function fillGap() {
  if (state.detached && state.contiguousSeq >= state.knownLastSeq) setDetached(false);
  if (state.detached && !isNearBottom()) return;
  send(session.catchUp(state));
}

/** Asks for an older page when the top of the history is (nearly) in view. */
export function maybeLoadOlder() {
  if (el.scroller.scrollTop > LOAD_OLDER_PX) return;
  const next = session.older(state);
  if (next?.frame) send(next.frame);
  else if (next?.ended) updateHistoryStatus();
}

export function onHistory(frame) {
  const answer = session.history(state, frame);
  if (!answer.request) {
    answer.messages.forEach((message) => addMessage(message));
    return continueJump();
  }
  if (answer.request.dir === 'before') {
    const fromBottom = el.scroller.scrollHeight - el.scroller.scrollTop;
    for (const message of answer.messages) addMessage(message);
    session.historyDone(state, frame, answer);
    el.scroller.scrollTop = el.scroller.scrollHeight - fromBottom; // keep the view still
  } else {
    const stick = isNearBottom();
    for (const message of answer.messages) addMessage(message);
    session.historyDone(state, frame, answer);
    if (stick && !state.detached) scrollToBottom();
  }
  continueJump();
  updateHistoryStatus();
  fillGap();
  maybeLoadOlder();
}

export function updateHistoryStatus() {
  let text = '';
  if (state.history?.dir === 'before') text = 'Loading older messages…';
  else if (state.everConnected && !state.hasMoreOlder) text = `This is the beginning of ${isDmRoom(state.room) ? roomLabel(state.room) : `#${state.room}`}.`;
  el.historyStatus.textContent = text;
}

export function onScroll() {
  if (isNearBottom() && !state.detached) { el.jumpButton.hidden = true; markReadSoon(); }
  maybeLoadOlder();
  if (state.detached) fillGap();
}

// --- Jumping to a message (search results: see search.js) ------------------------------

/** Shows message `seq` of `room` among its neighbours, highlighted; opens the room first
 *  if needed (the jump then continues after the welcome). */
export function jumpToMessage(room, seq) {
  if (!ROOM_RE.test(room) || !Number.isInteger(seq) || seq < 1) return;
  state.jump = { room, seq, loading: false };
  if (state.view === 'chat' && state.room === room) continueJump();
  else navigate(room);
}

/** Moves a jump on: shows the target once it is on screen, or loads the page around it. */
export function continueJump() {
  const jump = state.jump;
  if (!jump || jump.room !== state.room || !state.welcomed) return;
  if (state.messages.has(jump.seq)) return showJumpTarget(jump.seq);
  if (state.history) return; // a request is in flight: go on when it is answered
  if (jump.loading) { // the page around it came without it
    state.jump = null;
    return toast('That message is not in the history any more.');
  }
  jump.loading = true;
  showFrom(Math.max(0, jump.seq - JUMP_CONTEXT - 1));
  setDetached(true);
  requestHistory('after', state.contiguousSeq, PAGE_SIZE);
}

function showJumpTarget(seq) {
  state.jump = null;
  for (const node of el.messages.querySelectorAll('.jump-target')) node.classList.remove('jump-target');
  const node = state.messages.get(seq).el;
  node.classList.add('jump-target');
  node.scrollIntoView({ block: 'center' });
  if (!isNearBottom() && state.maxSeq > seq) el.jumpButton.hidden = false;
}

/** Starts the list over from `after` on, keeping what is known of the room's end. */
function showFrom(after) {
  const { knownLastSeq } = state;
  clearMessages(); // the DOM too; it forgets the room's end, which the window keeps
  session.reopenAt(state, after, knownLastSeq);
}

/** Back from a window of older history to the newest messages. */
export function backToLatest() {
  showFrom(Math.max(0, state.knownLastSeq - PAGE_SIZE));
  requestHistory('after', state.contiguousSeq, PAGE_SIZE);
}
