// Read positions: ours, which the room keeps per name (we tell it what is on screen once
// the tab is visible and at the newest messages), and in a direct message the other
// name's (dms.js shows it as "Seen").

import { state, key, myName } from './state.js';
import { isNearBottom } from './dom.js';
import { sendFrame } from './socket.js';
import { renderSeen } from './dms.js';

const READ_DELAY_MS = 500;

/** A `read` frame: a read position moved, ours (another tab) or the other name's. */
export function onRead(frame) {
  const seq = Number(frame.seq) || 0;
  if (frame.name && key(frame.name) !== key(myName())) {
    state.peerReadSeq = Math.max(state.peerReadSeq ?? 0, seq);
    return renderSeen();
  }
  state.readSeq = Math.max(state.readSeq, seq);
}

/** Tells the room we have read what is on screen, once the tab is visible and at the newest
 *  messages; at most every half second. */
export function markReadSoon() {
  if (state.readTimer) return;
  state.readTimer = setTimeout(() => {
    state.readTimer = 0;
    if (document.hidden || !state.welcomed || !isNearBottom() || state.detached) return;
    const seq = state.contiguousSeq;
    if (seq > state.readSeq && sendFrame({ type: 'read', seq })) state.readSeq = seq;
  }, READ_DELAY_MS);
}
