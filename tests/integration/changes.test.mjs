// Messages that change after they are sent: edits, deletes (tombstones), reactions,
// replies counted on their parent and read as a thread. Each change reaches everyone
// live as an `update`, is in history, REST and D1, survives a restart, and comes back
// to a client that resumes with the last `rev` it saw; seqs stay gapless.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, cid, roomId, closeAll, expectRefused } from '../support/client.mjs';
import { expectErrorFrame, seqs } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

async function rest(path) {
  const res = await http(srv(), path);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

/** Waits until D1 (through the REST history) shows message `seq` as `check` wants. */
async function inD1(room, seq, check) {
  const deadline = Date.now() + 10_000;
  let last;
  while (Date.now() < deadline) {
    const page = await rest(`/room/${room}/messages?after=${seq - 1}&limit=1`);
    last = page.messages[0];
    if (last && check(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`D1 never showed seq ${seq} as expected; last seen ${JSON.stringify(last)}`);
}

test('edit: the author changes the text in place; everyone sees it live, marked edited, in history, REST and D1', async () => {
  const room = roomId('edit');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { message } = await ann.say('helo world');
  await bo.nextMessage(message.client_id);

  const t0 = Date.now();
  ann.send({ type: 'edit', seq: message.seq, text: '  hello world ', client_id: 'e1' });
  const seen = await bo.next('update');
  assert.equal(seen.message.seq, 1);
  assert.equal(seen.message.text, 'hello world');
  assert.ok(seen.message.edited_ts >= t0 - 2000, `edited_ts is now: ${seen.message.edited_ts}`);
  assert.equal(seen.message.ts, message.ts, 'the original time stays');
  assert.equal(seen.rev, 2);
  assert.deepEqual((await ann.next('update')).message, seen.message, 'the author gets the same update');

  // The next message still takes seq 2: an edit is not a message.
  const next = await bo.say('nice');
  assert.equal(next.ack.seq, 2);

  bo.send({ type: 'history' });
  const h = await bo.next('history');
  assert.equal(h.messages[0].text, 'hello world');
  assert.equal(h.messages[0].edited_ts, seen.message.edited_ts);

  const d1 = await inD1(room, 1, (m) => m.text === 'hello world');
  assert.equal(d1.edited_ts, seen.message.edited_ts);
  const rows = await srv().d1(`SELECT text, edited_ts, deleted, rev FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows.map((r) => [r.text, r.edited_ts !== null, r.deleted]), [['hello world', true, 0], ['nice', false, 0]]);

  const later = await connect(srv(), room, 'Cy');
  assert.equal(later.welcome.messages[0].text, 'hello world');
  assert.equal(later.welcome.rev, 3);
  await closeAll(ann, bo, later);
});

test('only the author edits or deletes; unknown, deleted and invalid targets get clear errors and change nothing', async () => {
  const room = roomId('own');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { message } = await ann.say('mine');

  bo.send({ type: 'edit', seq: message.seq, text: 'yours now', client_id: 'x1' });
  const e1 = await bo.next('error');
  expectErrorFrame(e1, 'forbidden', { client_id: 'x1' });
  assert.match(e1.message, /your own/);
  bo.send({ type: 'delete', seq: message.seq, client_id: 'x2' });
  expectErrorFrame(await bo.next('error'), 'forbidden', { client_id: 'x2' });

  for (const seq of [0, 7]) {
    ann.send({ type: 'edit', seq, text: 't', client_id: `n${seq}` });
    const e = await ann.next('error');
    expectErrorFrame(e, 'not_found', { client_id: `n${seq}` });
  }
  ann.send({ type: 'edit', seq: 1, text: '   ', client_id: 'blank' });
  expectErrorFrame(await ann.next('error'), 'invalid_text', { client_id: 'blank' });
  ann.send({ type: 'edit', seq: 'one', text: 'x' });
  expectErrorFrame(await ann.next('error'), 'bad_frame');
  ann.send({ type: 'react', seq: 1, emoji: 'lol' });
  expectErrorFrame(await ann.next('error'), 'bad_frame');
  await ann.expectNoFrame('update', 300);
  await bo.expectNoFrame('update', 300);

  // Another tab of the same name (any case) is the author.
  const ann2 = await connect(srv(), room, 'ANN');
  ann2.send({ type: 'edit', seq: 1, text: 'from my other tab' });
  assert.equal((await bo.next('update')).message.text, 'from my other tab');
  // The room still serves everyone.
  const r = await bo.say('still here');
  assert.equal(r.ack.seq, 2);
  await closeAll(ann, bo, ann2);
});

test('delete: a tombstone with the same seq for everyone, in history and D1; repeated deletes are harmless', async () => {
  const room = roomId('delete');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const first = await ann.say('oops, wrong room');
  const second = await bo.say('after it');
  bo.send({ type: 'react', seq: 1, emoji: '😂' });
  await ann.next('update');

  ann.send({ type: 'delete', seq: first.ack.seq, client_id: 'd1' });
  const u = await bo.next((f) => f.type === 'update' && f.message.deleted);
  assert.deepEqual(
    { seq: u.message.seq, text: u.message.text, deleted: u.message.deleted, reactions: u.message.reactions },
    { seq: 1, text: '', deleted: true, reactions: undefined },
  );
  await ann.next((f) => f.type === 'update' && f.message.deleted);
  ann.send({ type: 'delete', seq: 1, client_id: 'd2' });
  const again = await ann.next((f) => f.type === 'update' && f.rev === u.rev);
  assert.equal(again.message.deleted, true);
  await bo.expectNoFrame((f) => f.type === 'update' && f.rev > u.rev, 300);

  ann.send({ type: 'edit', seq: 1, text: 'undelete?', client_id: 'd3' });
  const e = await ann.next('error');
  expectErrorFrame(e, 'not_found', { client_id: 'd3' });
  assert.match(e.message, /deleted/);

  const d1 = await inD1(room, 1, (m) => m.deleted === true);
  assert.equal(d1.text, '');
  const rows = await srv().d1(`SELECT seq, deleted, text FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows.map((r) => [r.seq, r.deleted, r.text]), [[1, 1, ''], [2, 0, 'after it']]);
  assert.equal(second.ack.seq, 2);
  const later = await connect(srv(), room, 'Cy');
  assert.deepEqual(seqs(later.welcome.messages), [1, 2]);
  assert.equal(later.welcome.messages[0].deleted, true);
  await closeAll(ann, bo, later);
});

// Each reaction carries its exact `count` beside the names (issue 10: at most
// REACTION_NAMES_MAX of them are listed; see bounds.test.mjs).
test('reactions: add and remove per name, counts and who reacted, live for everyone and stored', async () => {
  const room = roomId('react');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { ack } = await ann.say('lunch?');
  ann.send({ type: 'react', seq: ack.seq, emoji: '👍' });
  await bo.next('update');
  bo.send({ type: 'react', seq: ack.seq, emoji: '👍', on: true });
  let u = await ann.next((f) => f.type === 'update' && f.rev === 3);
  assert.deepEqual(u.message.reactions, [{ emoji: '👍', count: 2, names: ['Ann', 'Bo'] }]);
  bo.send({ type: 'react', seq: ack.seq, emoji: '🍕' });
  u = await ann.next((f) => f.type === 'update' && f.rev === 4);
  assert.deepEqual(u.message.reactions, [{ emoji: '👍', count: 2, names: ['Ann', 'Bo'] }, { emoji: '🍕', count: 1, names: ['Bo'] }]);
  ann.send({ type: 'react', seq: ack.seq, emoji: '👍', on: false });
  u = await bo.next((f) => f.type === 'update' && f.rev === 5);
  assert.deepEqual(u.message.reactions, [{ emoji: '👍', count: 1, names: ['Bo'] }, { emoji: '🍕', count: 1, names: ['Bo'] }]);

  const d1 = await inD1(room, 1, (m) => m.reactions?.length === 2 && m.reactions[0].names.length === 1);
  assert.deepEqual(d1.reactions, u.message.reactions);
  const rows = await srv().d1(`SELECT reactions FROM messages WHERE room = '${room}'`);
  assert.deepEqual(JSON.parse(rows[0].reactions), u.message.reactions);
  await closeAll(ann, bo);
});

test('replies: the parent counts them for everyone; a thread frame and GET /room/:id/thread/:seq list them', async () => {
  const room = roomId('thread');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const parent = await ann.say('what should we build?');
  await ann.say('unrelated');
  const id = cid();
  bo.send({ type: 'send', text: 'a chat', client_id: id, reply_to: parent.ack.seq });
  await bo.nextAck(id);
  const counted = await ann.next((f) => f.type === 'update' && f.message.seq === 1);
  assert.equal(counted.message.reply_count, 1);
  // A resend of the reply is not a second reply.
  bo.send({ type: 'send', text: 'a chat', client_id: id, reply_to: parent.ack.seq });
  assert.equal((await bo.nextAck(id)).seq, 3);
  await ann.expectNoFrame('update', 300);
  const second = await ann.say('on the edge', { reply_to: 1 });
  assert.equal(second.ack.seq, 4);
  assert.equal((await bo.next((f) => f.type === 'update' && f.message.reply_count === 2)).message.seq, 1);

  bo.send({ type: 'thread', seq: 1 });
  const t = await bo.next('thread');
  assert.equal(t.seq, 1);
  assert.deepEqual(seqs(t.messages), [3, 4]);
  assert.deepEqual(t.messages.map((m) => m.reply_to), [1, 1]);
  assert.equal(t.has_more, false);
  bo.send({ type: 'thread', seq: 1, after: 3, limit: 1 });
  assert.deepEqual(seqs((await bo.next('thread')).messages), [4]);
  bo.send({ type: 'thread', seq: 42 });
  expectErrorFrame(await bo.next('error'), 'not_found');

  await inD1(room, 1, (m) => m.reply_count === 2);
  const page = await rest(`/room/${room}/thread/1`);
  assert.deepEqual(seqs(page.messages), [3, 4]);
  assert.equal(page.has_more, false);
  assert.deepEqual(seqs((await rest(`/room/${room}/thread/1?after=3&limit=1`)).messages), [4]);
  assert.deepEqual((await rest(`/room/${room}/thread/2`)).messages, []);
  const bad = await http(srv(), `/room/${room}/thread/x`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'bad_request');
  await closeAll(ann, bo);
});

test('a client resuming with since and rev gets the older messages that changed while it was away', async () => {
  const room = roomId('resume');
  const ann = await connect(srv(), room, 'Ann');
  for (const text of ['one', 'two', 'three']) await ann.say(text);
  const bo = await connect(srv(), room, 'Bo');
  const { last_seq: since, rev } = bo.welcome;
  assert.equal(rev, 3);
  bo.close();

  ann.send({ type: 'edit', seq: 2, text: 'TWO' });
  await ann.next('update');
  ann.send({ type: 'delete', seq: 1 });
  await ann.next('update');
  ann.send({ type: 'react', seq: 3, emoji: '🎉' });
  await ann.next('update');
  await ann.say('four');

  const back = await connect(srv(), room, 'Bo', { since, rev });
  assert.deepEqual(seqs(back.welcome.messages), [4]);
  assert.deepEqual(seqs(back.welcome.updates), [2, 1, 3], 'in the order they changed');
  assert.equal(back.welcome.updates[0].text, 'TWO');
  assert.equal(back.welcome.updates[1].deleted, true);
  assert.deepEqual(back.welcome.updates[2].reactions, [{ emoji: '🎉', count: 1, names: ['Ann'] }]);
  assert.equal(back.welcome.rev, 7);

  // Caught up: nothing to bring. A v1 resume (no rev) never gets updates.
  const again = await connect(srv(), room, 'Dee', { since: 4, rev: 7 });
  assert.equal(again.welcome.updates, undefined);
  const v1 = await connect(srv(), room, 'Eve', { since: 3 });
  assert.equal(v1.welcome.updates, undefined);
  const badRev = await expectRefused(srv(), room, 'Fay', { query: 'name=Fay&since=1&rev=-1' });
  assert.equal(badRev.status, 400);
  assert.equal(badRev.body.error.code, 'bad_request');
  assert.match(badRev.body.error.message, /rev/);
  await closeAll(ann, back, again, v1);
});

test('edits, deletes, reactions and reply counts survive a restart and replay on resume', { timeout: 180_000 }, async () => {
  const room = roomId('restart');
  const ann = await connect(srv(), room, 'Ann');
  await ann.say('keep me');
  await ann.say('edit me');
  await ann.say('delete me');
  await ann.say('a reply', { reply_to: 1 });
  const bo = await connect(srv(), room, 'Bo');
  const { rev } = bo.welcome;
  bo.close();
  ann.send({ type: 'edit', seq: 2, text: 'edited' });
  await ann.next((f) => f.type === 'update' && f.message.seq === 2);
  ann.send({ type: 'delete', seq: 3 });
  await ann.next((f) => f.type === 'update' && f.message.seq === 3);
  ann.send({ type: 'react', seq: 1, emoji: '🔥' });
  const last = await ann.next((f) => f.type === 'update' && f.message.seq === 1 && f.message.reactions);
  await ann.close();

  await srv().restart();

  const back = await connect(srv(), room, 'Bo', { since: 4, rev });
  assert.equal(back.welcome.rev, last.rev);
  const byseq = Object.fromEntries(back.welcome.updates.map((m) => [m.seq, m]));
  assert.equal(byseq[2].text, 'edited');
  assert.equal(byseq[3].deleted, true);
  assert.deepEqual(byseq[1].reactions, [{ emoji: '🔥', count: 1, names: ['Ann'] }]);
  assert.equal(byseq[1].reply_count, 1);
  // Changes keep flowing after the restart, and D1 has them all.
  back.send({ type: 'react', seq: 2, emoji: '👀' });
  assert.equal((await back.next('update')).rev, last.rev + 1);
  const d1 = await inD1(room, 2, (m) => m.reactions?.length === 1);
  assert.equal(d1.text, 'edited');
  const rows = await srv().d1(`SELECT seq, deleted, reply_count FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows.map((r) => [r.seq, r.deleted, r.reply_count]), [[1, 0, 1], [2, 0, 0], [3, 1, 0], [4, 0, 0]]);
  await closeAll(back);
});
