// Durability: an acked message survives a restart of the runtime, sits in D1's
// `messages` table, and seqs continue without reuse after the restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, cid, roomId, closeAll, sleep } from '../support/client.mjs';
import { expectMessage, seqs, range, roomV1 } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const COLUMNS = ['room', 'seq', 'name', 'text', 'ts', 'client_id', 'reply_to'];
const pick = (m) => Object.fromEntries(COLUMNS.map((k) => [k, m[k]]));

test('acked messages survive a restart; D1 holds them; the next seq follows with no reuse', { timeout: 180_000 }, async () => {
  const room = roomId('durable');
  const other = roomId('durable-other');
  const a = await connect(srv(), room, 'Keeper');
  const b = await connect(srv(), room, 'Witness');
  const o = await connect(srv(), other, 'Elsewhere');

  const sent = [];
  sent.push((await a.say('first durable message')).message);
  sent.push((await b.say('  a reply, trimmed  ', { reply_to: 1 })).message);
  sent.push((await a.say('unicode \u00e9\u00e8 \u{1F680} and "quotes" \'single\' \\ backslash')).message);
  // A pipelined batch whose last ack we restart right after.
  const batch = range(4, 30).map((i) => ({ text: `batch ${i}`, client_id: cid('batch') }));
  for (const m of batch) a.send({ type: 'send', ...m });
  for (const m of batch) assert.ok((await a.nextAck(m.client_id, { timeout: 20_000 })).seq >= 4);
  for (const m of batch) sent.push((await a.nextMessage(m.client_id)).message);
  const otherMsgs = [(await o.say('other room 1')).message, (await o.say('other room 2')).message];
  assert.deepEqual(seqs(sent), range(1, 30));
  assert.equal(sent[1].text, 'a reply, trimmed');
  assert.equal(sent[1].reply_to, 1);
  // The reply changed its parent (an `update` with the count): history shows it as it is now.
  sent[0] = { ...sent[0], reply_count: 1 };

  // Restart the runtime as soon as the last ack arrived.
  const oldUrl = srv().url;
  await srv().restart();
  assert.ok(a.closed && b.closed && o.closed, 'the old sockets went away with the old runtime');
  assert.ok(srv().url, `restarted (was ${oldUrl}, now ${srv().url})`);

  // REST history: everything, unchanged.
  const p1 = (await http(srv(), `/room/${room}/messages?limit=100`)).json;
  assert.deepEqual(p1.messages, sent, 'history after the restart is what was acked');
  assert.equal(p1.has_more, false);
  for (const m of p1.messages) expectMessage(m, { room });
  const p2 = (await http(srv(), `/room/${other}/messages`)).json;
  assert.deepEqual(p2.messages, otherMsgs);

  // /api/rooms counts survive too.
  const rooms = (await http(srv(), '/api/rooms')).json.rooms;
  assert.deepEqual(roomV1(rooms.find((r) => r.id === room)), { id: room, message_count: 30, last_activity: sent.at(-1).ts });
  assert.deepEqual(roomV1(rooms.find((r) => r.id === other)), { id: other, message_count: 2, last_activity: otherMsgs.at(-1).ts });

  // welcome after the restart.
  const c = await connect(srv(), room, 'Keeper');
  // The room list no longer counts the connections the restart took away.
  let online;
  for (let i = 0; i < 50 && online !== 1; i++) {
    online = (await http(srv(), '/api/rooms')).json.rooms.find((r) => r.id === room).online;
    if (online !== 1) await sleep(100);
  }
  assert.equal(online, 1, 'only Keeper is online after the restart');
  assert.equal(c.welcome.last_seq, 30);
  assert.deepEqual(c.welcome.messages, sent);
  assert.equal(c.welcome.has_more, false);
  const resumed = await connect(srv(), room, 'Witness', { since: 27 });
  assert.deepEqual(resumed.welcome.messages, sent.slice(27));

  // An idempotent resend across the restart: original seq, nothing broadcast.
  const dupId = batch[0].client_id;
  c.send({ type: 'send', text: 'resent after restart', client_id: dupId });
  assert.equal((await c.nextAck(dupId)).seq, 4);
  await resumed.expectNoFrame('message', 500);

  // The next message gets seq 31, in both rooms the sequence continues.
  const next = await c.say('after the restart');
  assert.equal(next.ack.seq, 31);
  assert.equal((await resumed.nextMessage(next.client_id)).message.seq, 31);
  const o2 = await connect(srv(), other, 'Elsewhere');
  assert.equal((await o2.say('other room 3')).ack.seq, 3);

  // D1 directly.
  const rows = await srv().d1(
    `SELECT ${COLUMNS.join(', ')} FROM messages WHERE room IN ('${room}', '${other}') ORDER BY room, seq`,
  );
  const expected = [...sent, next.message].map(pick);
  const expectedOther = [...otherMsgs.map(pick)];
  assert.deepEqual(rows.filter((r) => r.room === room), expected, 'D1 messages rows of the room');
  assert.deepEqual(rows.filter((r) => r.room === other).slice(0, 2), expectedOther);
  assert.equal(rows.filter((r) => r.room === other).length, 3);
  await closeAll(c, resumed, o2);
});

test('an ack means the row is in D1 already, and survives a crash (SIGKILL) of the runtime', { timeout: 120_000 }, async () => {
  const room = roomId('durable-crash');
  const a = await connect(srv(), room, 'Crasher');
  const ids = range(1, 20).map(() => cid('crash'));
  ids.forEach((id, i) => a.send({ type: 'send', text: `crash ${i + 1}`, client_id: id }));
  const acks = [];
  for (const id of ids) acks.push(await a.nextAck(id, { timeout: 20_000 }));
  assert.deepEqual(acks.map((x) => x.seq), range(1, 20));
  // Kill everything at once, without a chance to flush anything.
  await srv().restart({ signal: 'SIGKILL' });
  const rows = await srv().d1(`SELECT seq, text, client_id FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows, ids.map((id, i) => ({ seq: i + 1, text: `crash ${i + 1}`, client_id: id })));
  const b = await connect(srv(), room, 'Crasher', { since: 0 });
  assert.deepEqual(seqs(b.welcome.messages), range(1, 20));
  assert.equal((await b.say('after the crash')).ack.seq, 21);
  await closeAll(a, b);
});

test('D1 has the row by the time the ack arrives', { timeout: 60_000 }, async () => {
  const room = roomId('durable-d1');
  const a = await connect(srv(), room, 'Prompt');
  const r = await a.say('check me in D1');
  const rows = await srv().d1(`SELECT ${COLUMNS.join(', ')} FROM messages WHERE room = '${room}'`);
  assert.deepEqual(rows, [pick(r.message)]);
  await closeAll(a);
});

test('a second restart keeps everything and still never reuses a seq', { timeout: 120_000 }, async () => {
  const room = roomId('durable-twice');
  let a = await connect(srv(), room, 'Twice');
  await a.say('one');
  await a.say('two');
  await srv().restart();
  a = await connect(srv(), room, 'Twice');
  assert.equal(a.welcome.last_seq, 2);
  assert.equal((await a.say('three')).ack.seq, 3);
  await srv().restart();
  a = await connect(srv(), room, 'Twice', { since: 0 });
  assert.deepEqual(a.welcome.messages.map((m) => [m.seq, m.text]), [[1, 'one'], [2, 'two'], [3, 'three']]);
  assert.equal((await a.say('four')).ack.seq, 4);
  const rows = await srv().d1(`SELECT seq, text FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows, [{ seq: 1, text: 'one' }, { seq: 2, text: 'two' }, { seq: 3, text: 'three' }, { seq: 4, text: 'four' }]);
  await closeAll(a);
});

test('a room whose first event after a restart is its own alarm still knows its id', { timeout: 120_000 }, async () => {
  const room = roomId('alarm-first');
  const a = await connect(srv(), room, 'Typist');
  await a.say('before');
  // A typing indicator sets the room's alarm for its expiry, 5 s from now.
  a.send({ type: 'typing', on: true });
  await sleep(300);
  await srv().restart();
  // Let the alarm fire in the new runtime before anything else reaches the room.
  await sleep(6_000);
  const b = await connect(srv(), room, 'After');
  const { message, ack } = await b.say('after the alarm');
  assert.equal(message.room, room);
  assert.equal(ack.seq, 2);
  const rows = await srv().d1(`SELECT room, seq, text FROM messages WHERE text = 'after the alarm'`);
  assert.deepEqual(rows, [{ room, seq: 2, text: 'after the alarm' }]);
  await closeAll(b);
});
