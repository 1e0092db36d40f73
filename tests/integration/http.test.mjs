// HTTP routes: the landing page, /api/rooms, /room/:id/messages, /room/:id/users, 404s,
// and the refusals of a WebSocket upgrade (invalid_room, invalid_name, bad_request).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, expectRefused, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectHttpError, expectRefusal, expectMessage, expectUser, seqs, range, roomV1 } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

test('GET /api/rooms on a fresh server lists no rooms', async () => {
  const res = await http(srv(), '/api/rooms');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
  assert.deepEqual(res.json, { rooms: [], next_cursor: null }); // next_cursor: issue 10's paging
});

test('GET / serves the HTML landing page', async () => {
  const res = await http(srv(), '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /text\/html/i);
  assert.match(res.text, /<html/i);
  assert.match(res.text, /id=["']?name-input/, 'the landing page has the name input');
});

test('GET /api/rooms lists rooms with history, most recently active first, with counts', async () => {
  const ra = roomId('rooms-a');
  const rb = roomId('rooms-b');
  const rquiet = roomId('rooms-quiet');
  const a = await connect(srv(), ra, 'Ann');
  const b = await connect(srv(), rb, 'Ben');
  const q = await connect(srv(), rquiet, 'Quinn'); // connected, never says anything
  try {
    await a.say('a1');
    await a.say('a2');
    await a.say('a3');
    await sleep(20);
    const bLast = await b.say('b1');
    await sleep(20);
    const aLast = await a.say('a4');
    assert.ok(aLast.message.ts > bLast.message.ts, 'timestamps advance');

    let res = await http(srv(), '/api/rooms');
    assert.equal(res.status, 200, res.text);
    let ids = res.json.rooms.map((r) => r.id);
    assert.ok(!ids.includes(rquiet), `a room without history is not listed: ${res.text}`);
    const roomA = roomV1(res.json.rooms.find((r) => r.id === ra));
    const roomB = roomV1(res.json.rooms.find((r) => r.id === rb));
    assert.equal(res.json.rooms.find((r) => r.id === ra).online, 1, 'Ann is in room A');
    assert.deepEqual(res.json.rooms.find((r) => r.id === ra).last_message, { name: 'Ann', text: 'a4' });
    assert.deepEqual(roomA, { id: ra, message_count: 4, last_activity: aLast.message.ts }, res.text);
    assert.deepEqual(roomB, { id: rb, message_count: 1, last_activity: bLast.message.ts }, res.text);
    assert.ok(ids.indexOf(ra) < ids.indexOf(rb), `room A (more recent) before room B: ${ids}`);
    for (let i = 1; i < res.json.rooms.length; i++) {
      assert.ok(res.json.rooms[i - 1].last_activity >= res.json.rooms[i].last_activity, `sorted by last_activity: ${res.text}`);
    }

    // B speaks again: it moves to the front.
    await sleep(20);
    const bNew = await b.say('b2');
    res = await http(srv(), '/api/rooms');
    ids = res.json.rooms.map((r) => r.id);
    assert.ok(ids.indexOf(rb) < ids.indexOf(ra), `room B now first: ${ids}`);
    assert.deepEqual(roomV1(res.json.rooms.find((r) => r.id === rb)), { id: rb, message_count: 2, last_activity: bNew.message.ts });
  } finally {
    await closeAll(a, b, q);
  }
});

test('GET /room/:id/messages pages the history: newest page by default, before/after exclusive, limit, has_more', async () => {
  const room = roomId('paging');
  const c = await connect(srv(), room, 'Pager');
  const texts = range(1, 120).map((i) => `message number ${i}`);
  const acks = await c.sayMany(texts);
  assert.deepEqual(acks.map((a) => a.seq), range(1, 120), 'seqs 1..120 in order');
  await c.close();

  const get = async (q) => {
    const res = await http(srv(), `/room/${room}/messages${q}`);
    assert.equal(res.status, 200, `${q}: ${res.text.slice(0, 300)}`);
    return res.json;
  };

  let page = await get('');
  assert.deepEqual(seqs(page.messages), range(71, 120), 'default: the newest 50, oldest first');
  assert.equal(page.has_more, true);
  for (const m of page.messages) expectMessage(m, { room, name: 'Pager', text: `message number ${m.seq}`, reply_to: null });
  assert.ok(page.messages.every((m) => typeof m.client_id === 'string' && m.client_id.startsWith('bulk-')), 'client_id kept');

  page = await get('?before=71');
  assert.deepEqual(seqs(page.messages), range(21, 70));
  assert.equal(page.has_more, true);

  page = await get('?before=21');
  assert.deepEqual(seqs(page.messages), range(1, 20));
  assert.equal(page.has_more, false, 'nothing older than seq 1');

  page = await get('?before=1');
  assert.deepEqual(page, { messages: [], has_more: false });

  page = await get('?after=100');
  assert.deepEqual(seqs(page.messages), range(101, 120), 'after is exclusive');
  assert.equal(page.has_more, false);

  page = await get('?after=0&limit=10');
  assert.deepEqual(seqs(page.messages), range(1, 10));
  assert.equal(page.has_more, true);

  page = await get('?after=110&limit=10');
  assert.deepEqual(seqs(page.messages), range(111, 120));
  assert.equal(page.has_more, false, 'exactly the last 10: nothing more');

  page = await get('?after=120');
  assert.deepEqual(page, { messages: [], has_more: false });

  page = await get('?limit=100');
  assert.deepEqual(seqs(page.messages), range(21, 120));
  assert.equal(page.has_more, true);

  page = await get('?limit=1');
  assert.deepEqual(seqs(page.messages), [120]);
  assert.equal(page.has_more, true);

  page = await get('?before=60&limit=5');
  assert.deepEqual(seqs(page.messages), range(55, 59));
  assert.equal(page.has_more, true);

  page = await get('?before=1000&limit=3');
  assert.deepEqual(seqs(page.messages), [118, 119, 120], 'before beyond the end: the newest');
});

test('GET /room/:id/messages of a room without history is an empty page', async () => {
  const res = await http(srv(), `/room/${roomId('nothing')}/messages`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { messages: [], has_more: false });
});

test('GET /room/:id/messages refuses out-of-range or malformed parameters with 400 bad_request', async () => {
  const room = roomId('badq');
  const bad = [
    'limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'limit=2.5',
    'before=-1', 'before=abc', 'before=1.5',
    'after=-1', 'after=x', 'after=2.5',
  ];
  for (const q of bad) {
    expectHttpError(await http(srv(), `/room/${room}/messages?${q}`), 400, 'bad_request', q);
  }
  // The bounds themselves are fine.
  for (const q of ['limit=1', 'limit=100', 'before=0', 'after=0']) {
    const res = await http(srv(), `/room/${room}/messages?${q}`);
    assert.equal(res.status, 200, `${q}: ${res.text}`);
  }
});

test('GET /room/:id/users lists the connected users, one entry per name whatever its case', async () => {
  const room = roomId('users');
  const empty = await http(srv(), `/room/${room}/users`);
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.json, { users: [] });

  const a1 = await connect(srv(), room, 'Alice');
  const a2 = await connect(srv(), room, 'Alice');
  const a3 = await connect(srv(), room, 'alice');
  const b = await connect(srv(), room, 'Bob');
  try {
    const res = await http(srv(), `/room/${room}/users`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.users.length, 2, `two users: ${res.text}`);
    for (const u of res.json.users) expectUser(u);
    const names = res.json.users.map((u) => u.name).sort();
    assert.deepEqual(names, ['Alice', 'Bob'], 'Alice shown as her first connection spelled it');
    assert.ok(res.json.users.every((u) => u.status === 'online'));

    await closeAll(a1, a2);
    let now = (await http(srv(), `/room/${room}/users`)).json;
    assert.deepEqual(now.users.map((u) => u.name.toLowerCase()).sort(), ['alice', 'bob'], 'alice still connected once');

    await a3.close();
    // The close reaches the room asynchronously; poll briefly.
    const deadline = Date.now() + 3000;
    do {
      now = (await http(srv(), `/room/${room}/users`)).json;
      if (now.users.length === 1) break;
      await sleep(100);
    } while (Date.now() < deadline);
    assert.deepEqual(now.users, [{ name: 'Bob', status: 'online' }]);
  } finally {
    await closeAll(a1, a2, a3, b);
  }
});

test('unknown routes under /room/ and /api/ answer 404 not_found as JSON', async () => {
  for (const p of ['/api/nope', '/api/rooms/extra', '/api/', '/room/abc/nope', '/room/abc/users/extra', '/room/abc/messages/1']) {
    expectHttpError(await http(srv(), p), 404, 'not_found', p);
  }
});

test('GET /room/:id without an upgrade answers 426 with a JSON error', async () => {
  const res = await http(srv(), `/room/${roomId('noupgrade')}?name=x`);
  assert.equal(res.status, 426, res.text);
  assert.match(res.headers.get('content-type') || '', /application\/json/);
  assert.equal(typeof res.json?.error?.code, 'string', res.text);
  assert.equal(typeof res.json?.error?.message, 'string', res.text);
});

test('upgrade with a bad room id is refused with 400 invalid_room', async () => {
  for (const room of ['bad!id', 'a'.repeat(65), 'sp ace', 'dot.ted', 'caf\u00e9', '%00']) {
    expectRefusal(await expectRefused(srv(), room, 'Ray'), 400, 'invalid_room', JSON.stringify(room));
  }
  // 64 characters is fine.
  const long = `x${'y'.repeat(63)}`;
  const c = await connect(srv(), long, 'Ray');
  assert.equal(c.welcome.room, long);
  await c.close();
});

test('upgrade with a bad name is refused with 400 invalid_name', async () => {
  const room = roomId('names');
  const bad = {
    'missing name': undefined,
    empty: '',
    'whitespace only': ' \t  ',
    '33 chars': 'n'.repeat(33),
    'right-to-left override U+202E': 'evil\u202Egnp.exe',
    'zero-width space U+200B': 'zero\u200Bwidth',
    'control char BEL': 'bell\u0007',
    'newline inside': 'two\nlines',
    'C1 control U+0085': 'next\u0085line',
    'byte order mark U+FEFF': '\uFEFFbom',
  };
  for (const [what, name] of Object.entries(bad)) {
    const refusal = name === undefined
      ? await expectRefused(srv(), room, null)
      : await expectRefused(srv(), room, name);
    expectRefusal(refusal, 400, 'invalid_name', what);
  }
  // No such user ended up in the room.
  const users = (await http(srv(), `/room/${room}/users`)).json;
  assert.deepEqual(users, { users: [] });
});

test('names are trimmed, and their length counts code points (32 emoji is fine)', async () => {
  const room = roomId('names-ok');
  const padded = await connect(srv(), room, '   Padded Name  ');
  assert.deepEqual(padded.welcome.you, { name: 'Padded Name', status: 'online' });
  const emoji = '\u{1F600}'.repeat(32);
  const e = await connect(srv(), room, emoji);
  assert.equal(e.welcome.you.name, emoji);
  const exact = 'n'.repeat(32);
  const x = await connect(srv(), room, exact);
  assert.equal(x.welcome.you.name, exact);
  await closeAll(padded, e, x);
});

test('upgrade with a malformed since is refused with 400 bad_request', async () => {
  const room = roomId('since-bad');
  for (const since of ['-1', 'abc', '1.5']) {
    expectRefusal(await expectRefused(srv(), room, 'Sid', { since }), 400, 'bad_request', `since=${since}`);
  }
});

test('room ids are case-folded: /room/General is room general', async () => {
  const suffix = roomId('').slice(1); // "-xxxxxxxx"
  const mixed = `CaseFold${suffix.toUpperCase()}`;
  const lower = mixed.toLowerCase();
  const a = await connect(srv(), mixed, 'Carl');
  assert.equal(a.welcome.room, lower);
  const b = await connect(srv(), lower, 'Dora');
  try {
    const joined = await a.next('user_joined');
    assert.equal(joined.user.name, 'Dora', 'both sockets are in the same room');
    const { message } = await a.say('hello case');
    assert.equal(message.room, lower);
    const seen = await b.nextMessage(message.client_id);
    assert.equal(seen.message.seq, message.seq);

    for (const p of [`/room/${lower}/messages`, `/room/${mixed}/messages`]) {
      const res = await http(srv(), p);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json.messages.map((m) => [m.room, m.text]), [[lower, 'hello case']], p);
    }
    const users = (await http(srv(), `/room/${mixed.toUpperCase()}/users`)).json;
    assert.deepEqual(users.users.map((u) => u.name).sort(), ['Carl', 'Dora']);
    const rooms = (await http(srv(), '/api/rooms')).json.rooms.map((r) => r.id);
    assert.ok(rooms.includes(lower) && !rooms.includes(mixed), `listed as ${lower}: ${rooms}`);
  } finally {
    await closeAll(a, b);
  }
});

test('GET /api/rooms lists at most 100 rooms, the most recently active', { timeout: 120_000 }, async () => {
  const prefix = roomId('many');
  const ids = range(0, 100).map((i) => `${prefix}-${i}`); // 101 rooms
  const speak = async (id) => {
    const c = await connect(srv(), id, 'Many');
    const r = await c.say(`hello ${id}`);
    await c.close();
    return r.message.ts;
  };
  const firstTs = await speak(ids[0]);
  await sleep(20);
  for (let i = 1; i < ids.length; i += 10) await Promise.all(ids.slice(i, i + 10).map(speak));
  const res = await http(srv(), '/api/rooms');
  assert.equal(res.status, 200, res.text.slice(0, 300));
  const rooms = res.json.rooms;
  assert.equal(rooms.length, 100, `at most 100 rooms: got ${rooms.length}`);
  for (let i = 1; i < rooms.length; i++) assert.ok(rooms[i - 1].last_activity >= rooms[i].last_activity, 'sorted');
  const listed = new Set(rooms.map((r) => r.id));
  assert.ok(!listed.has(ids[0]), `the least recently active of the 101 is left out (ts ${firstTs})`);
  for (const id of ids.slice(1)) assert.ok(listed.has(id), `${id} listed`);
  for (const r of rooms) assert.equal(r.message_count, 1);
});
