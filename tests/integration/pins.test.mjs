// Pinned messages: the room's owner and moderators pin and unpin a message by seq;
// everyone hears `update` and `pins`; the welcome carries the list; a resume gets the pin
// changes it missed; pins survive a restart and reach D1. The attacks: a plain member
// pins or unpins, pins of seq 0, huge, deleted or another room's, a flood past the rate
// limit and past the cap of 50: each refused, and everyone else unharmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, cid, sleep } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;
// A server whose rate limit a flood reaches soon: 8 frames, then 1 a second.
const tight = useServer({ vars: { RATE_LIMIT_BURST: '8', RATE_LIMIT_PER_SEC: '1' } });

const pinSeqs = (pins) => pins.map((p) => p.seq);

/** Sends a pin (or unpin) with a client_id; resolves with its answer (update or error). */
async function pin(client, seq, on = true) {
  const client_id = cid(on ? 'pin' : 'unpin');
  client.send({ type: on ? 'pin' : 'unpin', seq, client_id });
  return client.next((f) => (f.type === 'error' && f.client_id === client_id)
    || (f.type === 'update' && f.message.seq === seq));
}

/** Polls D1 until the row's `pinned` column is (or is not) set. */
async function d1Pinned(room, seq, want) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await srv().d1(`SELECT pinned FROM messages WHERE room = '${room}' AND seq = ${seq}`);
    const pinned = rows[0]?.pinned ? JSON.parse(rows[0].pinned) : null;
    if (Boolean(pinned) === want || Date.now() > deadline) return pinned;
    await sleep(100);
  }
}

test('the owner pins and unpins; everyone hears it; the welcome has the list; D1 has the column', async () => {
  const room = roomId('pins');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  assert.deepEqual(ann.welcome.pins, []);
  const hello = await bo.say('pin this one');
  const seq = hello.ack.seq;

  const answer = await pin(ann, seq);
  assert.equal(answer.type, 'update');
  assert.equal(answer.message.pinned.by, 'Ann');
  const heard = await bo.next('pins');
  assert.equal(heard.rev, answer.rev);
  assert.deepEqual(heard.pins.map(({ ts, ...p }) => p), [{ seq, name: 'Bo', text: 'pin this one', by: 'Ann' }]);
  assert.equal((await bo.next((f) => f.type === 'update')).message.pinned.by, 'Ann');

  const cy = await connect(srv(), room, 'Cy');
  assert.deepEqual(pinSeqs(cy.welcome.pins), [seq]);
  assert.equal((await d1Pinned(room, seq, true)).by, 'Ann');

  // History pages carry the mark too.
  cy.send({ type: 'history', before: seq + 1, limit: 5 });
  const page = await cy.next('history');
  assert.equal(page.messages.find((m) => m.seq === seq).pinned.by, 'Ann');

  const off = await pin(ann, seq, false);
  assert.equal(off.type, 'update');
  assert.equal(off.message.pinned, undefined);
  assert.deepEqual((await cy.next('pins')).pins, []);
  assert.equal(await d1Pinned(room, seq, false), null);
  await closeAll(ann, bo, cy);
});

test('a moderator pins; deleting a pinned message unpins it for everyone', async () => {
  const room = roomId('pinmod');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const cy = await connect(srv(), room, 'Cy');
  ann.send({ type: 'appoint', name: 'Bo' });
  await bo.next('roles');
  const m = await cy.say('a moderator pins this');
  assert.equal((await pin(bo, m.ack.seq)).type, 'update');
  assert.equal((await cy.next('pins')).pins[0].by, 'Bo');
  cy.send({ type: 'delete', seq: m.ack.seq });
  const gone = await ann.next((f) => f.type === 'pins' && f.pins.length === 0);
  assert.deepEqual(gone.pins, []);
  const late = await connect(srv(), room, 'Dee');
  assert.deepEqual(late.welcome.pins, []);
  await closeAll(ann, bo, cy, late);
});

test('a client resuming with since and rev gets the pin it missed', async () => {
  const room = roomId('pinres');
  const ann = await connect(srv(), room, 'Ann');
  const first = await ann.say('the one to pin');
  const bo = await connect(srv(), room, 'Bo');
  const { last_seq: since, rev } = bo.welcome;
  await closeAll(bo);
  await pin(ann, first.ack.seq);
  const back = await connect(srv(), room, 'Bo', { since, rev });
  assert.deepEqual(back.welcome.updates.map((u) => [u.seq, u.pinned?.by]), [[first.ack.seq, 'Ann']]);
  assert.deepEqual(pinSeqs(back.welcome.pins), [first.ack.seq]);
  await closeAll(ann, back);
});

test('pins survive a restart', { timeout: 120_000 }, async () => {
  const room = roomId('pinrestart');
  const ann = await connect(srv(), room, 'Ann');
  const m = await ann.say('kept across restarts');
  await pin(ann, m.ack.seq);
  await d1Pinned(room, m.ack.seq, true);
  await closeAll(ann);
  await srv().restart();
  const again = await connect(srv(), room, 'Ann');
  assert.deepEqual(again.welcome.pins.map((p) => [p.seq, p.text, p.by]), [[m.ack.seq, 'kept across restarts', 'Ann']]);
  assert.equal(again.welcome.messages.find((x) => x.seq === m.ack.seq).pinned.by, 'Ann');
  await closeAll(again);
});

test('attacks: a plain member, bad seqs, a deleted message, another room: refused, nothing changes', async () => {
  const room = roomId('pinatk');
  const other = roomId('pinother');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const cy = await connect(srv(), room, 'Cy');
  const m = await cy.say('a message');
  // Another room, further along: its seqs do not exist here.
  const zed = await connect(srv(), other, 'Zed');
  for (let i = 0; i < 5; i++) await zed.say(`elsewhere ${i}`);
  const doomed = await ann.say('to be deleted');
  ann.send({ type: 'delete', seq: doomed.ack.seq });
  for (const c of [ann, cy]) {
    await c.next((f) => f.type === 'update' && f.message.deleted);
    c.discard();
  }

  // A plain member may neither pin nor unpin.
  for (const on of [true, false]) {
    const e = await pin(bo, m.ack.seq, on);
    expectErrorFrame(e, 'forbidden');
    assert.match(e.message, /owner and its moderators/);
  }
  // Missing, huge, deleted, another room's seq: not_found, even for the owner.
  for (const seq of [0, 2 ** 53 - 1, doomed.ack.seq, 5]) {
    expectErrorFrame(await pin(ann, seq), 'not_found');
  }
  // Not a seq at all.
  for (const raw of ['{"type":"pin","seq":-1}', '{"type":"pin","seq":"1"}', '{"type":"unpin"}']) {
    bo.sendRaw(raw);
    expectErrorFrame(await bo.next('error'), 'bad_frame');
  }
  // Nobody else heard anything, nothing is pinned, and the room chats on.
  await cy.expectNoFrame((f) => f.type === 'pins' || f.type === 'update', 500);
  const fresh = await connect(srv(), room, 'Dee');
  assert.deepEqual(fresh.welcome.pins, []);
  assert.equal((await bo.say('still fine')).ack.type, 'ack');
  assert.ok(bo.isOpen());
  const z = await connect(srv(), other, 'Yu');
  assert.deepEqual(z.welcome.pins, []);
  await closeAll(ann, bo, cy, zed, fresh, z);
});

test('attack: pins past the cap of 50 are refused with a clear error; the room is unharmed', { timeout: 120_000 }, async () => {
  const room = roomId('pincap');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  await ann.sayMany(Array.from({ length: 52 }, (_, i) => `message ${i + 1}`));
  for (let seq = 1; seq <= 50; seq++) assert.equal((await pin(ann, seq)).type, 'update', `pin ${seq}`);
  for (const seq of [51, 52]) {
    const e = await pin(ann, seq);
    expectErrorFrame(e, 'bad_frame');
    assert.match(e.message, /at most 50 pinned/);
  }
  const late = await connect(srv(), room, 'Cy');
  assert.equal(late.welcome.pins.length, 50);
  assert.ok(!late.welcome.pins.some((p) => p.seq > 50));
  // Unpinning makes room again; the others chat on.
  await pin(ann, 1, false);
  assert.equal((await pin(ann, 51)).type, 'update');
  assert.equal((await bo.say('unharmed')).ack.type, 'ack');
  await closeAll(ann, bo, late);
});

test('attack: a pin flood past the rate limit is refused with rate_limited; other claims are not limited', { timeout: 60_000 }, async () => {
  const room = roomId('pinflood');
  const ann = await connect(tight.server, room, 'Ann');
  const bo = await connect(tight.server, room, 'Bo');
  await sleep(2_000); // Ann's joins and claims used no frames, but let the buckets fill
  const m = await bo.say('flood target');
  const ids = Array.from({ length: 20 }, (_, i) => cid(`f${i}`));
  ids.forEach((client_id, i) => ann.send({ type: i % 2 ? 'unpin' : 'pin', seq: m.ack.seq, client_id }));
  await sleep(1_500);
  const limited = ann.discard((f) => f.type === 'error' && f.code === 'rate_limited');
  assert.ok(limited.length >= 10, `most of the flood is refused: ${limited.length}`);
  for (const e of limited) assert.ok(ids.includes(e.client_id) && e.retry_after_ms > 0, JSON.stringify(e));
  assert.ok(ann.isOpen(), 'rate limiting is not a disconnect');
  // Bo's own bucket is untouched.
  assert.equal((await bo.say('not limited')).ack.type, 'ack');
  await closeAll(ann, bo);
});
