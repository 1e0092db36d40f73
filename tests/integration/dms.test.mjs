// Direct messages: the private room of two claims. Opening it needs a name's token
// (Authorization: Bearer); only its two claims (with their tokens) may connect or read
// its history, and a stranger gets the same 404 whether or not it exists; it is
// in neither the room list nor search; each name's list shows it with unread counts; and
// each sees how far the other has read ("seen").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, expectRefused, tokenJar, sleep, bearer } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;
const token = (name) => tokenJar(srv()).get(name.toLowerCase());

/** Claims the names by connecting once to a public room. */
async function claim(...names) {
  const room = roomId('lobby');
  for (const name of names) await closeAll(await connect(srv(), room, name));
}

/** Opens the DM of `name` (its token as a Bearer header) with `withName`. */
function openDm(name, withName, headers = bearer(srv(), name)) {
  return http(srv(), '/api/dms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ with: withName }),
  });
}

async function dmList(name) {
  const res = await http(srv(), '/api/dms', { headers: bearer(srv(), name) });
  assert.equal(res.status, 200, res.text);
  return res.json.dms;
}

test('two claimed names open one private room; nobody else gets in', async () => {
  await claim('Ann', 'Bo', 'Eve');
  const res = await openDm('Ann', 'bo');
  assert.equal(res.status, 200, res.text);
  const { room } = res.json;
  assert.match(room, /^dm--[0-9a-f]{40}$/);
  const byNames = createHash('sha256').update('edgechat-dm\nann\nbo').digest('hex').slice(0, 40);
  assert.notEqual(room, `dm--${byNames}`, 'not computable from the names');
  assert.equal(res.json.with, 'Bo', 'as Bo claimed it');
  const again = await openDm('Bo', 'ANN');
  assert.equal(again.json.room, room, 'one room per pair, whoever opens it');
  // The deprecated body credentials still work.
  const legacy = await http(srv(), '/api/dms', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ann', token: token('Ann'), with: 'Bo' }),
  });
  assert.equal(legacy.json.room, room);

  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { ack } = await ann.say('just between us');
  assert.equal((await bo.next('message')).message.text, 'just between us');

  // Eve, a third claimed name, is kept out of the socket and of every route, and is
  // told exactly what she is told about a DM that does not exist.
  const fakeRoom = `dm--${'0'.repeat(40)}`;
  const strangers = [
    ['Eve with her token', bearer(srv(), 'Eve'), 'Eve'],
    ['Ann without a token', {}, 'Ann'],
    ['a made-up token', { authorization: `Bearer ${'f'.repeat(64)}` }, 'Ann'],
  ];
  let answer;
  for (const [who, headers, name] of strangers) {
    for (const target of [room, fakeRoom]) {
      const refused = await expectRefused(srv(), target, name, { token: null, headers });
      assert.equal(refused.status, 404, `${who} at ${target}`);
      for (const path of ['messages', 'users', `thread/${ack.seq}`, 'moderation']) {
        const r = await http(srv(), `/room/${target}/${path}?name=${name}`, { headers });
        assert.equal(r.status, 404, `${who}: ${path}: ${r.text}`);
        answer ??= r.text;
        assert.equal(r.text, answer, 'the same answer whether the DM exists or not');
      }
    }
  }
  const mine = await http(srv(), `/room/${room}/messages`, { headers: bearer(srv(), 'Ann') });
  assert.equal(mine.status, 200);
  assert.deepEqual(mine.json.messages.map((m) => m.text), ['just between us']);
  // The deprecated token= query still reads for a party.
  const old = await http(srv(), `/room/${room}/messages?${new URLSearchParams({ name: 'Ann', token: token('Ann') })}`);
  assert.equal(old.status, 200);

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
  const wrong = await openDm('Cat', 'Dan', { authorization: `Bearer ${'f'.repeat(64)}` });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.json.error.code, 'name_taken');
  const none = await openDm('Cat', 'Dan', {});
  assert.equal(none.status, 401);
  assert.equal(none.json.error.code, 'unauthorized');
  const nobody = await openDm('Cat', 'Nobody Here');
  assert.equal(nobody.status, 404);
  assert.match(nobody.json.error.message, /has not claimed that name/);
  const self = await openDm('Cat', 'CAT');
  assert.equal(self.status, 400);
  const junk = await http(srv(), '/api/dms', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json', ...bearer(srv(), 'Cat') } });
  assert.equal(junk.status, 400);
  const list = await http(srv(), '/api/dms', { headers: { authorization: 'Bearer nope' } });
  assert.equal(list.status, 403);
  const put = await http(srv(), '/api/dms', { method: 'PUT' });
  assert.equal(put.status, 405);
});

test('each name lists its direct messages with unread counts, and sees what the other has read', async () => {
  await claim('Fay', 'Gil', 'Hal');
  const { json: { room } } = await openDm('Fay', 'Gil');
  const { json: { room: other } } = await openDm('Fay', 'Hal');
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
  // Nobody moderates a DM: neither can kick or ban the other; either can leave it.
  back.send({ type: 'ban', name: 'Gil', minutes: 5 });
  assert.equal((await back.next('error')).code, 'forbidden');
  assert.equal(back.welcome.owner, null);
  const left = await http(srv(), `/api/dms/${room}`, { method: 'DELETE', headers: bearer(srv(), 'Fay') });
  assert.equal(left.status, 200, left.text);
  assert.deepEqual((await dmList('Fay')).map((d) => d.room), [other], 'left: gone from her list');
  assert.ok((await dmList('Gil')).some((d) => d.room === room), 'still in his');
  const stranger = await http(srv(), `/api/dms/${room}`, { method: 'DELETE', headers: bearer(srv(), 'Hal') });
  assert.equal(stranger.status, 404);
  assert.equal((await openDm('Fay', 'Gil')).json.room, room, 'reopening brings it back');
  assert.equal((await dmList('Fay')).length, 2);
  await closeAll(gil, back);
});
