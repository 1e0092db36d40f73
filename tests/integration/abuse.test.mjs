// Abuse from inside a room (issue 10): socket caps, a rate bucket that reconnects and
// tabs cannot refill, refused frames that count and close a socket with 1008, status
// and typing that cannot be made to flood everyone, client_id on every refusal. Each
// test performs the abuse against the real Worker, asserts the refusal, and has another
// member of the same room chat normally meanwhile: every message acked, received by a
// peer in order, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http } from '../support/server.mjs';
import { connect, expectRefused, bearer, cid, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

// This server: rates generous (what is measured is the caps, strikes and coalescing),
// the room cap low enough to fill, the other limits at their defaults.
const PER_CLAIM = 10;
const PER_ROOM = 14;
const REFUSED_PER_MIN = 30;
const TYPING_MS = 500;
const ctx = useServer({
  vars: {
    RATE_LIMIT_BURST: '1000',
    RATE_LIMIT_PER_SEC: '1000',
    MAX_SOCKETS_PER_CLAIM: String(PER_CLAIM),
    MAX_SOCKETS_PER_ROOM: String(PER_ROOM),
    REFUSED_FRAMES_PER_MIN: String(REFUSED_PER_MIN),
    TYPING_INTERVAL_MS: String(TYPING_MS),
  },
});
const srv = () => ctx.server;

// This one: a small, slow bucket, to see that nothing refills it early.
const BURST = 5;
const PER_SEC = 1;
const rctx = useServer({ vars: { RATE_LIMIT_BURST: String(BURST), RATE_LIMIT_PER_SEC: String(PER_SEC) } });
const rsrv = () => rctx.server;

/**
 * `victim` sends `n` messages, a few in flight at a time: each is acked, `peer`
 * receives all of them in the order sent, with the seqs of their acks, and the victim
 * sees them too. Returns the acks.
 */
async function chatsNormally(victim, peer, n, { inFlight = 3, timeout = 15_000 } = {}) {
  const ids = Array.from({ length: n }, () => cid('victim'));
  const acks = [];
  for (let i = 0; i < n; i += inFlight) {
    const chunk = ids.slice(i, i + inFlight);
    for (const id of chunk) victim.send({ type: 'send', text: `normal ${id}`, client_id: id });
    for (const id of chunk) {
      const f = await victim.next((x) => (x?.type === 'ack' || x?.type === 'error') && x.client_id === id, { timeout });
      assert.equal(f.type, 'ack', `the victim's message was refused: ${JSON.stringify(f)}`);
      acks.push(f);
    }
  }
  const seen = [];
  for (const id of ids) seen.push(await peer.nextMessage(id, { timeout }));
  assert.deepEqual(seen.map((f) => f.message.client_id), ids, 'received in the order sent');
  assert.deepEqual(seen.map((f) => f.message.seq), acks.map((a) => a.seq), 'with the acked seqs');
  for (let i = 1; i < acks.length; i++) assert.ok(acks[i].seq > acks[i - 1].seq, 'seqs grow');
  for (const id of ids) await victim.nextMessage(id, { timeout });
  return acks;
}

/** Connects until the room takes the socket (a slot frees once its close is processed). */
async function connectSoon(server, room, name, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await connect(server, room, name);
    } catch (err) {
      if (err.status !== 429 || Date.now() > until) throw err;
      await sleep(100);
    }
  }
}

test('the 11th socket of one claim in a room is 429 too_many_sockets; the others chat on', async () => {
  const room = roomId('claim-cap');
  const victim = await connect(srv(), room, 'Victim');
  const peer = await connect(srv(), room, 'Peer');
  const tabs = [];
  try {
    for (let i = 0; i < PER_CLAIM; i++) tabs.push(await connect(srv(), room, 'Hog'));
    const refused = await expectRefused(srv(), room, 'Hog');
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'too_many_sockets');
    assert.match(refused.body.error.message, /Hog already has 10 connections open in this room/);
    assert.ok(Number(refused.headers['retry-after']) > 0, 'a 429 says when to retry');
    // The plain HTTP probe, which is how a browser learns why, says the same.
    const probe = await http(srv(), `/room/${room}?name=Hog`, { headers: bearer(srv(), 'Hog') });
    assert.equal(probe.status, 429, probe.text);
    assert.equal(probe.json.error.code, 'too_many_sockets');
    assert.ok(probe.headers.get('retry-after'));
    // Everyone else is unharmed, and a newcomer still gets in.
    await chatsNormally(victim, peer, 10);
    const newcomer = await connect(srv(), room, 'Newcomer');
    await newcomer.close();
    // Closing one of its sockets frees a slot for the claim.
    await tabs.shift().close();
    tabs.push(await connectSoon(srv(), room, 'Hog'));
    await chatsNormally(victim, peer, 3);
  } finally {
    await closeAll(victim, peer, ...tabs);
  }
});

test('a room full at MAX_SOCKETS_PER_ROOM refuses the next connect with 429; members inside chat on', async () => {
  const room = roomId('room-cap');
  const victim = await connect(srv(), room, 'Inside');
  const peer = await connect(srv(), room, 'Also');
  const fillers = [];
  try {
    while (fillers.length < PER_ROOM - 2) fillers.push(await connect(srv(), room, fillers.length % 2 ? 'FillA' : 'FillB'));
    const refused = await expectRefused(srv(), room, 'Late');
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'too_many_sockets');
    assert.match(refused.body.error.message, /this room is full/);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    // Another room of the same server is not affected.
    const elsewhere = await connect(srv(), roomId('other-room'), 'Late');
    await elsewhere.close();
    await chatsNormally(victim, peer, 10);
    // One leaves: one more may enter.
    await fillers.pop().close();
    fillers.push(await connectSoon(srv(), room, 'Late'));
  } finally {
    await closeAll(victim, peer, ...fillers);
  }
});

/** For each client_id sent on `client`, its ack or error. */
async function outcomes(client, ids, timeout = 10_000) {
  const out = [];
  for (const id of ids) {
    out.push(await client.next((f) => (f?.type === 'ack' || f?.type === 'error') && f.client_id === id, { timeout }));
  }
  return out;
}

test('reconnecting 10 times does not refill the bucket: the flood stays rate_limited', async () => {
  const room = roomId('refill');
  const victim = await connect(rsrv(), room, 'Patient');
  const peer = await connect(rsrv(), room, 'Listener');
  try {
    const started = Date.now();
    let accepted = 0;
    let limited = 0;
    for (let round = 0; round < 10; round++) {
      const a = await connect(rsrv(), room, 'Refiller');
      const ids = Array.from({ length: BURST }, () => cid(`r${round}`));
      for (const id of ids) a.send({ type: 'send', text: `flood ${id}`, client_id: id });
      for (const f of await outcomes(a, ids)) {
        if (f.type === 'ack') accepted++;
        else {
          expectErrorFrame(f, 'rate_limited');
          assert.ok(f.retry_after_ms > 0);
          limited++;
        }
      }
      await a.close();
    }
    const seconds = (Date.now() - started) / 1000;
    // A fresh bucket per connection would have let all 50 through.
    assert.ok(accepted <= BURST + Math.ceil(seconds * PER_SEC) + 1,
      `accepted ${accepted} of 50 in ${seconds.toFixed(1)} s with a burst of ${BURST} and ${PER_SEC}/s`);
    assert.ok(limited >= 50 - BURST - Math.ceil(seconds * PER_SEC) - 1, `rate_limited ${limited}`);
    await chatsNormally(victim, peer, BURST - 1);
  } finally {
    await closeAll(victim, peer);
  }
});

test('more tabs of one claim do not multiply its rate', async () => {
  const room = roomId('tabs');
  const victim = await connect(rsrv(), room, 'Calm');
  const peer = await connect(rsrv(), room, 'Ear');
  const tabs = [];
  try {
    for (let i = 0; i < 4; i++) tabs.push(await connect(rsrv(), room, 'Many'));
    const started = Date.now();
    const sent = tabs.map((tab, t) => {
      const ids = Array.from({ length: BURST }, () => cid(`t${t}`));
      for (const id of ids) tab.send({ type: 'send', text: `tab ${id}`, client_id: id });
      return ids;
    });
    const results = (await Promise.all(tabs.map((tab, t) => outcomes(tab, sent[t])))).flat();
    const seconds = (Date.now() - started) / 1000;
    const accepted = results.filter((f) => f.type === 'ack').length;
    assert.ok(accepted <= BURST + Math.ceil(seconds * PER_SEC) + 1,
      `4 tabs x ${BURST}: accepted ${accepted} in ${seconds.toFixed(1)} s; one bucket holds ${BURST}`);
    for (const f of results.filter((r) => r.type === 'error')) expectErrorFrame(f, 'rate_limited');
    await chatsNormally(victim, peer, BURST - 1);
  } finally {
    await closeAll(victim, peer, ...tabs);
  }
});

test('a loop of frames over the limit is answered too_large with each client_id, then closed with 1008', async () => {
  const room = roomId('huge');
  const victim = await connect(srv(), room, 'Bystander');
  const peer = await connect(srv(), room, 'Witness');
  const attacker = await connect(srv(), room, 'Bulky');
  try {
    // Just over the frame limit (16 KiB): each refusal is one strike.
    const text = 'a'.repeat(16 * 1024);
    const ids = Array.from({ length: REFUSED_PER_MIN + 10 }, (_, i) => `big-${i}`);
    const flood = (async () => {
      for (const id of ids) {
        if (!attacker.isOpen()) break;
        attacker.sendRaw(JSON.stringify({ type: 'send', text, client_id: id }));
        await sleep(5);
      }
    })();
    const chat = chatsNormally(victim, peer, 10, { timeout: 30_000 });
    const closed = await attacker._closePromise;
    await Promise.all([flood, chat]);
    assert.equal(closed.code, 1008, JSON.stringify(closed));
    assert.equal(closed.reason, 'too many refused frames');
    const errors = attacker.frames.filter((f) => f?.type === 'error');
    assert.equal(errors.length, REFUSED_PER_MIN + 1, `${REFUSED_PER_MIN} refusals, then one last error: ${errors.length}`);
    errors.forEach((e, i) => expectErrorFrame(e, 'too_large', { client_id: ids[i] }));
    // Its leaving is a leave like any other; nothing it sent was stored.
    const page = (await http(srv(), `/room/${room}/messages?limit=100`)).json;
    assert.ok(!page.messages.some((m) => m.client_id?.startsWith('big-')));
    await chatsNormally(victim, peer, 3);
  } finally {
    await closeAll(victim, peer, attacker);
  }
});

test('a 1 MiB frame is answered too_large with its client_id and closes the socket at once', async () => {
  const room = roomId('mib');
  const victim = await connect(srv(), room, 'Onlooker');
  const peer = await connect(srv(), room, 'Nearby');
  const attacker = await connect(srv(), room, 'Hefty');
  try {
    const chat = chatsNormally(victim, peer, 10, { timeout: 30_000 });
    const text = 'a'.repeat(1 << 20);
    attacker.sendRaw(JSON.stringify({ type: 'send', text, client_id: 'mib-0' }));
    attacker.sendRaw(JSON.stringify({ type: 'send', text, client_id: 'mib-1' }));
    const closed = await attacker._closePromise;
    await chat;
    assert.equal(closed.code, 1008, JSON.stringify(closed));
    const errors = attacker.frames.filter((f) => f?.type === 'error');
    assert.equal(errors.length, 1, 'one answer, then the close');
    expectErrorFrame(errors[0], 'too_large', { client_id: 'mib-0' });
    await chatsNormally(victim, peer, 3);
  } finally {
    await closeAll(victim, peer, attacker);
  }
});

test('status spam: an identical status is accepted silently and reaches nobody', async () => {
  const room = roomId('status-spam');
  const victim = await connect(srv(), room, 'Quiet');
  const peer = await connect(srv(), room, 'Near');
  const spammer = await connect(srv(), room, 'Spammy');
  try {
    const chat = chatsNormally(victim, peer, 10);
    for (let i = 0; i < 100; i++) spammer.send({ type: 'status', status: 'online' });
    spammer.send({ type: 'status', status: 'away' });
    for (let i = 0; i < 100; i++) spammer.send({ type: 'status', status: 'away' });
    await chat;
    await sleep(500);
    const statuses = victim.discard((f) => f?.type === 'user_status' && f.user.name === 'Spammy');
    assert.deepEqual(statuses.map((f) => f.user.status), ['away'], 'one frame, for the one change');
    await spammer.expectNoFrame('error', 0);
    // The users list agrees.
    const users = (await http(srv(), `/room/${room}/users`)).json.users;
    assert.equal(users.find((u) => u.name === 'Spammy').status, 'away');
  } finally {
    await closeAll(victim, peer, spammer);
  }
});

test('typing spam: 200 toggles in 2 s reach the others as a few frames, ending in the final state', async (t) => {
  const room = roomId('typing-spam');
  const victim = await connect(srv(), room, 'Reader');
  const peer = await connect(srv(), room, 'Other');
  const typer = await connect(srv(), room, 'Toggler');
  victim.discard('user_joined');
  try {
    const chat = chatsNormally(victim, peer, 10);
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      typer.send({ type: 'typing', on: i % 2 === 1 }); // the last one (199) is on
      await sleep(10);
    }
    const spent = Date.now() - started;
    await chat;
    await sleep(TYPING_MS * 2); // the held change lands at the end of its interval
    const frames = victim.discard('typing');
    const bound = Math.floor(spent / TYPING_MS) + 2;
    t.diagnostic(`${frames.length} typing frames reached the victim for 200 toggles in ${spent} ms`);
    assert.ok(frames.length <= Math.min(bound, 6), `${frames.length} typing frames for 200 toggles in ${spent} ms`);
    assert.ok(frames.length >= 2, `changes still get through: ${JSON.stringify(frames)}`);
    assert.deepEqual(frames.at(-1).names, ['Toggler'], 'the last frame shows the final state');
    await typer.expectNoFrame('error', 0);
  } finally {
    await closeAll(victim, peer, typer);
  }
});

test('a refused history or thread frame carries the client_id it had', async () => {
  const room = roomId('cid');
  const victim = await connect(srv(), room, 'Asker');
  const peer = await connect(srv(), room, 'Answerer');
  try {
    victim.send({ type: 'history', before: 10, limit: 101, client_id: 'h-1' });
    expectErrorFrame(await victim.nextError('h-1'), 'bad_frame', { client_id: 'h-1' });
    victim.send({ type: 'thread', seq: 999, client_id: 't-1' });
    expectErrorFrame(await victim.nextError('t-1'), 'not_found', { client_id: 't-1' });
    // The victim entered first, so owns the room: the peer may not kick.
    peer.send({ type: 'kick', name: 'Asker', client_id: 'k-1' });
    expectErrorFrame(await peer.nextError('k-1'), 'forbidden', { client_id: 'k-1' });
    await chatsNormally(victim, peer, 5);
    await victim.expectNoFrame('error', 0);
  } finally {
    await closeAll(victim, peer);
  }
});
