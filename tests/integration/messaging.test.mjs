// Sending: welcome, message/ack, seq order under concurrency, trimming, replies,
// idempotent resends, resuming with `since`, and `history` frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, cid, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectMessage, expectUser, expectErrorFrame, seqs, range } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

async function restMessages(room, q = '?limit=100') {
  const res = await http(srv(), `/room/${room}/messages${q}`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

test('welcome: room, you, users (you included), no messages, last_seq 0 in a new room', async () => {
  const room = roomId('welcome');
  const a = await connect(srv(), room, 'Wendy');
  const w = a.welcome;
  assert.equal(w.type, 'welcome');
  assert.equal(w.room, room);
  expectUser(w.you, { name: 'Wendy', status: 'online' });
  assert.deepEqual(w.users, [{ name: 'Wendy', status: 'online' }]);
  assert.deepEqual(w.messages, []);
  assert.equal(w.last_seq, 0);
  assert.equal(w.has_more, false);
  assert.equal(a.frames[0], w, 'welcome is the first frame');

  const b = await connect(srv(), room, 'Xavier');
  assert.deepEqual(b.welcome.users.map((u) => u.name).sort(), ['Wendy', 'Xavier']);
  expectUser(b.welcome.you, { name: 'Xavier', status: 'online' });
  await closeAll(a, b);
});

test('send: seq starts at 1 and is gapless; message goes to everyone, ack to the sender only', async () => {
  const room = roomId('send');
  const a = await connect(srv(), room, 'Sender');
  const b = await connect(srv(), room, 'Reader');
  const t0 = Date.now();
  const id1 = cid();
  a.send({ type: 'send', text: 'first!', client_id: id1 });
  const ack1 = await a.nextAck(id1);
  assert.deepEqual({ type: ack1.type, client_id: ack1.client_id, seq: ack1.seq }, { type: 'ack', client_id: id1, seq: 1 });
  const mine = (await a.nextMessage(id1)).message;
  const theirs = (await b.nextMessage(id1)).message;
  expectMessage(mine, { seq: 1, room, name: 'Sender', text: 'first!', client_id: id1, reply_to: null });
  assert.deepEqual(theirs, mine, 'everyone gets the same message');
  assert.ok(mine.ts >= t0 - 2000 && mine.ts <= Date.now() + 2000, `ts is now: ${mine.ts}`);

  for (let i = 2; i <= 5; i++) {
    const r = await a.say(`msg ${i}`);
    assert.equal(r.ack.seq, i);
    assert.equal(r.message.seq, i);
  }
  const bSeqs = [];
  for (let i = 2; i <= 5; i++) bSeqs.push((await b.next('message')).message.seq);
  assert.deepEqual(bSeqs, [2, 3, 4, 5]);
  await b.expectNoFrame('ack', 300);
  assert.equal(b.welcome.last_seq, 0);

  // Someone else speaking continues the same sequence.
  const r6 = await b.say('from the reader');
  assert.equal(r6.ack.seq, 6);
  assert.equal((await a.nextMessage(r6.client_id)).message.seq, 6);
  await a.expectNoFrame('ack', 300);
  await closeAll(a, b);
});

test('text is stored trimmed, in the broadcast, the history and a later welcome', async () => {
  const room = roomId('trim');
  const a = await connect(srv(), room, 'Trimmer');
  const { message } = await a.say('  \n\t hello   world \n  ');
  assert.equal(message.text, 'hello   world');
  const page = await restMessages(room);
  assert.deepEqual(page.messages.map((m) => m.text), ['hello   world']);
  const b = await connect(srv(), room, 'Later');
  assert.deepEqual(b.welcome.messages.map((m) => m.text), ['hello   world']);
  assert.equal(b.welcome.last_seq, 1);
  await closeAll(a, b);
});

test('reply_to an existing message is kept; a reply_to naming no message gets not_found', async () => {
  const room = roomId('reply');
  const a = await connect(srv(), room, 'Asker');
  const b = await connect(srv(), room, 'Answerer');
  const q = await a.say('question?');
  await b.nextMessage(q.client_id);
  const ans = await b.say('answer', { reply_to: q.message.seq });
  expectMessage(ans.message, { reply_to: q.message.seq, seq: q.message.seq + 1 });
  assert.equal((await a.nextMessage(ans.client_id)).message.reply_to, q.message.seq);
  assert.equal((await restMessages(room)).messages.at(-1).reply_to, q.message.seq);

  const bad = cid('badreply');
  b.send({ type: 'send', text: 'to nothing', client_id: bad, reply_to: 999 });
  expectErrorFrame(await b.nextError(bad), 'not_found', { client_id: bad });
  await Promise.all([a.expectNoFrame('message', 500), b.expectNoFrame('message', 500)]);
  await b.expectNoFrame('ack', 0);
  assert.equal((await restMessages(room)).messages.length, 2, 'nothing stored');

  // The room still works, and the next seq follows.
  const next = await b.say('still here');
  assert.equal(next.ack.seq, 3);
  await closeAll(a, b);
});

test('concurrent senders: every receiver sees the same gapless increasing sequence, each message once', async () => {
  const room = roomId('concurrent');
  const SENDERS = 4;
  const PER = 25;
  const senders = [];
  for (let i = 0; i < SENDERS; i++) senders.push(await connect(srv(), room, `Sender${i}`));
  const observer = await connect(srv(), room, 'Observer');
  const all = [...senders, observer];
  for (const c of all) c.discard('user_joined');

  const sent = senders.map((s, i) => range(1, PER).map((j) => ({ client_id: `s${i}-m${j}-${cid('x')}`, text: `sender ${i} message ${j}` })));
  // Fire everything at once from every socket.
  senders.forEach((s, i) => { for (const m of sent[i]) s.send({ type: 'send', ...m }); });

  const total = SENDERS * PER;
  const views = await Promise.all(all.map(async (c) => {
    const got = [];
    for (let k = 0; k < total; k++) got.push((await c.next('message', { timeout: 20_000 })).message);
    return got;
  }));
  const reference = views[0].map((m) => m.seq);
  assert.deepEqual(reference, range(1, total), 'seq 1..100, gapless, increasing');
  for (const [i, v] of views.entries()) {
    assert.deepEqual(v.map((m) => m.seq), reference, `receiver ${all[i].name} sees the same order`);
    assert.deepEqual(v.map((m) => m.client_id), views[0].map((m) => m.client_id), `receiver ${all[i].name}: same messages`);
    assert.equal(new Set(v.map((m) => m.client_id)).size, total, 'each message once');
  }
  // Per sender, its messages are in the order it sent them; acks match the broadcast seqs.
  const bySeq = new Map(views[0].map((m) => [m.client_id, m]));
  for (const [i, s] of senders.entries()) {
    const theirSeqs = sent[i].map((m) => bySeq.get(m.client_id)?.seq);
    assert.ok(theirSeqs.every((x) => Number.isInteger(x)), `all of sender ${i}'s messages were broadcast`);
    assert.deepEqual([...theirSeqs].sort((x, y) => x - y), theirSeqs, `sender ${i}'s messages keep their order`);
    for (const m of sent[i]) {
      const ack = await s.nextAck(m.client_id);
      assert.equal(ack.seq, bySeq.get(m.client_id).seq, 'ack seq = broadcast seq');
      assert.equal(bySeq.get(m.client_id).text, m.text);
      assert.equal(bySeq.get(m.client_id).name, `Sender${i}`);
    }
    await s.expectNoFrame('ack', 0);
  }
  await observer.expectNoFrame('ack', 0);
  // Nothing doubled afterwards either.
  await Promise.all(all.map((c) => c.expectNoFrame('message', 500)));
  const page = await restMessages(room, '?limit=100');
  assert.deepEqual(seqs(page.messages), range(1, total));
  assert.equal(page.has_more, false);
  await closeAll(all);
});

test('idempotency: a resend of a client_id by the same name gets the original seq and no broadcast', async () => {
  const room = roomId('idem');
  const a = await connect(srv(), room, 'Alice');
  const aTab = await connect(srv(), room, 'alice'); // same user, another tab, other spelling
  const obs = await connect(srv(), room, 'Observer');
  a.discard('user_joined');
  aTab.discard('user_joined');
  const zero = await a.say('zero'); // seq 1
  await aTab.nextMessage(zero.client_id);
  await obs.nextMessage(zero.client_id);

  const id = cid('dup');
  const first = await a.say('original text', { client_id: id });
  assert.equal(first.ack.seq, 2);
  await aTab.nextMessage(id);
  await obs.nextMessage(id);

  // Same socket, same text.
  a.send({ type: 'send', text: 'original text', client_id: id });
  assert.equal((await a.nextAck(id)).seq, 2);
  // Same socket, different text.
  a.send({ type: 'send', text: 'something else entirely', client_id: id });
  assert.equal((await a.nextAck(id)).seq, 2);
  // Another socket of the same name, spelled differently.
  aTab.send({ type: 'send', text: 'from the other tab', client_id: id });
  assert.equal((await aTab.nextAck(id)).seq, 2);
  // After every socket of the name closed and a new one opened.
  await closeAll(a, aTab);
  const again = await connect(srv(), room, 'ALICE');
  again.send({ type: 'send', text: 'after reconnecting', client_id: id });
  assert.equal((await again.nextAck(id)).seq, 2);

  await Promise.all([obs, again].map((c) => c.expectNoFrame('message', 700)));
  assert.ok(!a.frames.concat(aTab.frames).some((f) => f?.type === 'message' && f.message.seq > 2 ), 'no new message was broadcast to the sender tabs');
  const page = await restMessages(room);
  assert.deepEqual(page.messages.map((m) => [m.seq, m.text]), [[1, 'zero'], [2, 'original text']], 'nothing stored again');

  // D1 itself holds the one row.
  const rows = await srv().d1(`SELECT seq, text, client_id FROM messages WHERE room = '${room}' ORDER BY seq`);
  assert.deepEqual(rows.map((r) => [r.seq, r.text]), [[1, 'zero'], [2, 'original text']]);

  // A fresh client_id is a new message with the next seq.
  const next = await again.say('new one');
  assert.equal(next.ack.seq, 3);
  await closeAll(obs, again);
});

test('a client_id is unique per sender: another name may use the same client_id', async () => {
  const room = roomId('idem-names');
  const a = await connect(srv(), room, 'Alpha');
  const b = await connect(srv(), room, 'Beta');
  const id = 'shared-client-id-1';
  const ra = await a.say('from alpha', { client_id: id });
  await b.nextMessage(id); // Alpha's message, as Beta sees it
  const rb = await b.say('from beta', { client_id: id });
  assert.equal(ra.ack.seq, 1);
  assert.equal(rb.ack.seq, 2, 'Beta\'s message is stored, not taken for Alpha\'s');
  assert.equal(rb.message.name, 'Beta');
  assert.equal(rb.message.text, 'from beta');
  assert.equal((await a.nextMessage(id)).message.name, 'Beta', 'Alpha sees Beta\'s message too');
  await closeAll(a, b);
});

test('welcome carries the last 50 messages (has_more), and since resumes with at most 500 then history pages', async () => {
  const room = roomId('long');
  const N = 560;
  const w = await connect(srv(), room, 'Writer');
  const acks = await w.sayMany(range(1, N).map((i) => `line ${i}`), { batch: 80 });
  assert.deepEqual(acks.map((a) => a.seq), range(1, N));

  const fresh = await connect(srv(), room, 'Fresh');
  assert.deepEqual(seqs(fresh.welcome.messages), range(N - 49, N), 'the last 50, oldest first');
  assert.equal(fresh.welcome.has_more, true);
  assert.equal(fresh.welcome.last_seq, N);
  for (const m of fresh.welcome.messages) expectMessage(m, { room, name: 'Writer', text: `line ${m.seq}` });

  const r10 = await connect(srv(), room, 'Resumer', { since: 10 });
  assert.deepEqual(seqs(r10.welcome.messages), range(11, 510), 'since=10: 500 messages after 10');
  assert.equal(r10.welcome.has_more, true);
  assert.equal(r10.welcome.last_seq, N);
  // Fetch the rest with history after.
  r10.send({ type: 'history', after: 510, limit: 100 });
  const rest = await r10.next('history');
  assert.deepEqual(seqs(rest.messages), range(511, N));
  assert.equal(rest.has_more, false);

  const r0 = await connect(srv(), room, 'FromZero', { since: 0 });
  assert.deepEqual(seqs(r0.welcome.messages), range(1, 500));
  assert.equal(r0.welcome.has_more, true);

  const r60 = await connect(srv(), room, 'Recent', { since: 60 });
  assert.deepEqual(seqs(r60.welcome.messages), range(61, N), 'exactly 500: no more');
  assert.equal(r60.welcome.has_more, false);

  const rEnd = await connect(srv(), room, 'UpToDate', { since: N });
  assert.deepEqual(rEnd.welcome.messages, []);
  assert.equal(rEnd.welcome.has_more, false);

  const rBeyond = await connect(srv(), room, 'Future', { since: N + 1000 });
  assert.deepEqual(rBeyond.welcome.messages, [], 'since beyond last_seq: nothing missed');
  assert.equal(rBeyond.welcome.has_more, false);
  assert.equal(rBeyond.welcome.last_seq, N);
  await rBeyond.expectNoFrame('error', 300);

  // history before, paging backwards from the welcome's oldest.
  fresh.send({ type: 'history', before: N - 49, limit: 100 });
  const older = await fresh.next('history');
  assert.deepEqual(seqs(older.messages), range(N - 149, N - 50));
  assert.equal(older.has_more, true);
  fresh.send({ type: 'history', before: 31, limit: 100 });
  const oldest = await fresh.next('history');
  assert.deepEqual(seqs(oldest.messages), range(1, 30));
  assert.equal(oldest.has_more, false);
  fresh.send({ type: 'history', before: 1, limit: 10 });
  assert.deepEqual(await fresh.next('history').then((h) => [h.messages, h.has_more]), [[], false]);
  fresh.send({ type: 'history', after: N, limit: 10 });
  assert.deepEqual(await fresh.next('history').then((h) => [h.messages, h.has_more]), [[], false]);
  fresh.send({ type: 'history', after: 100, limit: 1 });
  const one = await fresh.next('history');
  assert.deepEqual(seqs(one.messages), [101]);
  assert.equal(one.has_more, true);
  for (const m of one.messages) expectMessage(m, { room, text: 'line 101' });

  await closeAll(w, fresh, r10, r0, r60, rEnd, rBeyond);
});

test('a welcome in a small room has every message and has_more false', async () => {
  const room = roomId('small');
  const a = await connect(srv(), room, 'Small');
  for (const t of ['one', 'two', 'three']) await a.say(t);
  const b = await connect(srv(), room, 'Joiner');
  assert.deepEqual(b.welcome.messages.map((m) => [m.seq, m.text]), [[1, 'one'], [2, 'two'], [3, 'three']]);
  assert.equal(b.welcome.has_more, false);
  assert.equal(b.welcome.last_seq, 3);
  await closeAll(a, b);
});

test('reconnecting with since=LAST_SEEN delivers exactly the missed messages, nothing doubled', async () => {
  const room = roomId('resume');
  const a = await connect(srv(), room, 'Stayer');
  let b = await connect(srv(), room, 'Leaver');
  await a.say('before 1');
  await a.say('before 2');
  const firstSeen = (await b.next('message')).message.seq;
  const lastSeen = (await b.next('message')).message.seq;
  assert.deepEqual([firstSeen, lastSeen], [1, 2]);
  await b.close();

  const missed = [];
  for (const t of ['while away 1', 'while away 2', 'while away 3']) missed.push((await a.say(t)).message);

  b = await connect(srv(), room, 'Leaver', { since: lastSeen });
  assert.deepEqual(b.welcome.messages, missed, 'exactly the missed messages, oldest first');
  assert.equal(b.welcome.last_seq, 5);
  assert.equal(b.welcome.has_more, false);
  await b.expectNoFrame('message', 500);

  // Live traffic continues after the resume point.
  const live = await a.say('live again');
  assert.equal((await b.nextMessage(live.client_id)).message.seq, 6);
  await closeAll(a, b);
});

test('reconnecting with since again and again while someone keeps sending: nothing lost, nothing doubled', { timeout: 60_000 }, async () => {
  const room = roomId('resume-live');
  const N = 150;
  const w = await connect(srv(), room, 'Streamer');
  let r = await connect(srv(), room, 'Hopper');
  const seen = [];
  const writing = (async () => {
    for (let i = 1; i <= N; i++) {
      w.send({ type: 'send', text: `live ${i}`, client_id: `live-${i}` });
      await sleep(8);
    }
  })();
  for (let round = 0; round < 5; round++) {
    for (let k = 0; k < 15; k++) seen.push((await r.next('message', { timeout: 10_000 })).message.seq);
    await r.close();
    await sleep(20 + round * 10);
    r = await connect(srv(), room, 'Hopper', { since: seen.at(-1) });
    seen.push(...r.welcome.messages.map((m) => m.seq));
  }
  await writing;
  while (seen.at(-1) < N) seen.push((await r.next('message', { timeout: 10_000 })).message.seq);
  await r.expectNoFrame('message', 300);
  assert.deepEqual(seen, range(1, N), 'every seq exactly once, in order, across 5 reconnections');
  for (let i = 1; i <= N; i++) assert.equal((await w.nextAck(`live-${i}`)).seq, i);
  await closeAll(w, r);
});
