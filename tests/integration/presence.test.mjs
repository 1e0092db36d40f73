// Presence (user_joined / user_left / user_status), typing indicators and ping/pong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectErrorFrame, userSet } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const users = async (room) => {
  const res = await http(srv(), `/room/${room}/users`);
  assert.equal(res.status, 200, res.text);
  return res.json.users;
};

test('user_joined goes to the others when a name\'s first connection opens, not for a second tab', async () => {
  const room = roomId('joined');
  const a = await connect(srv(), room, 'Anna');
  const b1 = await connect(srv(), room, 'Boris');
  try {
    const joined = await a.next('user_joined');
    assert.deepEqual(joined.user, { name: 'Boris', status: 'online' });
    await b1.expectNoFrame('user_joined', 0);
    assert.deepEqual(userSet(b1.welcome.users), ['Anna:online', 'Boris:online']);

    const b2 = await connect(srv(), room, 'Boris');
    const b3 = await connect(srv(), room, 'BORIS');
    await a.expectNoFrame('user_joined', 700);
    await b1.expectNoFrame('user_joined', 0);
    assert.deepEqual(userSet(b2.welcome.users), ['Anna:online', 'Boris:online'], 'one user for two tabs');
    assert.deepEqual(userSet(b3.welcome.users), ['Anna:online', 'Boris:online'], 'names compare case-insensitively');
    assert.equal(b3.welcome.you.name, 'Boris', 'shown as the first connection spelled it');

    // user_left only when the last one closes.
    await b1.close();
    await b3.close();
    await a.expectNoFrame('user_left', 700);
    assert.deepEqual(userSet(await users(room)), ['Anna:online', 'Boris:online']);
    await b2.close();
    const left = await a.next('user_left');
    assert.equal(left.user.name, 'Boris');
    assert.deepEqual(userSet(await users(room)), ['Anna:online']);
    await a.expectNoFrame((f) => f?.type === 'user_left' || f?.type === 'user_joined', 300);
  } finally {
    await closeAll(a, b1);
  }
});

test('user_left reaches everyone else; a newcomer\'s welcome no longer lists the one who left', async () => {
  const room = roomId('left');
  const a = await connect(srv(), room, 'Ada');
  const b = await connect(srv(), room, 'Bert');
  const c = await connect(srv(), room, 'Cleo');
  a.discard('user_joined');
  b.discard('user_joined');
  await b.close();
  assert.equal((await a.next('user_left')).user.name, 'Bert');
  assert.equal((await c.next('user_left')).user.name, 'Bert');
  const d = await connect(srv(), room, 'Dan');
  assert.deepEqual(userSet(d.welcome.users), ['Ada:online', 'Cleo:online', 'Dan:online']);
  await closeAll(a, c, d);
});

test('status: user_status goes to the others and to the user\'s other tabs; /users shows it', async () => {
  const room = roomId('status');
  const a = await connect(srv(), room, 'Sam');
  const aTab = await connect(srv(), room, 'sam');
  const b = await connect(srv(), room, 'Tess');
  for (const c of [a, aTab]) assert.equal((await c.next('user_joined')).user.name, 'Tess');
  try {
    a.send({ type: 'status', status: 'away' });
    const seenByB = await b.next('user_status');
    assert.deepEqual(seenByB.user, { name: 'Sam', status: 'away' });
    const seenByTab = await aTab.next('user_status');
    assert.deepEqual(seenByTab.user, { name: 'Sam', status: 'away' });
    await a.expectNoFrame('user_status', 500);
    assert.deepEqual(userSet(await users(room)), ['Sam:away', 'Tess:online']);

    b.send({ type: 'status', status: 'dnd' });
    assert.deepEqual((await a.next('user_status')).user, { name: 'Tess', status: 'dnd' });
    assert.deepEqual((await aTab.next('user_status')).user, { name: 'Tess', status: 'dnd' });
    await b.expectNoFrame('user_status', 300);

    const late = await connect(srv(), room, 'Late');
    assert.deepEqual(userSet(late.welcome.users), ['Late:online', 'Sam:away', 'Tess:dnd']);
    assert.deepEqual((await a.next('user_joined')).user, { name: 'Late', status: 'online' });

    a.send({ type: 'status', status: 'online' });
    assert.deepEqual((await late.next('user_status')).user, { name: 'Sam', status: 'online' });
    assert.deepEqual(userSet(await users(room)), ['Late:online', 'Sam:online', 'Tess:dnd']);

    // Unknown status: bad_frame, nothing changes.
    a.send({ type: 'status', status: 'invisible' });
    expectErrorFrame(await a.nextError(), 'bad_frame');
    await late.expectNoFrame('user_status', 300);
    assert.deepEqual(userSet(await users(room)), ['Late:online', 'Sam:online', 'Tess:dnd']);
    await closeAll(late);
  } finally {
    await closeAll(a, aTab, b);
  }
});

test('a user who leaves and comes back starts online', async () => {
  const room = roomId('status-back');
  const obs = await connect(srv(), room, 'Obs');
  let a = await connect(srv(), room, 'Away');
  a.send({ type: 'status', status: 'away' });
  assert.equal((await obs.next('user_status')).user.status, 'away');
  await a.close();
  assert.equal((await obs.next('user_left')).user.name, 'Away');
  a = await connect(srv(), room, 'Away');
  assert.deepEqual(a.welcome.you, { name: 'Away', status: 'online' });
  assert.deepEqual((await obs.next('user_joined')).user, { name: 'Away', status: 'online' });
  await closeAll(obs, a);
});

test('typing: the others see the typist, the typist is never listed to itself, off clears it', async () => {
  const room = roomId('typing');
  const a = await connect(srv(), room, 'Typist');
  const b = await connect(srv(), room, 'Watcher');
  const c = await connect(srv(), room, 'Third');
  for (const x of [a, b, c]) x.discard('user_joined');
  try {
    a.send({ type: 'typing', on: true });
    assert.deepEqual((await b.next('typing')).names, ['Typist']);
    assert.deepEqual((await c.next('typing')).names, ['Typist']);
    // The typist is excluded from what it receives.
    await sleep(300);
    for (const f of a.discard('typing')) assert.ok(!f.names.includes('Typist'), `typist sees itself: ${JSON.stringify(f)}`);

    b.send({ type: 'typing', on: true });
    const both = await c.next((f) => f?.type === 'typing' && f.names.length === 2);
    assert.deepEqual([...both.names].sort(), ['Typist', 'Watcher']);
    assert.deepEqual((await a.next((f) => f?.type === 'typing' && f.names.includes('Watcher'))).names, ['Watcher']);
    await sleep(200);
    for (const f of b.discard('typing')) assert.ok(!f.names.includes('Watcher'), `watcher sees itself: ${JSON.stringify(f)}`);

    a.send({ type: 'typing', on: false });
    assert.deepEqual((await c.next((f) => f?.type === 'typing' && !f.names.includes('Typist'))).names, ['Watcher']);
    assert.deepEqual((await b.next((f) => f?.type === 'typing' && !f.names.includes('Typist'))).names, []);
    b.send({ type: 'typing', on: false });
    assert.deepEqual((await c.next((f) => f?.type === 'typing' && f.names.length === 0)).names, []);
  } finally {
    await closeAll(a, b, c);
  }
});

test('typing: an on expires by itself after about 5 s', async () => {
  const room = roomId('typing-ttl');
  const a = await connect(srv(), room, 'Slow');
  const b = await connect(srv(), room, 'Sees');
  a.discard('user_joined');
  try {
    const t0 = Date.now();
    a.send({ type: 'typing', on: true });
    assert.deepEqual((await b.next('typing')).names, ['Slow']);
    const cleared = await b.next((f) => f?.type === 'typing' && !f.names.includes('Slow'), { timeout: 9000 });
    const elapsed = Date.now() - t0;
    assert.deepEqual(cleared.names, []);
    assert.ok(elapsed >= 4000, `expired too early: after ${elapsed} ms`);
    assert.ok(elapsed <= 7500, `expired too late: after ${elapsed} ms`);
  } finally {
    await closeAll(a, b);
  }
});

test('typing: renewing the on keeps it alive past 5 s', async () => {
  const room = roomId('typing-renew');
  const a = await connect(srv(), room, 'Renewer');
  const b = await connect(srv(), room, 'Sees');
  a.discard('user_joined');
  try {
    a.send({ type: 'typing', on: true });
    assert.deepEqual((await b.next('typing')).names, ['Renewer']);
    await sleep(3000);
    a.send({ type: 'typing', on: true });
    await sleep(3500); // 6.5 s after the first on, 3.5 s after the renewal
    const gone = b.pending().filter((f) => f?.type === 'typing' && !f.names.includes('Renewer'));
    assert.deepEqual(gone, [], 'a renewed typing must not expire 5 s after the first on');
    const cleared = await b.next((f) => f?.type === 'typing' && !f.names.includes('Renewer'), { timeout: 5000 });
    assert.deepEqual(cleared.names, []);
  } finally {
    await closeAll(a, b);
  }
});

test('typing: sending a message clears the typist', async () => {
  const room = roomId('typing-send');
  const a = await connect(srv(), room, 'Writer');
  const b = await connect(srv(), room, 'Reader');
  a.discard('user_joined');
  try {
    a.send({ type: 'typing', on: true });
    assert.deepEqual((await b.next('typing')).names, ['Writer']);
    const t0 = Date.now();
    const { client_id } = await a.say('done typing');
    await b.nextMessage(client_id);
    const cleared = await b.next((f) => f?.type === 'typing' && !f.names.includes('Writer'), { timeout: 2000 });
    assert.deepEqual(cleared.names, []);
    assert.ok(Date.now() - t0 < 2000, 'cleared by the send, not by the 5 s expiry');
  } finally {
    await closeAll(a, b);
  }
});

test('typing: closing the typist\'s last socket clears it for the others', async () => {
  const room = roomId('typing-close');
  const a = await connect(srv(), room, 'Quitter');
  const b = await connect(srv(), room, 'Stays');
  a.discard('user_joined');
  try {
    a.send({ type: 'typing', on: true });
    assert.deepEqual((await b.next('typing')).names, ['Quitter']);
    const t0 = Date.now();
    await a.close();
    await b.next('user_left');
    // Either an explicit typing update soon, or at the latest the expiry; never a ghost.
    const cleared = await b.next((f) => f?.type === 'typing' && !f.names.includes('Quitter'), { timeout: 7000 });
    assert.deepEqual(cleared.names, []);
    assert.ok(Date.now() - t0 < 7000);
  } finally {
    await closeAll(a, b);
  }
});

test('ping: the text frame ping is answered with the text frame pong', async () => {
  const room = roomId('ping');
  const a = await connect(srv(), room, 'Pinger');
  const b = await connect(srv(), room, 'Bystander');
  for (let i = 0; i < 3; i++) {
    a.sendRaw('ping');
    assert.equal(await a.next('pong'), 'pong');
  }
  await b.expectNoFrame(() => true, 300);
  await a.expectNoFrame('error', 0);
  const r = await a.say('after pings');
  assert.equal(r.ack.seq, 1);
  await closeAll(a, b);
});
