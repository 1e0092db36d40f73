// Rooms made on purpose: a title, a description, public or private. Public rooms are
// listed with their title, who is online now and the newest message; a private room has
// a random id, is never listed nor searched across rooms, and works for whoever has its
// link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, sleep } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const create = (body) => http(srv(), '/api/rooms', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

async function listed(id, check) {
  const deadline = Date.now() + 10_000;
  let entry;
  do {
    entry = (await http(srv(), '/api/rooms')).json.rooms.find((r) => r.id === id);
    if (entry && check(entry)) return entry;
    await sleep(100);
  } while (Date.now() < deadline);
  assert.fail(`room ${id} never listed as expected: ${JSON.stringify(entry)}`);
}

test('a public room with a title is listed with who is online and its newest message', async () => {
  const id = roomId('titled');
  const made = await create({ id: id.toUpperCase(), title: '  Team chat ', description: 'Plans\nand lunch', name: 'Ann' });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(made.json.room, { id, title: 'Team chat', description: 'Plans\nand lunch', visibility: 'public' });
  assert.equal(made.json.link, `/#${id}`);
  const again = await create({ id, title: 'Mine now' });
  assert.equal(again.status, 409);
  assert.match(again.json.error.message, /exists already/);

  const info = await http(srv(), `/api/rooms/${id}`);
  assert.equal(info.json.room.title, 'Team chat');
  let entry = await listed(id, (r) => r.title === 'Team chat');
  assert.equal(entry.description, 'Plans\nand lunch');
  assert.equal(entry.online, 0);
  assert.equal(entry.message_count, 0);

  const ann = await connect(srv(), id, 'Ann');
  const bo = await connect(srv(), id, 'Bo');
  await connect(srv(), id, 'bo').then((c) => c.close()); // a second tab is not a second name
  entry = await listed(id, (r) => r.online === 2);
  await ann.say('lunch at noon?');
  entry = await listed(id, (r) => r.last_message?.text === 'lunch at noon?');
  assert.deepEqual(entry.last_message, { name: 'Ann', text: 'lunch at noon?' });
  await ann.say('x'.repeat(300));
  entry = await listed(id, (r) => r.last_message?.text.startsWith('xxx'));
  assert.equal(entry.last_message.text.length, 100, 'previews are short');
  await closeAll(bo);
  await listed(id, (r) => r.online === 1);
  await closeAll(ann);
  await listed(id, (r) => r.online === 0);
});

test('a room that already has history takes a title once', async () => {
  const id = roomId('untitled');
  const c = await connect(srv(), id, 'Cy');
  await c.say('here first');
  await listed(id, (r) => r.message_count === 1);
  const made = await create({ id, title: 'Named later' });
  assert.equal(made.status, 201, made.text);
  const entry = await listed(id, (r) => r.title === 'Named later');
  assert.equal(entry.message_count, 1);
  await closeAll(c);
});

test('a private room: random id, never listed or searched across rooms, reached by its link', async () => {
  const made = await create({ title: 'Secret plans', description: 'shh', visibility: 'private', name: 'Dee' });
  assert.equal(made.status, 201, made.text);
  const { id } = made.json.room;
  assert.match(id, /^p-[0-9a-f]{24}$/);
  assert.equal(made.json.room.visibility, 'private');
  const dee = await connect(srv(), id, 'Dee');
  const eli = await connect(srv(), id, 'Eli'); // anyone with the link
  await dee.say('the password is swordfish');
  assert.equal((await eli.next('message')).message.text, 'the password is swordfish');
  await sleep(500);
  const rooms = (await http(srv(), '/api/rooms')).json.rooms;
  assert.ok(!rooms.some((r) => r.id === id), 'not listed');
  const everywhere = await http(srv(), '/api/search?q=swordfish');
  assert.deepEqual(everywhere.json.results, [], 'not searched across rooms');
  let inside;
  for (let i = 0; i < 50; i++) {
    inside = await http(srv(), `/api/search?q=swordfish&room=${id}`);
    if (inside.json.results.length) break;
    await sleep(100);
  }
  assert.equal(inside.json.results[0]?.room, id, 'searchable with its link');
  const info = await http(srv(), `/api/rooms/${id}?name=Eli`);
  assert.equal(info.json.room.title, 'Secret plans');
  assert.equal(typeof info.json.summary.unread, 'number');
  await closeAll(dee, eli);
});

test('bad creations are refused clearly', async () => {
  for (const [body, status, code] of [
    [{ title: 'No id' }, 400, 'bad_request'],
    [{ id: 'ok-id', title: '' }, 400, 'bad_request'],
    [{ id: 'Bad Id', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'p-mine', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'dm--mine', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'x1', title: 'x', visibility: 'private' }, 400, 'bad_request'],
    [{ id: 'x2', title: 't'.repeat(81) }, 400, 'bad_request'],
  ]) {
    const r = await create(body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.error.code, code, JSON.stringify(body));
  }
  const junk = await http(srv(), '/api/rooms', { method: 'POST', body: 'nope' });
  assert.equal(junk.status, 400);
  const missing = await http(srv(), `/api/rooms/${roomId('never')}`);
  assert.equal(missing.status, 404);
  const put = await http(srv(), '/api/rooms', { method: 'PUT' });
  assert.equal(put.status, 405);
});
