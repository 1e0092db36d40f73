// Presence 2 over real sockets (PROTOCOL.md "Presence 2"): a client that connects with
// `presence=2` gets one coalesced `presence` frame per tick while a legacy client in the
// same room keeps its `user_joined` per join; above PRESENCE_LIST_MAX the welcome and the
// frames carry only the count and the list is paged with `users`; bad and flooding
// `users` frames are refused without harming anyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from '../support/server.mjs';
import { connect, openSocket, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

// A tick longer than the deployed 200 ms, so that a join and a leave a few ms apart
// always fall into one tick on a busy machine. The shipped rate limits (burst 20, 5/s).
const TICK_MS = 400;
const LIST_MAX = 5;
const roomy = useServer({ vars: { PRESENCE_TICK_MS: String(TICK_MS) } });
const small = useServer({ vars: { PRESENCE_TICK_MS: String(TICK_MS), PRESENCE_LIST_MAX: String(LIST_MAX) } });

/** Connects with `presence=2` on the URL (a fresh name: it is claimed on the way in). */
const connect2 = (server, room, name) =>
  connect(server, room, name, { query: `name=${encodeURIComponent(name)}&presence=2` });

/** The name order of the server's lists (by name key: ASCII names fold to lowercase). */
const byKey = (names) => [...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));

/** Lets a tick pass, then drops every frame of `clients` not taken yet. */
async function settle(...clients) {
  await sleep(TICK_MS * 2);
  for (const c of clients) c.discard();
}

/** Takes `presence` frames until `done(frames)` holds. */
async function presenceUntil(client, done, timeout = 10_000) {
  const frames = [];
  const until = Date.now() + timeout;
  while (!done(frames)) {
    frames.push(await client.next('presence', { timeout: Math.max(1, until - Date.now()) }));
  }
  return frames;
}

test('a burst of 20 joins: one user_joined each for a legacy client, a few presence frames for a presence-2 one', async () => {
  const srv = roomy.server;
  const room = roomId('burst');
  const legacy = await connect(srv, room, 'Legacy');
  const modern = await connect2(srv, room, 'Modern');
  assert.equal(modern.welcome.user_count, 2);
  assert.equal(modern.welcome.users_partial ?? false, false);
  assert.deepEqual(modern.welcome.users.map((u) => u.name), ['Legacy', 'Modern']);
  assert.equal((await legacy.next('user_joined')).user.name, 'Modern');
  await settle(legacy, modern);

  const names = Array.from({ length: 20 }, (_, i) => `Burst${String(i).padStart(2, '0')}`);
  const t0 = Date.now();
  const burst = await Promise.all(names.map((name) => connect(srv, room, name)));
  console.log(`# presence2: 20 parallel connects took ${Date.now() - t0} ms`);
  try {
    const joins = [];
    for (let i = 0; i < names.length; i++) joins.push((await legacy.next('user_joined')).user.name);
    assert.deepEqual(byKey(joins), names, 'the legacy client hears every join, once');

    const joinedNames = (fs) => fs.flatMap((f) => (f.joined ?? []).map((u) => u.name));
    const all = await presenceUntil(modern, (fs) => new Set(joinedNames(fs)).size >= names.length);
    assert.ok(all.length < names.length / 2, `${all.length} presence frames for 20 joins: ${JSON.stringify(all)}`);
    assert.deepEqual(byKey(joinedNames(all)), names, 'every name joined, once');
    assert.equal(all.at(-1).count, 22, 'the count after the burst');
    for (const f of all) {
      assert.equal(f.partial, undefined);
      assert.equal(f.left, undefined, 'nobody left');
      assert.ok(f.joined.every((u) => u.status === 'online'));
    }
    await modern.expectNoFrame((f) => f?.type === 'user_joined' || f?.type === 'presence', TICK_MS * 2);
    assert.equal(modern.frames.filter((f) => f?.type === 'user_joined').length, 0, 'no legacy frames for presence 2');
    console.log(`# presence2: 20 joins -> ${all.length} presence frames (tick ${TICK_MS} ms), 20 user_joined for legacy`);

    // Leaves coalesce the same way, and so do status changes.
    burst[0].send({ type: 'status', status: 'away' });
    await closeAll(...burst.slice(1, 6));
    const leftNames = (fs) => fs.flatMap((f) => f.left ?? []);
    const changes = await presenceUntil(modern, (fs) => leftNames(fs).length >= 5 && fs.some((f) => f.status));
    assert.deepEqual(byKey(leftNames(changes)), names.slice(1, 6));
    assert.deepEqual(changes.flatMap((f) => f.status ?? []), [{ name: 'Burst00', status: 'away' }]);
    assert.equal(changes.at(-1).count, 17);
  } finally {
    await closeAll(legacy, modern, ...burst);
  }
});

test('a join and a leave within one tick cancel out for presence 2; legacy clients hear both', async () => {
  const srv = roomy.server;
  const room = roomId('blink');
  const legacy = await connect(srv, room, 'Stays');
  const modern = await connect2(srv, room, 'Watcher');
  await settle(legacy, modern);

  const { ws } = await openSocket(srv, room, 'Blink');
  ws.close(1000, 'bye');
  assert.equal((await legacy.next('user_joined')).user.name, 'Blink');
  assert.equal((await legacy.next('user_left')).user.name, 'Blink');
  // (A frame may still tell the count, unchanged: the room's first tick after a
  // presence-2 client arrived compares with a count nobody was told.)
  await sleep(TICK_MS * 3);
  for (const f of modern.discard('presence')) {
    assert.deepEqual(f, { type: 'presence', count: 2 }, 'nothing about Blink');
  }

  // A real change after it is told as usual, with the right count.
  const late = await connect(srv, room, 'Late');
  const frame = await modern.next('presence');
  assert.deepEqual(frame, { type: 'presence', count: 3, joined: [{ name: 'Late', status: 'online' }] });
  await closeAll(legacy, modern, late);
});

test('above PRESENCE_LIST_MAX: a partial welcome with the count, partial frames, and paging gives every name once, in order', async () => {
  const srv = small.server;
  const room = roomId('partial');
  const names = ['amy', 'Bea', 'carl', 'Dora', 'eve', 'Finn', 'gus'];
  const crowd = [];
  for (const name of names) crowd.push(await connect(srv, room, name));
  const modern = await connect2(srv, room, 'Hal');
  const all = byKey([...names, 'Hal']);
  try {
    assert.equal(modern.welcome.user_count, 8);
    assert.equal(modern.welcome.users_partial, true);
    assert.deepEqual(modern.welcome.users, []);
    assert.deepEqual(modern.welcome.you, { name: 'Hal', status: 'online' });
    // A legacy client still gets the whole list.
    const legacy = await connect(srv, room, 'Ivy');
    crowd.push(legacy);
    assert.deepEqual(byKey(legacy.welcome.users.map((u) => u.name)), byKey([...all, 'Ivy']));
    assert.equal(legacy.welcome.user_count, undefined, 'no presence-2 fields for legacy clients');
    all.push('Ivy');
    all.splice(0, all.length, ...byKey(all));

    // Over the list size a frame tells the count only.
    const frame = await modern.next('presence');
    assert.deepEqual(frame, { type: 'presence', count: 9, partial: true });
    await modern.expectNoFrame('presence', TICK_MS * 2);

    // Paging: every name exactly once, sorted by name key, `next` until the last page.
    for (const limit of [1, 2, 4, 200]) {
      const got = [];
      let after;
      for (let page = 0; page < 20; page++) {
        modern.send(after === undefined ? { type: 'users', limit } : { type: 'users', after, limit });
        const answer = await modern.next('users');
        assert.equal(answer.count, 9);
        assert.ok(answer.users.length <= limit);
        got.push(...answer.users.map((u) => u.name));
        if (answer.next === undefined) break;
        assert.equal(answer.next, answer.users.at(-1).name, 'next is the last name of the page');
        after = answer.next;
      }
      assert.deepEqual(got, all, `pages of ${limit}`);
    }
    // The default limit is the largest page.
    modern.send({ type: 'users' });
    const whole = await modern.next('users');
    assert.deepEqual(whole.users.map((u) => u.name), all);
    assert.equal(whole.next, undefined);
    // A name that is not here is a place in the order, not an error.
    modern.send({ type: 'users', after: 'dz', limit: 2 });
    assert.deepEqual((await modern.next('users')).users.map((u) => u.name), ['eve', 'Finn']);

    // Back under the list size: the whole list again, once.
    await closeAll(...crowd.slice(0, 5));
    const back = await presenceUntil(modern, (fs) => fs.at(-1)?.users !== undefined);
    const last = back.at(-1);
    assert.equal(last.count, 4);
    assert.equal(last.partial, undefined);
    assert.deepEqual(last.users.map((u) => u.name), byKey(['Finn', 'gus', 'Hal', 'Ivy']));
    for (const f of back.slice(0, -1)) assert.equal(f.partial, true, 'partial frames until then');
  } finally {
    await closeAll(modern, ...crowd);
  }
});

test('bad users frames are bad_frame and the socket keeps working', async () => {
  const srv = small.server;
  const room = roomId('users-bad');
  const modern = await connect2(srv, room, 'Pager');
  const other = await connect(srv, room, 'Other');
  await settle(modern, other);
  try {
    for (const bad of [
      { type: 'users', limit: 0 },
      { type: 'users', limit: 201 },
      { type: 'users', limit: -1 },
      { type: 'users', limit: 2.5 },
      { type: 'users', limit: '10' },
      { type: 'users', after: 5 },
      { type: 'users', after: ['Other'] },
      { type: 'users', after: 'x'.repeat(1000) },
      { type: 'users', after: '' },
      { type: 'users', after: 'bad\u0000name' },
    ]) {
      modern.send(bad);
      expectErrorFrame(await modern.nextError(), 'bad_frame');
    }
    assert.ok(modern.isOpen());
    modern.send({ type: 'users', limit: 1 });
    const page = await modern.next('users');
    assert.deepEqual(page, { type: 'users', users: [{ name: 'Other', status: 'online' }], count: 2, next: 'Other' });
    const said = await other.say('still here');
    assert.equal((await modern.next('message')).message.seq, said.message.seq);
  } finally {
    await closeAll(modern, other);
  }
});

test('a flood of users requests is rate limited; the other members are unharmed', async () => {
  const srv = small.server;
  const room = roomId('users-flood');
  const flooder = await connect2(srv, room, 'Flooder');
  const a = await connect(srv, room, 'Calm');
  const b = await connect2(srv, room, 'Quiet');
  await settle(flooder, a, b);
  try {
    for (let i = 0; i < 60; i++) flooder.send({ type: 'users', limit: 200 });
    const limited = await flooder.nextError();
    expectErrorFrame(limited, 'rate_limited');
    await sleep(300);
    const answers = flooder.frames.filter((f) => f?.type === 'users').length;
    const refused = flooder.frames.filter((f) => f?.type === 'error' && f.code === 'rate_limited').length;
    assert.ok(answers <= 25, `${answers} answers for 60 requests (burst 20)`);
    assert.ok(answers >= 1 && refused >= 1, `${answers} answered, ${refused} refused`);
    console.log(`# presence2: 60 users requests -> ${answers} answered, ${refused} rate_limited error frame(s)`);

    // The others still talk and hear each other, and presence still reaches them.
    const said = await a.say('business as usual');
    assert.equal((await b.next('message')).message.seq, said.message.seq);
    b.send({ type: 'users', limit: 10 });
    assert.equal((await b.next('users')).count, 3);
    const late = await connect(srv, room, 'Latecomer');
    assert.deepEqual((await b.next('presence')).joined, [{ name: 'Latecomer', status: 'online' }]);
    await closeAll(late);
  } finally {
    await closeAll(flooder, a, b);
  }
});
