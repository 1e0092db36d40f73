// Limits per address and per claim (issue 10): connects, claims and searches per address
// per minute (the rate-limiting binding, lowered here through startServer's `ratelimits`),
// rooms made per claim and per address per hour, uploads (count and bytes) per claim per
// hour (D1 quotas, lowered through vars), the search's minimum length and deepest offset,
// and a room list that ranks real activity and pages with a cursor. Each abuse is refused
// with its code, message and Retry-After, while another member of a room keeps chatting.
//
// `wrangler dev` passes a client's CF-Connecting-IP through to the Worker, so each test
// acts from addresses of its own (documentation ranges, never contacted: only a header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, cid, sleep, bearer, tokenJar, expectRefused, confirmClaim } from '../support/client.mjs';

const LIMITS = { CONNECT_LIMITER: 5, CLAIM_LIMITER: 3, SEARCH_LIMITER: 5 };
const ctx = useServer({
  vars: {
    ...GENEROUS_LIMITS,
    ROOMS_PER_CLAIM_PER_HOUR: '10',
    ROOMS_PER_ADDRESS_PER_HOUR: '15',
    UPLOADS_PER_CLAIM_PER_HOUR: '3',
    UPLOAD_BYTES_PER_CLAIM_PER_HOUR: '1000',
  },
  ratelimits: LIMITS,
});
const srv = () => ctx.server;

let addresses = 0;
/** A fresh client address (IPv6 documentation range; only ever a header). */
const newAddress = () => `2001:db8::${(++addresses).toString(16)}`;
const from = (address) => ({ 'cf-connecting-ip': address });

/**
 * The binding counts per wall-clock minute (as Miniflare simulates it): a flood starts
 * early in a minute, so that the count cannot restart in the middle of it.
 */
async function freshMinute() {
  const into = Date.now() % 60_000;
  if (into > 40_000) await sleep(60_000 - into + 50);
}

/** Claims a name over HTTP from a fresh address and keeps its token in the jar. */
async function claim(name) {
  const res = await http(srv(), '/api/names/claim', {
    method: 'POST', headers: { 'content-type': 'application/json', ...from(newAddress()) }, body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 201, res.text);
  tokenJar(srv()).set(name.toLowerCase(), res.json.token);
  await confirmClaim(srv(), res.json.token);
}

/** Two members chatting in a room, each connected from an address of their own. */
async function twoMembers(prefix) {
  const room = roomId(prefix);
  const ann = await connect(srv(), room, `Ann-${prefix}`, { headers: from(newAddress()) });
  const bo = await connect(srv(), room, `Bo-${prefix}`, { headers: from(newAddress()) });
  return { room, ann, bo };
}

/** A sends, gets its ack, and B receives the message: the room is unharmed. */
async function stillChatting({ ann, bo }, text) {
  const { ack, message, client_id } = await ann.say(text);
  assert.ok(ack.seq >= 1);
  const got = await bo.nextMessage(client_id);
  assert.equal(got.message.text, text);
  assert.equal(got.message.seq, message.seq);
}

function assertRefused(res, { status = 429, code, message }) {
  const body = res.json ?? res.body;
  assert.equal(res.status, status, res.text);
  assert.equal(body.error.code, code, res.text);
  assert.match(body.error.message, message);
  if (status === 429) {
    const header = typeof res.headers.get === 'function' ? res.headers.get('retry-after') : res.headers['retry-after'];
    const wait = Number(header);
    assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 3600, `Retry-After ${header}`);
    return wait;
  }
  return null;
}

const createRoom = (maker, body, address) => http(srv(), '/api/rooms', {
  method: 'POST', headers: { 'content-type': 'application/json', ...bearer(srv(), maker), ...from(address) }, body: JSON.stringify(body),
});

test('a connect flood from one address is refused past CONNECT_LIMITER; the room chats on', async () => {
  const members = await twoMembers('connects');
  const attacker = newAddress();
  await freshMinute();
  const flood = [];
  for (let i = 0; i < LIMITS.CONNECT_LIMITER; i++) {
    flood.push(await connect(srv(), members.room, 'Mal-connects', { headers: from(attacker) }));
  }
  const [refused] = await Promise.all([
    expectRefused(srv(), members.room, 'Mal-connects', { headers: from(attacker) }),
    stillChatting(members, 'during the connect flood'),
  ]);
  const wait = assertRefused(refused, { code: 'rate_limited', message: /too many connects from your address/ });
  assert.ok(wait <= 60);
  // The refusal came before the room was asked: it never saw a sixth socket.
  const again = await expectRefused(srv(), members.room, 'Mal-connects', { headers: from(attacker) });
  assertRefused(again, { code: 'rate_limited', message: /connects/ });
  await stillChatting(members, 'after the connect flood');
  // The member's reconnect from its own address is not affected.
  await members.bo.close();
  const bo = await connect(srv(), members.room, 'Bo-connects', { headers: from(newAddress()) });
  await stillChatting({ ann: members.ann, bo }, 'after a reconnect');
  await closeAll(members.ann, bo, ...flood);
});

test('a claim flood from one address is refused past CLAIM_LIMITER, over HTTP and at connect', async () => {
  const members = await twoMembers('claims');
  const attacker = newAddress();
  await freshMinute();
  const ask = (name) => http(srv(), '/api/names/claim', {
    method: 'POST', headers: { 'content-type': 'application/json', ...from(attacker) }, body: JSON.stringify({ name }),
  });
  for (let i = 0; i < LIMITS.CLAIM_LIMITER - 1; i++) {
    const res = await ask(`flood-${i}-${cid().slice(2, 8)}`);
    assert.equal(res.status, 201, res.text);
  }
  // The last claim this minute is a connect that claims; the next of each kind is refused.
  const last = await connect(srv(), members.room, `flood-c-${cid().slice(2, 8)}`, { headers: from(attacker) });
  const [overHttp] = await Promise.all([ask(`flood-x-${cid().slice(2, 8)}`), stillChatting(members, 'during the claim flood')]);
  assertRefused(overHttp, { code: 'rate_limited', message: /too many new name claims from your address/ });
  const atConnect = await expectRefused(srv(), members.room, `flood-y-${cid().slice(2, 8)}`, { headers: from(attacker) });
  assertRefused(atConnect, { code: 'rate_limited', message: /new name claims/ });
  // A connect with a name already claimed claims nothing and is let in.
  await last.close();
  const back = await connect(srv(), members.room, last.name, { headers: from(attacker) });
  await stillChatting(members, 'after the claim flood');
  await closeAll(members.ann, members.bo, back);
});

test('a search flood from one address is refused past SEARCH_LIMITER; the room chats on', async () => {
  const members = await twoMembers('searches');
  await stillChatting(members, 'findable words here');
  const attacker = newAddress();
  await freshMinute();
  const search = () => http(srv(), '/api/search?q=findable', { headers: from(attacker) });
  for (let i = 0; i < LIMITS.SEARCH_LIMITER; i++) assert.equal((await search()).status, 200);
  const [refused] = await Promise.all([search(), stillChatting(members, 'during the search flood')]);
  assertRefused(refused, { code: 'rate_limited', message: /too many searches from your address/ });
  // Another address searches as usual.
  assert.equal((await http(srv(), '/api/search?q=findable', { headers: from(newAddress()) })).status, 200);
  await closeAll(members.ann, members.bo);
});

test('searches shorter than SEARCH_MIN_CHARS and offsets past SEARCH_MAX_OFFSET are refused', async () => {
  const get = (query) => http(srv(), `/api/search?${query}`, { headers: from(newAddress()) });
  for (const q of ['a', 'ab', '  ab  ', 'é😀']) {
    const res = await get(new URLSearchParams({ q }));
    assertRefused(res, { status: 400, code: 'bad_request', message: /at least 3 characters/ });
  }
  assert.equal((await get('q=abc')).status, 200);
  assert.equal((await get('q=a%20b')).status, 200, 'three characters, spaces inside included');
  assertRefused(await get('q=abc&offset=201'), { status: 400, code: 'bad_request', message: /from 0 to 200/ });
  assert.equal((await get('q=abc&offset=200')).status, 200);
});

test('one claim makes at most ROOMS_PER_CLAIM_PER_HOUR rooms; retries and 409s do not count', async () => {
  const members = await twoMembers('roomquota');
  const maker = `Maker-${cid().slice(2, 8)}`;
  await claim(maker);
  const address = newAddress();
  const first = roomId('mine');
  assert.equal((await createRoom(maker, { id: first, title: 'First' }, address)).status, 201);
  // The maker's retry of the same making, and ids that exist already, are not rooms made.
  assert.equal((await createRoom(maker, { id: first, title: 'First' }, address)).status, 201);
  for (let i = 0; i < 2; i++) {
    const taken = await createRoom(maker, { id: members.room, title: 'Taken' }, address);
    assertRefused(taken, { status: 409, code: 'room_exists', message: /exists already/ });
  }
  for (let i = 2; i <= 10; i++) {
    const res = await createRoom(maker, { id: roomId(`mine${i}`), title: `Room ${i}` }, address);
    assert.equal(res.status, 201, `room ${i}: ${res.text}`);
  }
  const [eleventh] = await Promise.all([
    createRoom(maker, { id: roomId('mine11'), title: 'One too many' }, address),
    stillChatting(members, 'during the room flood'),
  ]);
  assertRefused(eleventh, { code: 'quota_exceeded', message: /made 10 rooms this hour.*ROOMS_PER_CLAIM_PER_HOUR/ });
  // A private room counts the same.
  const priv = await createRoom(maker, { title: 'Private', visibility: 'private' }, newAddress());
  assertRefused(priv, { code: 'quota_exceeded', message: /ROOMS_PER_CLAIM_PER_HOUR/ });
  // Nothing of the refused room exists.
  const made = await srv().d1(`SELECT COUNT(*) AS n FROM rooms WHERE created_by = '${maker}'`);
  assert.equal(made[0].n, 10);
  await closeAll(members.ann, members.bo);
});

test('one address makes at most ROOMS_PER_ADDRESS_PER_HOUR rooms across several claims', async () => {
  const members = await twoMembers('addrquota');
  const [cy, di, ev] = ['Cy', 'Di', 'Ev'].map((n) => `${n}-${cid().slice(2, 8)}`);
  for (const name of [cy, di, ev]) await claim(name);
  const address = newAddress();
  for (let i = 0; i < 10; i++) assert.equal((await createRoom(cy, { id: roomId('cy'), title: 'Cy' }, address)).status, 201);
  for (let i = 0; i < 5; i++) assert.equal((await createRoom(di, { id: roomId('di'), title: 'Di' }, address)).status, 201);
  const [refused] = await Promise.all([
    createRoom(di, { id: roomId('di'), title: 'Di again' }, address),
    stillChatting(members, 'during the address flood'),
  ]);
  assertRefused(refused, { code: 'quota_exceeded', message: /15 rooms were made from your address.*ROOMS_PER_ADDRESS_PER_HOUR/ });
  assertRefused(await createRoom(ev, { id: roomId('ev'), title: 'Ev' }, address), { code: 'quota_exceeded', message: /your address/ });
  // The same claim from another address still has rooms left: the address was the limit.
  assert.equal((await createRoom(di, { id: roomId('di'), title: 'Di elsewhere' }, newAddress())).status, 201);
  // No raw address is stored: quota keys hold an HMAC of it.
  const keys = await srv().d1("SELECT key FROM quotas WHERE key LIKE 'rooms:addr:%'");
  assert.ok(keys.length >= 1);
  for (const { key } of keys) {
    assert.match(key, /^rooms:addr:[0-9a-f]{64}$/);
    assert.ok(!key.includes(address) && !key.includes('2001:db8'));
  }
  await closeAll(members.ann, members.bo);
});

// A real 1x1 PNG; padded with zeros to make larger files of the same type.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
const png = (size = PNG.length) => Buffer.concat([PNG, Buffer.alloc(Math.max(0, size - PNG.length))]);

function upload(room, name, body, { type = 'image/png', headers = {} } = {}) {
  return http(srv(), `/room/${room}/files?filename=dot.png`, {
    method: 'POST', body, headers: { 'content-type': type, ...bearer(srv(), name), ...headers },
  });
}

test('uploads past UPLOADS_PER_CLAIM_PER_HOUR are refused; refused uploads do not count', async () => {
  const members = await twoMembers('upcount');
  const name = members.ann.name;
  // Refused by the room (wrong type): given back.
  const wrong = await upload(members.room, name, Buffer.from('not a png at all'), { type: 'image/png' });
  assert.equal(wrong.status, 415, wrong.text);
  for (let i = 0; i < 3; i++) {
    const up = await upload(members.room, name, PNG);
    assert.equal(up.status, 201, up.text);
  }
  const [refused] = await Promise.all([upload(members.room, name, PNG), stillChatting(members, 'during the upload flood')]);
  assertRefused(refused, { code: 'quota_exceeded', message: /uploaded 3 files this hour.*UPLOADS_PER_CLAIM_PER_HOUR/ });
  // Bo has his own quota.
  assert.equal((await upload(members.room, members.bo.name, PNG)).status, 201);
  await closeAll(members.ann, members.bo);
});

test('uploads past UPLOAD_BYTES_PER_CLAIM_PER_HOUR are refused by their declared size', async () => {
  const members = await twoMembers('upbytes');
  const name = members.bo.name;
  assert.equal((await upload(members.room, name, png(600))).status, 201);
  const [refused] = await Promise.all([upload(members.room, name, png(600)), stillChatting(members, 'during the byte flood')]);
  assertRefused(refused, { code: 'quota_exceeded', message: /\(600 bytes\).*past 1000 bytes.*UPLOAD_BYTES_PER_CLAIM_PER_HOUR/ });
  // What is left of the quota can still be used.
  assert.equal((await upload(members.room, name, png(300))).status, 201);
  // A body without a declared size (chunked) is read with the 10 MiB cap and counted by
  // its real size (issue 10's streamed uploads): past what is left, it is refused.
  const big = png(300);
  const stream = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(big)); c.close(); } });
  const chunked = await http(srv(), `/room/${members.room}/files?filename=dot.png`, {
    method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'image/png', ...bearer(srv(), name) },
  });
  assertRefused(chunked, { code: 'quota_exceeded', message: /\(300 bytes\).*past 1000 bytes/ });
  await stillChatting(members, 'after the byte flood');
  await closeAll(members.ann, members.bo);
});

test('100 empty spam rooms do not bury a room with messages; next_cursor walks every room once', async () => {
  const members = await twoMembers('realroom');
  await stillChatting(members, 'a real conversation');
  const spam = [];
  for (let c = 0; c < 10; c++) {
    const spammer = `Spam${c}-${cid().slice(2, 8)}`;
    await claim(spammer);
    const address = newAddress();
    for (let i = 0; i < 10; i++) {
      const id = roomId(`spam${c}x${i}`);
      const res = await createRoom(spammer, { id, title: `Spam ${c}.${i}` }, address);
      assert.equal(res.status, 201, res.text);
      spam.push(id);
    }
  }
  const first = await http(srv(), '/api/rooms');
  assert.equal(first.status, 200);
  const ids = first.json.rooms.map((r) => r.id);
  assert.ok(ids.includes(members.room), 'the room with messages is on the first page');
  assert.ok(first.json.rooms.length <= 100);
  // Every room with messages comes before every empty one, newest last message first.
  const active = first.json.rooms.map((r) => r.message_count > 0);
  assert.ok(active.indexOf(false) === -1 || !active.slice(active.indexOf(false)).includes(true), 'active rooms first');
  const times = first.json.rooms.filter((r) => r.message_count > 0).map((r) => r.last_activity);
  assert.deepEqual(times, [...times].sort((a, b) => b - a));
  for (const key of ['id', 'message_count', 'last_activity', 'online']) assert.ok(key in first.json.rooms[0], key);

  // Small pages: every listed room exactly once, then null.
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const res = await http(srv(), `/api/rooms?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      headers: bearer(srv(), members.ann.name),
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.rooms.length <= 7);
    for (const r of res.json.rooms) assert.ok('unread' in r, 'a token still adds unread counts');
    seen.push(...res.json.rooms.map((r) => r.id));
    cursor = res.json.next_cursor;
    pages += 1;
  } while (cursor && pages < 100);
  assert.equal(cursor, null);
  assert.equal(new Set(seen).size, seen.length, 'no room twice');
  const all = await srv().d1("SELECT id FROM rooms WHERE visibility = 'public' AND id NOT LIKE 'dm--%'");
  assert.deepEqual([...seen].sort(), all.map((r) => r.id).sort());
  for (const id of [...spam, members.room]) assert.ok(seen.includes(id), id);

  // Bad paging is refused with a clear message.
  assertRefused(await http(srv(), '/api/rooms?cursor=nonsense'), { status: 400, code: 'bad_request', message: /cursor/ });
  assertRefused(await http(srv(), '/api/rooms?limit=101'), { status: 400, code: 'bad_request', message: /limit/ });
  await closeAll(members.ann, members.bo);
});
