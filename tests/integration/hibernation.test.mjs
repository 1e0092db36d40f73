// Hibernation: after ~10 s without events the local runtime evicts the room object; the
// next event runs on a fresh instance. Sockets and identities must survive that: who is
// connected, under which name and status, the seq counter and the idempotency memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, sleep, closeAll } from '../support/client.mjs';
import { userSet, seqs, range } from '../support/expect.mjs';

const IDLE_MS = 15_000; // longer than the ~10 s local eviction
const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const presenceTypes = new Set(['user_joined', 'user_left', 'user_status', 'typing', 'error']);

test('a room that hibernated wakes with every socket, identity, status and seq intact', { timeout: 120_000 }, async () => {
  const room = roomId('hibernate');
  const alice = await connect(srv(), room, 'Alice');
  const aliceTab = await connect(srv(), room, 'ALICE');
  const bob = await connect(srv(), room, 'Bob');
  const carol = await connect(srv(), room, 'Carol');
  const everyone = [alice, aliceTab, bob, carol];
  try {
    alice.send({ type: 'status', status: 'away' });
    await bob.next((f) => f?.type === 'user_status' && f.user.status === 'away');
    bob.send({ type: 'status', status: 'dnd' });
    await alice.next((f) => f?.type === 'user_status' && f.user.status === 'dnd');
    const m1 = await bob.say('before the nap');
    const m2 = await aliceTab.say('tab speaking before the nap');
    const tabName = m2.message.name;
    assert.equal(tabName.toLowerCase(), 'alice');
    await Promise.all(everyone.map((c) => c.nextMessage(m2.client_id).catch(() => {})));
    for (const c of everyone) c.discard();

    // ---- first nap
    const napStart = srv().output.length;
    await sleep(IDLE_MS);
    for (const c of everyone) {
      assert.ok(c.isOpen(), `${c.name}'s socket survived the idle period`);
      assert.deepEqual(c.pending().filter((f) => presenceTypes.has(f?.type)), [], `${c.name} got no presence noise while idle`);
    }

    // The first event is a plain HTTP read of who is here.
    const users = (await http(srv(), `/room/${room}/users`)).json.users;
    assert.deepEqual(userSet(users), ['Alice:away', 'Bob:dnd', 'Carol:online'], JSON.stringify(users));
    // The runtime really evicted the object: a fresh instance rebuilt the room from the
    // sockets' attachments (the Durable Object logs this only when it wakes).
    // wrangler relays the object's log a moment later, so wait for it a little.
    const woke = new RegExp(`room ${room}: woke with 4 connection\\(s\\), last seq 2`);
    for (let i = 0; i < 50 && !woke.test(srv().outputSince(napStart)); i++) await sleep(100);
    assert.match(srv().outputSince(napStart), woke);

    // ping is answered.
    carol.sendRaw('ping');
    await carol.next('pong');

    // A send reaches everyone, with the next seq and the right name.
    const m3 = await carol.say('good morning');
    assert.equal(m3.ack.seq, 3, 'the seq counter survived');
    for (const c of [alice, aliceTab, bob]) {
      const got = await c.nextMessage(m3.client_id);
      assert.equal(got.message.seq, 3);
      assert.equal(got.message.name, 'Carol');
    }
    // The second tab still speaks as the same user.
    const m4 = await aliceTab.say('tab after the nap');
    assert.equal(m4.message.name, tabName);
    assert.equal(m4.ack.seq, 4);

    // The idempotency memory survived: a resend of a pre-nap client_id is not stored again.
    bob.send({ type: 'send', text: 'before the nap (again)', client_id: m1.client_id });
    assert.equal((await bob.nextAck(m1.client_id)).seq, m1.ack.seq);
    await carol.expectNoFrame((f) => f?.type === 'message' && f.message.client_id === m1.client_id, 500);

    // A newcomer sees everyone with the right status; the others see only the newcomer join.
    const dave = await connect(srv(), room, 'Dave');
    assert.deepEqual(userSet(dave.welcome.users), ['Alice:away', 'Bob:dnd', 'Carol:online', 'Dave:online']);
    assert.deepEqual(seqs(dave.welcome.messages), range(1, 4));
    assert.equal(dave.welcome.last_seq, 4);
    for (const c of everyone) {
      assert.deepEqual((await c.next('user_joined')).user, { name: 'Dave', status: 'online' });
    }
    await Promise.all(everyone.map((c) => c.expectNoFrame((f) => f?.type === 'user_joined' || f?.type === 'user_left', 300)));
    everyone.push(dave);
    for (const c of everyone) c.discard();

    // ---- second nap; this time the waking event is a socket closing.
    await sleep(IDLE_MS);
    await aliceTab.close();
    // Alice still has a socket: nobody is told she left.
    await Promise.all([bob, carol, dave].map((c) => c.expectNoFrame('user_left', 1000)));
    await bob.close();
    for (const c of [alice, carol, dave]) {
      const left = await c.next('user_left');
      assert.equal(left.user.name, 'Bob');
    }
    assert.deepEqual(userSet((await http(srv(), `/room/${room}/users`)).json.users), ['Alice:away', 'Carol:online', 'Dave:online']);

    // Status and typing still carry the right identity.
    alice.send({ type: 'status', status: 'online' });
    assert.deepEqual((await dave.next('user_status')).user, { name: 'Alice', status: 'online' });
    dave.send({ type: 'typing', on: true });
    assert.deepEqual((await carol.next('typing')).names, ['Dave']);
    const m5 = await dave.say('still one room');
    assert.equal(m5.ack.seq, 5);
    assert.equal((await alice.nextMessage(m5.client_id)).message.seq, 5);
  } finally {
    await closeAll(everyone);
  }
});

test('a client that connects to a hibernated room with since gets what it missed', { timeout: 60_000 }, async () => {
  const room = roomId('hibernate-since');
  const a = await connect(srv(), room, 'Early');
  for (const t of ['m1', 'm2', 'm3']) await a.say(t);
  await sleep(IDLE_MS);
  const b = await connect(srv(), room, 'Late', { since: 1 });
  assert.deepEqual(b.welcome.messages.map((m) => m.text), ['m2', 'm3']);
  assert.deepEqual(userSet(b.welcome.users), ['Early:online', 'Late:online']);
  assert.deepEqual((await a.next('user_joined')).user, { name: 'Late', status: 'online' });
  assert.equal((await b.say('m4')).ack.seq, 4);
  await closeAll(a, b);
});
