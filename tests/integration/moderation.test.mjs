// Moderation: the first name in a room creates it and moderates it. The creator deletes
// anyone's message, kicks a name (every connection of it closes; it may come back) and
// bans a name for a time (refused at connect with 403 banned, until it runs out or is
// lifted). Everyone sees each action; D1 keeps an audit; bans survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, expectRefused, sleep } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

/** Resolves with the close code and reason once the server's close frame has arrived.
 *  (The `close` event waits for the TCP teardown, which the local runtime delays by
 *  seconds; `ws` records the close frame itself as soon as it is received.) */
async function closed(client, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (client.ws.readyState < 2) {
    if (Date.now() > deadline) throw new Error(`${client.name}: no close frame within ${timeout} ms`);
    await sleep(50);
  }
  return { code: client.ws._closeCode, reason: String(client.ws._closeMessage ?? '') };
}

async function audit(room, count) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await http(srv(), `/room/${room}/moderation`);
    assert.equal(res.status, 200, res.text);
    if (res.json.actions.length >= count || Date.now() > deadline) return res.json.actions;
    await sleep(100);
  }
}

test('the first claim owns the room; only it moderates; it may delete any message, audited', async () => {
  const room = roomId('mod');
  const ann = await connect(srv(), room, 'Ann');
  assert.equal(ann.welcome.creator, 'Ann');
  assert.equal(ann.welcome.owner, 'Ann');
  assert.equal(ann.welcome.role, 'owner');
  const bo = await connect(srv(), room, 'Bo');
  assert.equal(bo.welcome.creator, 'Ann');
  assert.equal(bo.welcome.role, null);
  assert.deepEqual(bo.welcome.moderators, []);

  for (const frame of [{ type: 'kick', name: 'Ann' }, { type: 'ban', name: 'Ann' }, { type: 'unban', name: 'Ann' }]) {
    bo.send(frame);
    const e = await bo.next('error');
    expectErrorFrame(e, 'forbidden');
    assert.match(e.message, /owner/);
  }
  const spam = await bo.say('buy cheap stuff');
  ann.send({ type: 'delete', seq: spam.ack.seq });
  const u = await bo.next((f) => f.type === 'update' && f.message.deleted);
  assert.equal(u.message.seq, spam.ack.seq);
  const m = await bo.next('moderation');
  assert.deepEqual({ ...m, ts: 0 }, { type: 'moderation', action: 'delete', by: 'Ann', name: 'Bo', seq: spam.ack.seq, ts: 0 });
  const [entry] = await audit(room, 1);
  assert.deepEqual([entry.action, entry.by, entry.name, entry.seq], ['delete', 'Ann', 'Bo', spam.ack.seq]);
  const rows = await srv().d1(`SELECT action, by, name, seq FROM moderation WHERE room = '${room}'`);
  assert.deepEqual(rows, [{ action: 'delete', by: 'Ann', name: 'Bo', seq: spam.ack.seq }]);
  await closeAll(ann, bo);
});

test('a kick closes every connection of the name with 4001, tells the room, and the name may return', async () => {
  const room = roomId('kick');
  const ann = await connect(srv(), room, 'Ann');
  const bo1 = await connect(srv(), room, 'Bo');
  const bo2 = await connect(srv(), room, 'bo');
  const cy = await connect(srv(), room, 'Cy');
  const gone = [closed(bo1), closed(bo2)];
  ann.send({ type: 'kick', name: 'BO' });
  const seen = await cy.next('moderation');
  assert.equal(seen.action, 'kick');
  assert.equal(seen.name, 'Bo');
  assert.equal(seen.by, 'Ann');
  assert.equal((await bo1.next('moderation')).action, 'kick', 'the kicked hear why before the close');
  for (const c of await Promise.all(gone)) {
    assert.equal(c.code, 4001);
    assert.match(c.reason, /removed from the room by Ann/);
  }
  assert.equal((await cy.next('user_left')).user.name, 'Bo');
  const users = await http(srv(), `/room/${room}/users`);
  assert.deepEqual(users.json.users.map((u) => u.name).sort(), ['Ann', 'Cy']);
  ann.send({ type: 'kick', name: 'Bo' });
  expectErrorFrame(await ann.next('error'), 'not_found');
  ann.send({ type: 'kick', name: 'ann' });
  expectErrorFrame(await ann.next('error'), 'bad_frame');
  const back = await connect(srv(), room, 'Bo');
  assert.equal(back.welcome.you.name, 'Bo');
  await closeAll(ann, cy, back);
});

test('a ban removes the name, refuses it at connect with 403 banned in any spelling, and is lifted by unban', async () => {
  const room = roomId('ban');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const gone = closed(bo);
  ann.send({ type: 'ban', name: 'Bo', minutes: 30, reason: 'spam' });
  const m = await ann.next('moderation');
  assert.equal(m.action, 'ban');
  assert.equal(m.reason, 'spam');
  assert.ok(m.until - m.ts === 30 * 60_000, `until is 30 min on: ${JSON.stringify(m)}`);
  assert.equal((await gone).code, 4001);

  for (const name of ['Bo', 'BO']) {
    const refused = await expectRefused(srv(), room, name);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'banned');
    assert.match(refused.body.error.message, /banned from this room by Ann for 30 more minutes \(reason: spam\)/);
  }
  // Other rooms and other names are not affected.
  await closeAll(await connect(srv(), roomId('elsewhere'), 'Bo'), await connect(srv(), room, 'Cy'));

  ann.send({ type: 'ban', name: 'Bo', minutes: 0 });
  expectErrorFrame(await ann.next('error'), 'bad_frame');
  ann.send({ type: 'unban', name: 'bo' });
  assert.equal((await ann.next('moderation')).action, 'unban');
  const back = await connect(srv(), room, 'Bo');
  ann.send({ type: 'unban', name: 'Bo' });
  expectErrorFrame(await ann.next('error'), 'not_found');
  const actions = await audit(room, 2);
  assert.deepEqual(actions.map((a) => a.action), ['unban', 'ban'], 'newest first');
  await closeAll(ann, back);
});

test('bans and the creator survive a restart (expiry is unit-tested in the room core)', { timeout: 180_000 }, async () => {
  const room = roomId('banrestart');
  const ann = await connect(srv(), room, 'Ann');
  ann.send({ type: 'ban', name: 'Dee', minutes: 60 });
  await ann.next('moderation');
  await ann.close();
  await srv().restart();
  const refused = await expectRefused(srv(), room, 'Dee');
  assert.equal(refused.status, 403);
  const cy = await connect(srv(), room, 'Cy');
  assert.equal(cy.welcome.creator, 'Ann', 'the creator is kept, not the first name after the restart');
  cy.send({ type: 'unban', name: 'Dee' });
  expectErrorFrame(await cy.next('error'), 'forbidden');
  await closeAll(cy);
  const actions = await audit(room, 1);
  assert.equal(actions[0].action, 'ban');
});
