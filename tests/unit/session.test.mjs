// public/session.js, the web client's room session without I/O, tested the way
// crates/cli/src/session.rs tests the CLI's: frames and the time go in, the frames to send
// and the state that changed come out. No DOM, no socket, no timers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as session from '../../public/session.js';
import { CATCHUP_PAGE, PAGE_SIZE, MAX_TEXT_CHARS, ERROR_MEANINGS } from '../../public/protocol.js';

const msg = (seq, extra = {}) => ({ seq, room: 'r', name: 'Ann', text: `m${seq}`, ts: 1000 + seq, ...extra });
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

/** Records what a renderer would show: every message lookup() does not know yet. */
function show(s, messages) {
  const shown = [];
  for (const message of messages) {
    const found = session.lookup(s, message);
    if (!found) continue;
    if (found.entry) found.entry.message = message;
    else { session.record(s, message); shown.push(message.seq); }
  }
  return shown;
}

/** A welcome as app.js handles it: its first half, its messages, its second half. */
function welcome(s, frame, now = 0) {
  const { fresh, messages } = session.welcome(s, frame);
  const shown = show(s, messages);
  return { fresh, shown, ...session.welcomed(s, frame, now) };
}

/** A session that had a welcome with messages 1..n (and `rev`), lost its socket and is
 *  reconnecting (with since=). */
function resumed(n, rev = null) {
  const s = session.createSession();
  assert.deepEqual(session.resumeParams(s), {});
  welcome(s, { type: 'welcome', last_seq: n, messages: range(1, n), has_more: false, rev });
  session.disconnected(s);
  session.resumeParams(s); // the reconnect
  return s;
}

test('a first connect has no resume parameters; after a welcome they are since= and rev=', () => {
  const s = session.createSession();
  assert.deepEqual(session.resumeParams(s), {});
  assert.equal(s.usedSince, false);
  welcome(s, { last_seq: 3, messages: range(1, 3), rev: null });
  assert.deepEqual(session.resumeParams(s), { since: 3 }, 'no change seen yet: no rev=');
  assert.equal(s.usedSince, true);
  welcome(s, { last_seq: 3, messages: [], rev: 7 });
  assert.deepEqual(session.resumeParams(s), { since: 3, rev: 7 });
  session.update(s, msg(2, { text: 'edited' }), 9);
  assert.deepEqual(session.resumeParams(s), { since: 3, rev: 9 }, 'an update frame moves rev on');
  assert.equal(s.messages.get(2).message.text, 'edited');
});

test('a resume shows only what was missed and catches up page by page', () => {
  const s = resumed(5);
  assert.deepEqual(session.resumeParams(s), { since: 5 });
  // The room is at 250: the welcome brings 6..55 and says more follow.
  const w = welcome(s, { last_seq: 250, messages: range(6, 55), has_more: true, rev: null });
  assert.equal(w.fresh, false, 'since= and the room did not go backwards: the list is kept');
  assert.deepEqual(w.shown, range(6, 55).map((m) => m.seq));
  assert.equal(s.contiguousSeq, 55);
  assert.equal(s.knownLastSeq, 250);

  let frame = session.catchUp(s);
  assert.deepEqual(frame, { type: 'history', after: 55, limit: CATCHUP_PAGE });
  assert.equal(session.catchUp(s), null, 'one history request at a time');
  let answer = session.history(s, { messages: range(56, 155), has_more: true });
  assert.ok(answer.request, 'the answer fits the request');
  show(s, answer.messages);
  session.historyDone(s, { has_more: true }, answer);
  assert.equal(s.contiguousSeq, 155);

  frame = session.catchUp(s);
  assert.deepEqual(frame, { type: 'history', after: 155, limit: CATCHUP_PAGE });
  answer = session.history(s, { messages: range(156, 250), has_more: false });
  show(s, answer.messages);
  session.historyDone(s, { has_more: false }, answer);
  assert.equal(s.contiguousSeq, 250);
  assert.equal(session.catchUp(s), null, 'caught up');
  assert.equal(s.messages.size, 250);
});

test('a catch-up page that brings nothing new stops the catch-up', () => {
  const s = resumed(5);
  welcome(s, { last_seq: 9, messages: [], has_more: false, rev: null });
  const frame = session.catchUp(s);
  assert.deepEqual(frame, { type: 'history', after: 5, limit: CATCHUP_PAGE });
  const answer = session.history(s, { messages: [], has_more: false });
  session.historyDone(s, { has_more: false }, answer);
  assert.equal(s.knownLastSeq, 5);
  assert.equal(session.catchUp(s), null);
});

test('a late answer to an abandoned request is still shown, and the request stays in flight', () => {
  const s = resumed(60);
  welcome(s, { last_seq: 200, messages: [], has_more: true, rev: null });
  session.catchUp(s); // after 60
  const late = session.history(s, { messages: range(10, 12), has_more: false }); // an old `before` page
  assert.equal(late.request, null);
  assert.deepEqual(s.history, { dir: 'after', cursor: 60 });
});

test('a welcome of a room that went backwards (or without since=) starts the list over', () => {
  const s = resumed(40);
  const w = welcome(s, { last_seq: 3, messages: range(1, 3), has_more: false, rev: null });
  assert.equal(w.fresh, true);
  assert.deepEqual([...s.messages.keys()], [1, 2, 3]);
  assert.equal(s.contiguousSeq, 3);
  assert.equal(s.hasMoreOlder, true, 'resumed: older pages may exist below the last seq');

  const first = session.createSession();
  session.resumeParams(first);
  welcome(first, { last_seq: 80, messages: range(31, 80), has_more: true, rev: null });
  assert.equal(first.hasMoreOlder, true);
  assert.equal(first.contiguousSeq, 80);
});

test('too many changes to patch: the welcome asks for a connect without since=', () => {
  const s = resumed(5, 3);
  const w = welcome(s, { last_seq: 5, messages: [], updates_truncated: true, rev: 90 });
  assert.equal(w.restart, true);
  assert.deepEqual(session.resumeParams(s), {});
});

test('messages are deduplicated by seq, and contiguity waits for the gap to fill', () => {
  const s = session.createSession();
  assert.deepEqual(show(s, [msg(1), msg(2), msg(4)]), [1, 2, 4]);
  assert.equal(s.contiguousSeq, 2);
  assert.deepEqual(show(s, [msg(2, { text: 'again' }), msg(4)]), [], 'already shown: refreshed, never duplicated');
  assert.equal(s.messages.get(2).message.text, 'again');
  assert.deepEqual(show(s, [msg(3)]), [3]);
  assert.equal(s.contiguousSeq, 4);
  assert.deepEqual([s.minSeq, s.maxSeq, s.messages.size], [1, 4, 4]);
  assert.equal(session.lookup(s, { text: 'no seq' }), null);
});

test('older pages go above and stop when none are left', () => {
  const s = session.createSession();
  session.resumeParams(s);
  welcome(s, { last_seq: 120, messages: range(71, 120), has_more: true, rev: null });
  let next = session.older(s);
  assert.deepEqual(next.frame, { type: 'history', before: 71, limit: PAGE_SIZE });
  let answer = session.history(s, { messages: range(21, 70), has_more: true });
  show(s, answer.messages);
  session.historyDone(s, { has_more: true }, answer);
  assert.equal(s.hasMoreOlder, true);
  next = session.older(s);
  assert.deepEqual(next.frame, { type: 'history', before: 21, limit: PAGE_SIZE });
  answer = session.history(s, { messages: range(1, 20), has_more: false });
  show(s, answer.messages);
  session.historyDone(s, { has_more: false }, answer);
  assert.equal(s.hasMoreOlder, false);
  assert.equal(session.older(s), null);
  assert.equal(s.minSeq, 1);
});

test('no history request without a welcome', () => {
  const s = resumed(5);
  s.knownLastSeq = 9;
  assert.equal(session.catchUp(s), null);
});

test('a send is pending until its ack; an ack before the broadcast confirms it', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 0, messages: [], rev: null });
  const p = session.newPending('hello', null, null, 'c1');
  session.track(s, p);
  assert.deepEqual(session.transmit(s, p, 0), { type: 'send', text: 'hello', client_id: 'c1' });
  const out = session.ack(s, { type: 'ack', client_id: 'c1', seq: 1 }, { room: 'r', name: 'Ann', now: 42 });
  assert.deepEqual(out.confirm, { seq: 1, room: 'r', name: 'Ann', text: 'hello', ts: 42, client_id: 'c1', reply_to: null });
  // The renderer shows it; its own pending entry is the one it replaces.
  assert.equal(session.ownPending(s, out.confirm, true), p);
  assert.equal(session.ownPending(s, out.confirm, false), null, 'another name with our client_id confirms nothing');
  session.drop(s, p);
  session.record(s, out.confirm);
  assert.equal(s.pending.size, 0);
  assert.equal(session.ack(s, { type: 'ack', client_id: 'c1', seq: 1 }, { room: 'r', name: 'Ann', now: 43 }), null,
    'a second ack for it: nothing to do');
  assert.equal(session.isShown(s, 'c1'), true);
});

test('an ack for a message shown already (a repeat) drops the pending copy', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 1, messages: [msg(1, { client_id: 'c1' })], rev: null });
  const p = session.newPending('m1', null, null, 'c1');
  session.track(s, p);
  assert.deepEqual(session.ack(s, { client_id: 'c1', seq: 1 }, { room: 'r', name: 'Ann', now: 0 }), { repeat: p });
});

test('replies and attachments ride in the send frame', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 0, messages: [], rev: null });
  const p = session.newPending('see this', 7, 'file-1', 'c2');
  session.track(s, p);
  assert.deepEqual(session.transmit(s, p, 0),
    { type: 'send', text: 'see this', client_id: 'c2', reply_to: 7, attachment: 'file-1' });
});

test('unacknowledged sends are resent with their client_id after a reconnect', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 2, messages: range(1, 2), rev: null });
  const a = session.newPending('a', null, null, 'ca');
  const b = session.newPending('b', null, null, 'cb');
  session.track(s, a);
  session.transmit(s, a, 0);
  session.disconnected(s);
  session.track(s, b);
  assert.equal(session.transmit(s, b, 0), null, 'disconnected: it waits for the welcome');
  assert.equal(b.waiting, true);
  assert.deepEqual(session.resumeParams(s), { since: 2 });
  const w = welcome(s, { last_seq: 2, messages: [], rev: null }, 10);
  assert.deepEqual(w.resend.map(({ pending, frame }) => [pending.clientId, frame]), [
    ['ca', { type: 'send', text: 'a', client_id: 'ca' }],
    ['cb', { type: 'send', text: 'b', client_id: 'cb' }],
  ], 'oldest first, with the same client_id');
});

test('an error with a client_id: refused text fails; rate limited holds and resends in order', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 0, messages: [], rev: null });
  const bad = session.newPending('x', null, null, 'bad');
  session.track(s, bad);
  session.transmit(s, bad, 0);
  const error = { type: 'error', code: 'invalid_text', client_id: 'bad' };
  assert.equal(session.pendingFor(s, error), bad);
  assert.deepEqual(session.pendingError(s, bad, error, 0), { failed: true });
  assert.equal(bad.status, 'failed');
  assert.equal(session.pendingFor(s, { code: 'internal' }), null, 'no client_id: not about a send');

  const a = session.newPending('a', null, null, 'a');
  const b = session.newPending('b', null, null, 'b');
  session.track(s, a);
  session.transmit(s, a, 1000);
  const limited = { type: 'error', code: 'rate_limited', client_id: 'a', retry_after_ms: 2000 };
  assert.deepEqual(session.pendingError(s, a, limited, 1000), { delay: 2000 });
  assert.equal(s.holdUntil, 3000);
  session.track(s, b);
  assert.equal(session.transmit(s, b, 1500), null, 'held back: messages keep their order');
  assert.deepEqual(session.flush(s, 2000).map((r) => r.frame), [null, null], 'still held');
  const released = session.flush(s, 3000);
  assert.deepEqual(released.map((r) => r.frame?.client_id), ['a', undefined],
    'the same client_id again; the next waits until it is confirmed');
  // Once `a` is confirmed it no longer holds anything back: the caller flushes the others.
  assert.equal(session.drop(s, a), true, 'it was limited');
  assert.deepEqual(session.flush(s, 3001).map((r) => r.frame?.client_id), ['b']);
  assert.equal(session.flush(s, 3002).length, 0, 'nothing waits any more');
});

test('a failed limited message no longer holds the others back', () => {
  const s = session.createSession();
  welcome(s, { last_seq: 0, messages: [], rev: null });
  const a = session.newPending('a', null, null, 'a');
  const b = session.newPending('b', null, null, 'b');
  session.track(s, a);
  session.track(s, b);
  session.pendingError(s, a, { code: 'rate_limited', retry_after_ms: 10 }, 0);
  assert.equal(session.transmit(s, b, 100), null, 'an older one is retrying');
  session.pendingError(s, a, { code: 'internal' }, 100);
  assert.equal(session.transmit(s, b, 100)?.client_id, 'b');
});

test('what cannot be sent is refused before it is sent', () => {
  assert.equal(session.textProblem('hello'), null);
  assert.match(session.textProblem('x'.repeat(MAX_TEXT_CHARS + 1)), /limited to 4000 characters/);
  assert.equal(session.textProblem('\u0001'.repeat(MAX_TEXT_CHARS)), ERROR_MEANINGS.too_large, 'escaped, over the frame bytes');
  assert.match(session.newClientId(), /^[0-9a-f-]{32,36}$/);
});

test('a jump shows a window from a seq on, keeping what is known of the end', () => {
  const s = resumed(300);
  session.reopenAt(s, 79);
  assert.deepEqual([s.messages.size, s.contiguousSeq, s.knownLastSeq, s.hasMoreOlder], [0, 79, 300, true]);
});
