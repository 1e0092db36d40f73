// Rooms made on purpose: a title, a description, public or private. Public rooms are
// listed with their title, who is online now and the newest message; a private room has
// a random id, is never listed nor searched across rooms, and works for whoever has its
// link. Making a room needs the maker's token, and makes that claim its owner; an id
// that exists already cannot be made again, and only the owner retitles a room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, sleep, bearer } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

/** Claims the names by connecting once to a room of their own. */
async function claim(...names) {
  for (const name of names) await closeAll(await connect(srv(), roomId('own'), name));
}

const create = (maker, body, headers = bearer(srv(), maker)) => http(srv(), '/api/rooms', {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
});

const retitle = (name, id, body) => http(srv(), `/api/rooms/${id}`, {
  method: 'PATCH', headers: { 'content-type': 'application/json', ...bearer(srv(), name) }, body: JSON.stringify(body),
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
  await claim('Ann', 'Bo');
  const made = await create('Ann', { id: id.toUpperCase(), title: '  Team chat ', description: 'Plans\nand lunch' });
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(made.json.room, { id, title: 'Team chat', description: 'Plans\nand lunch', visibility: 'public' });
  assert.equal(made.json.link, `/#${id}`);
  assert.equal(made.json.owner, 'Ann');
  const again = await create('Bo', { id, title: 'Mine now' });
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, 'room_exists');
  assert.match(again.json.error.message, /exists already/);

  const info = await http(srv(), `/api/rooms/${id}`);
  assert.equal(info.json.room.title, 'Team chat');
  let entry = await listed(id, (r) => r.title === 'Team chat');
  assert.equal(entry.description, 'Plans\nand lunch');
  assert.equal(entry.online, 0);
  assert.equal(entry.message_count, 0);

  const bo = await connect(srv(), id, 'Bo');
  assert.equal(bo.welcome.owner, 'Ann', 'the maker owns it, whoever connects first');
  assert.equal(bo.welcome.role, null);
  const ann = await connect(srv(), id, 'Ann');
  assert.equal(ann.welcome.role, 'owner');
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

test('a room that exists is not made again; only its owner retitles it', async () => {
  const id = roomId('untitled');
  await claim('Zed');
  const c = await connect(srv(), id, 'Cy');
  await c.say('here first');
  await listed(id, (r) => r.message_count === 1);
  const made = await create('Zed', { id, title: 'Named by a stranger' });
  assert.equal(made.status, 409, made.text);
  assert.equal(made.json.error.code, 'room_exists');
  const stranger = await retitle('Zed', id, { title: 'Mine' });
  assert.equal(stranger.status, 403, stranger.text);
  assert.equal(stranger.json.error.code, 'forbidden');
  const owner = await retitle('Cy', id, { title: 'Named later', description: 'by its owner' });
  assert.equal(owner.status, 200, owner.text);
  assert.equal(owner.json.room.title, 'Named later');
  const entry = await listed(id, (r) => r.title === 'Named later');
  assert.equal(entry.message_count, 1);
  assert.equal(entry.description, 'by its owner');
  // A room that only saw a connect (no message yet) exists too.
  const quiet = roomId('quiet');
  await closeAll(await connect(srv(), quiet, 'Cy'));
  assert.equal((await create('Zed', { id: quiet, title: 'x' })).status, 409);
  await closeAll(c);
});

test('a private room: random id, never listed or searched across rooms, reached by its link', async () => {
  await claim('Dee');
  const made = await create('Dee', { title: 'Secret plans', description: 'shh', visibility: 'private' });
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
  const info = await http(srv(), `/api/rooms/${id}`, { headers: bearer(srv(), 'Eli') });
  assert.equal(info.json.room.title, 'Secret plans');
  assert.equal(typeof info.json.summary.unread, 'number', 'unread counts for the token holder');
  const nameOnly = await http(srv(), `/api/rooms/${id}?name=Eli`);
  assert.equal(nameOnly.json.summary.unread, undefined, 'a bare name learns no unread count');
  assert.equal(dee.welcome.role, 'owner');
  await closeAll(dee, eli);
});

test('bad creations are refused clearly', async () => {
  await claim('Fox');
  const anon = await create('Fox', { id: roomId('anon'), title: 'x' }, {});
  assert.equal(anon.status, 401);
  assert.equal(anon.json.error.code, 'unauthorized');
  const forged = await create('Fox', { id: roomId('anon'), title: 'x' }, { authorization: `Bearer ${'0'.repeat(64)}` });
  assert.equal(forged.status, 403);
  assert.equal(forged.json.error.code, 'name_taken');
  for (const [body, status, code] of [
    [{ title: 'No id' }, 400, 'bad_request'],
    [{ id: 'ok-id', title: '' }, 400, 'bad_request'],
    [{ id: 'Bad Id', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'p-mine', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'dm--mine', title: 'x' }, 400, 'invalid_room'],
    [{ id: 'x1', title: 'x', visibility: 'private' }, 400, 'bad_request'],
    [{ id: 'x2', title: 't'.repeat(81) }, 400, 'bad_request'],
  ]) {
    const r = await create('Fox', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.equal(r.json.error.code, code, JSON.stringify(body));
  }
  const junk = await http(srv(), '/api/rooms', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json', ...bearer(srv(), 'Fox') } });
  assert.equal(junk.status, 400);
  const missing = await http(srv(), `/api/rooms/${roomId('never')}`);
  assert.equal(missing.status, 404);
  const put = await http(srv(), '/api/rooms', { method: 'PUT' });
  assert.equal(put.status, 405);
});
