// Direct messages: the private room of two claimed names. Opening it needs a name's
// token; only its two names (with their tokens) may connect or read its history; it is
// in neither the room list nor search; each name's list shows it with unread counts; and
// each sees how far the other has read ("seen").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, expectRefused, tokenJar, sleep } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;
const token = (name) => tokenJar(srv()).get(name.toLowerCase());

/** Claims the names by connecting once to a public room. */
async function claim(...names) {
  const room = roomId('lobby');
  for (const name of names) await closeAll(await connect(srv(), room, name));
}

function openDm(body) {
  return http(srv(), '/api/dms', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
}

async function dmList(name) {
  const res = await http(srv(), `/api/dms?${new URLSearchParams({ name, token: token(name) })}`);
  assert.equal(res.status, 200, res.text);
  return res.json.dms;
}

test('two claimed names open one private room; nobody else gets in', async () => {
  await claim('Ann', 'Bo', 'Eve');
  const res = await openDm({ name: 'Ann', token: token('Ann'), with: 'bo' });
  assert.equal(res.status, 200, res.text);
  const { room } = res.json;
  assert.match(room, /^dm--[0-9a-f]{40}$/);
  assert.equal(res.json.with, 'bo');
  const again = await openDm({ name: 'BO', token: token('Bo'), with: 'ANN' });
  assert.equal(again.json.room, room, 'one room per pair, whoever opens it');

  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { ack } = await ann.say('just between us');
  assert.equal((await bo.next('message')).message.text, 'just between us');

  // Eve, a third claimed name, is kept out of the socket and of every route.
  const refused = await expectRefused(srv(), room, 'Eve');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'forbidden');
  const q = new URLSearchParams({ name: 'Eve', token: token('Eve') });
  for (const path of ['messages', 'users', `thread/${ack.seq}`, 'moderation']) {
    const r = await http(srv(), `/room/${room}/${path}?${q}`);
    assert.equal(r.status, 403, `${path}: ${r.text}`);
  }
  // A party without its token, or nobody at all, is refused too; a party with it reads.
  const noToken = await http(srv(), `/room/${room}/messages?name=Ann`);
  assert.equal(noToken.status, 403);
  assert.equal(noToken.json.error.code, 'name_taken');
  const anon = await http(srv(), `/room/${room}/messages`);
  assert.equal(anon.status, 400);
  const mine = await http(srv(), `/room/${room}/messages?${new URLSearchParams({ name: 'Ann', token: token('Ann') })}`);
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.messages.map((m) => m.text), ['just between us']);
  // A made-up direct-message room does not exist.
  const fake = await expectRefused(srv(), `dm--${'0'.repeat(40)}`, 'Ann');
  assert.equal(fake.status, 404);

  // Not listed, not searchable.
  const rooms = await http(srv(), '/api/rooms');
  assert.ok(!rooms.json.rooms.some((r) => r.id === room), 'not in the room list');
  await sleep(300);
  const found = await http(srv(), '/api/search?q=between');
  assert.ok(!found.json.results.some((r) => r.room === room), 'not in search');
  await closeAll(ann, bo);
});

test('opening needs the token and a claimed partner; clear errors otherwise', async () => {
  await claim('Cat', 'Dan');
  const wrong = await openDm({ name: 'Cat', token: 'f'.repeat(64), with: 'Dan' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.error.code, 'name_taken');
  const nobody = await openDm({ name: 'Cat', token: token('Cat'), with: 'Nobody Here' });
  assert.equal(nobody.status, 404);
  assert.match(nobody.json.error.message, /has not claimed that name/);
  const self = await openDm({ name: 'Cat', token: token('Cat'), with: 'CAT' });
  assert.equal(self.status, 400);
  const junk = await http(srv(), '/api/dms', { method: 'POST', body: 'nope' });
  assert.equal(junk.status, 400);
  const list = await http(srv(), '/api/dms?name=Cat&token=nope');
  assert.equal(list.status, 403);
  const put = await http(srv(), '/api/dms', { method: 'PUT' });
  assert.equal(put.status, 405);
});

test('each name lists its direct messages with unread counts, and sees what the other has read', async () => {
  await claim('Fay', 'Gil', 'Hal');
  const { json: { room } } = await openDm({ name: 'Fay', token: token('Fay'), with: 'Gil' });
  const { json: { room: other } } = await openDm({ name: 'Fay', token: token('Fay'), with: 'Hal' });
  const fay = await connect(srv(), room, 'Fay');
  for (const text of ['one', 'two', 'three']) await fay.say(text);

  const waitUnread = async (name, dm, want) => {
    const deadline = Date.now() + 10_000;
    let seen;
    do {
      seen = (await dmList(name)).find((d) => d.room === dm);
      if (seen?.unread === want) return seen;
      await sleep(100);
    } while (Date.now() < deadline);
    assert.fail(`${name}: ${JSON.stringify(seen)}`);
  };
  const forGil = await waitUnread('Gil', room, 3);
  assert.equal(forGil.with, 'Fay');
  assert.deepEqual((await dmList('Gil')).map((d) => d.room), [room], 'only his own');
  assert.deepEqual((await dmList('Fay')).map((d) => d.room).sort(), [room, other].sort());

  const gil = await connect(srv(), room, 'Gil');
  assert.equal(gil.welcome.peer_read_seq, 0);
  gil.send({ type: 'read', seq: 2 });
  assert.deepEqual(await fay.next('read'), { type: 'read', seq: 2, name: 'Gil' });
  await waitUnread('Gil', room, 1);
  await closeAll(fay);
  const back = await connect(srv(), room, 'Fay');
  assert.equal(back.welcome.peer_read_seq, 2, 'seen survives a reconnect');
  await closeAll(gil, back);
});
