// Read state: each name's last read seq per room, kept by the room (its log and D1),
// shared with the name's other tabs, handed back in the welcome (also after a restart),
// and turned into unread counts by GET /api/rooms for the token's claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, sleep, bearer } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

async function unread(name, room, want) {
  const deadline = Date.now() + 10_000;
  let seen;
  for (;;) {
    const res = await http(srv(), '/api/rooms', { headers: bearer(srv(), name) });
    assert.equal(res.status, 200, res.text);
    seen = res.json.rooms.find((r) => r.id === room);
    if (seen?.unread === want || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.equal(seen?.unread, want, `unread of ${name} in ${room}: ${JSON.stringify(seen)}`);
}

test('read positions move forward only, reach the other tabs, and come back in the welcome', async () => {
  const room = roomId('reads');
  const ann = await connect(srv(), room, 'Ann');
  for (let i = 1; i <= 5; i++) await ann.say(`m${i}`);
  const bo = await connect(srv(), room, 'Bo');
  assert.equal(bo.welcome.read_seq, 0, 'nothing read yet');
  const tab2 = await connect(srv(), room, 'bo');
  bo.send({ type: 'read', seq: 3 });
  assert.deepEqual(await tab2.next('read'), { type: 'read', seq: 3 });
  await ann.expectNoFrame('read', 300);
  bo.send({ type: 'read', seq: 2 }); // backwards: ignored
  tab2.send({ type: 'read', seq: 1000 }); // beyond the end: the last seq
  assert.deepEqual(await bo.next('read'), { type: 'read', seq: 5 });
  await tab2.expectNoFrame('read', 300);
  bo.send({ type: 'read', seq: -1 });
  assert.equal((await bo.next('error')).code, 'bad_frame');
  await closeAll(bo, tab2);
  const back = await connect(srv(), room, 'BO');
  assert.equal(back.welcome.read_seq, 5);
  const other = await connect(srv(), room, 'Cy');
  assert.equal(other.welcome.read_seq, 0, 'read positions are per name');
  await closeAll(ann, back, other);
});

test('GET /api/rooms with a token counts its claim\'s unread messages per room from D1', async () => {
  const room = roomId('unread');
  const quiet = roomId('unread-quiet');
  const ann = await connect(srv(), room, 'Ann');
  for (let i = 1; i <= 4; i++) await ann.say(`m${i}`);
  const q = await connect(srv(), quiet, 'Ann');
  await q.say('only one');
  const dee = await connect(srv(), room, 'Dee');
  const deeClaim = dee.claimed.claim;
  await unread('Dee', room, 4);
  dee.send({ type: 'read', seq: 3 });
  await unread('Dee', room, 1);
  await unread('dee', quiet, 1);
  await ann.say('m5');
  await unread('Dee', room, 2);
  const rows = await srv().d1(`SELECT claim, seq FROM reads WHERE room = '${room}'`);
  assert.deepEqual(rows, [{ claim: deeClaim, seq: 3 }], 'read positions belong to the claim');
  const plain = await http(srv(), '/api/rooms');
  assert.equal(plain.json.rooms.find((r) => r.id === room).unread, undefined, 'no token, no unread');
  const byName = await http(srv(), '/api/rooms?name=Dee');
  assert.equal(byName.json.rooms.find((r) => r.id === room).unread, undefined, 'a bare name is no proof');
  await closeAll(ann, q, dee);
});

test('a read position survives a restart', { timeout: 180_000 }, async () => {
  const room = roomId('readrestart');
  const ann = await connect(srv(), room, 'Ann');
  for (let i = 1; i <= 3; i++) await ann.say(`m${i}`);
  ann.send({ type: 'read', seq: 2 });
  await sleep(300);
  await ann.close();
  await srv().restart();
  const back = await connect(srv(), room, 'Ann');
  assert.equal(back.welcome.read_seq, 2);
  await unread('Ann', room, 1);
  await closeAll(back);
});
