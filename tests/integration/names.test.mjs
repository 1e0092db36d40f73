// Name claims: the first connect with a free name claims it (for every room) and gets a
// secret token in a `name_claimed` frame right after its welcome; while the claim lives,
// a connect with that name needs the token (403 name_taken otherwise); the token's
// holder can release the name; a claim unused for NAME_CLAIM_TTL_SECS lapses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { useServer, startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, expectRefused, openSocket, roomId, sleep, closeAll, tokenJar } from '../support/client.mjs';
import { expectHttpError, expectRefusal } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

let counter = 0;
/** A fresh name nobody has claimed yet. */
const freshName = (prefix = 'N') => `${prefix}${Date.now().toString(36).slice(-5)}${counter++}`;

const TAKEN = (name) => new RegExp(`^the name "${name}" is claimed; connect from the browser that claimed it \\(its token\\) or pick another name$`);

function expectTaken(refusal, name, what) {
  expectRefusal(refusal, 403, 'name_taken', what);
  assert.match(refusal.body.error.message, TAKEN(name), what);
}

/** Waits `ms` and asserts the client got no `name_claimed` frame (the test client files
 *  those in its token jar, so they never wait in the buffer: look at every frame). */
async function expectNoClaim(client, ms) {
  await sleep(ms);
  const claims = client.frames.filter((f) => f?.type === 'name_claimed' && f !== client.ownClaim);
  assert.deepEqual(claims, [], `${client.name} got no name_claimed frame (but its own first one)`);
}

const release = (server, body) => http(server, '/api/names/release', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Opens a socket with extra request headers; resolves with the open ws or rejects with { status, body }. */
function openWithHeaders(server, room, name, headers, token) {
  const q = new URLSearchParams({ name });
  if (token) q.set('token', token);
  const ws = new WebSocket(`${server.wsUrl}/room/${room}?${q}`, { headers, perMessageDeflate: false });
  const frames = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames }));
    ws.once('unexpected-response', (req, res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => { reject(Object.assign(new Error(`HTTP ${res.statusCode} ${text}`), { status: res.statusCode, text })); req.destroy(); });
    });
    ws.once('error', reject);
  });
}

test('the first connect claims the name: name_claimed right after welcome, on that socket only', async () => {
  const room = roomId('claim');
  const watcher = await connect(srv(), room, freshName('Watcher'));
  watcher.ownClaim = watcher.claimed; // the watcher claimed its own name
  assert.ok(watcher.ownClaim);
  const name = freshName('Ann');
  const ann = await connect(srv(), room, name);
  try {
    assert.equal(ann.frames[0].type, 'welcome', JSON.stringify(ann.frames));
    assert.deepEqual(Object.keys(ann.frames[1]).sort(), ['claim', 'name', 'token', 'type']);
    assert.match(ann.frames[1].claim, /^[0-9a-f]{24}$/);
    assert.equal(ann.frames[1].type, 'name_claimed');
    assert.equal(ann.frames[1].name, name);
    assert.match(ann.frames[1].token, /^[0-9a-f]{64}$/);
    await expectNoClaim(watcher, 300);
    // The token is the claim's: with it, the same name is admitted (another room, another
    // spelling) and no new claim is made.
    const tab = await connect(srv(), roomId('claim-other'), name.toUpperCase(), { token: ann.frames[1].token });
    assert.equal(tab.welcome.you.name, name.toUpperCase());
    await expectNoClaim(tab, 500);
    // A second tab in the same room is the same user, as before claims existed.
    const same = await connect(srv(), room, name.toLowerCase(), { token: ann.frames[1].token });
    assert.equal(same.welcome.you.name, name, 'spelled as the first open connection spelled it');
    await closeAll(tab, same);
  } finally {
    await closeAll(ann, watcher);
  }
});

test('a claimed name without its token is refused with 403 name_taken, in every room and spelling', async () => {
  const name = freshName('Bo');
  const bo = await connect(srv(), roomId('taken'), name);
  const token = bo.claimed.token;
  try {
    for (const [room, spelled] of [[bo.room, name], [roomId('taken-elsewhere'), name.toLowerCase()], [roomId('x'), ` ${name.toUpperCase()} `]]) {
      const refusal = await expectRefused(srv(), room, spelled, { token: null });
      expectTaken(refusal, spelled.trim(), `no token, ${room} as ${JSON.stringify(spelled)}`);
    }
    expectTaken(await expectRefused(srv(), bo.room, name, { token: 'f'.repeat(64) }), name, 'a wrong token');
    expectTaken(await expectRefused(srv(), bo.room, name, { token: token.slice(0, 63) }), name, 'a truncated token');
    expectTaken(await expectRefused(srv(), bo.room, name, { token: 'x'.repeat(5000) }), name, 'a huge token');
    // The plain GET (how the web UI learns why a socket failed) says the same, and it
    // never claims anything.
    const probe = await http(srv(), `/room/${bo.room}?name=${encodeURIComponent(name)}`);
    expectHttpError(probe, 403, 'name_taken', 'the probe without a token');
    assert.match(probe.json.error.message, TAKEN(name));
    const withToken = await http(srv(), `/room/${bo.room}?name=${encodeURIComponent(name)}&token=${token}`);
    expectHttpError(withToken, 426, 'bad_request', 'the probe with the token');
    const free = freshName('Free');
    expectHttpError(await http(srv(), `/room/${bo.room}?name=${free}`), 426, 'bad_request', 'a free name');
    const info = await http(srv(), `/api/names/${free}`);
    assert.deepEqual(info.json, { name: free, claimed: false }, 'the probe claimed nothing');
    // Nobody else joined the room under the name.
    const users = await http(srv(), `/room/${bo.room}/users`);
    assert.deepEqual(users.json.users.map((u) => u.name), [name]);
  } finally {
    await closeAll(bo);
  }
});

test('GET /api/names/:name says whether a name is claimed', async () => {
  const name = freshName('Cy');
  const before = await http(srv(), `/api/names/${encodeURIComponent(name)}`);
  assert.equal(before.status, 200, before.text);
  assert.deepEqual(before.json, { name, claimed: false });
  const cy = await connect(srv(), roomId('info'), name);
  const after = await http(srv(), `/api/names/${encodeURIComponent(name.toLowerCase())}`);
  assert.deepEqual(after.json, { name: name.toLowerCase(), claimed: true });
  expectHttpError(await http(srv(), '/api/names/%20%20'), 400, 'invalid_name', 'a blank name');
  expectHttpError(await http(srv(), `/api/names/${name}`, { method: 'POST' }), 405, 'bad_request', 'POST');
  await closeAll(cy);
});

test('keys fold case and compatibility forms in the Worker exactly as the host tests say', async () => {
  // The Worker normalizes with the runtime's String.prototype.normalize (NFD, NFKD, NFKC)
  // and the host with the unicode-normalization crate: these are the host tests' cases
  // (crates/protocol/src/validate.rs), checked through the Worker's own keys.
  const s = freshName('').toLowerCase();
  const same = [
    [`Stra\u00DFe${s}`, `STRASSE${s}`, 'sharp s'],
    [`\u1E9E${s}`, `ss${s}`, 'capital sharp s'],
    [`\u212Aelvin${s}`, `kelvin${s}`, 'Kelvin sign'],
    [`\uFB00${s}`, `FF${s}`, 'ligature'],
    [`\u2167${s}`, `viii${s}`, 'roman numeral'],
    [`\u03A3\u0391\u03A3${s}`, `\u03C3\u03B1\u03C2${s}`, 'final sigma'],
    [`JOS\u00C9${s}`, `Jose\u0301${s}`, 'NFC and NFD'],
    [`\uFF21\uFF2E\uFF2E${s}`, `ann${s}`, 'fullwidth'],
  ];
  const room = roomId('fold');
  const holders = [];
  try {
    for (const [claimed, asked, what] of same) {
      const before = await http(srv(), `/api/names/${encodeURIComponent(asked)}`);
      assert.deepEqual(before.json, { name: asked, claimed: false }, `${what}: free before`);
      holders.push(await connect(srv(), room, claimed));
      const after = await http(srv(), `/api/names/${encodeURIComponent(asked)}`);
      assert.deepEqual(after.json, { name: asked, claimed: true }, `${what}: ${JSON.stringify(asked)} is ${JSON.stringify(claimed)}`);
      // The other spelling cannot connect without the holder's token.
      expectTaken(await expectRefused(srv(), room, asked, { token: null }), asked, what);
    }
    // A different name stays free, and the holders are unharmed.
    const other = await http(srv(), `/api/names/${encodeURIComponent(`Bob${s}`)}`);
    assert.deepEqual(other.json, { name: `Bob${s}`, claimed: false });
    const users = await http(srv(), `/room/${room}/users`);
    assert.deepEqual(users.json.users.map((u) => u.name).sort(), same.map(([c]) => c).sort());
  } finally {
    await closeAll(...holders);
  }
});

test('a forged internal header is ignored: it neither admits nor plants a token', async () => {
  const name = freshName('Dee');
  const dee = await connect(srv(), roomId('forge'), name);
  await closeAll(dee);
  const header = { 'x-edgechat-claimed-token': 'forged-token' };
  await assert.rejects(openWithHeaders(srv(), dee.room, name, header), (err) => {
    assert.equal(err.status, 403, err.message);
    assert.match(err.text, /name_taken/);
    return true;
  });
  // On a free name the claim's token is the server's own, not the forged one.
  const other = freshName('Eve');
  const { ws, frames } = await openWithHeaders(srv(), roomId('forge'), other, header);
  try {
    for (let i = 0; i < 50 && frames.length < 2; i++) await sleep(50);
    assert.deepEqual(frames.map((f) => f.type), ['welcome', 'name_claimed']);
    assert.notEqual(frames[1].token, 'forged-token');
    assert.match(frames[1].token, /^[0-9a-f]{64}$/);
  } finally {
    ws.terminate();
  }
  expectTaken(await expectRefused(srv(), roomId('forge'), other, { token: 'forged-token' }), other, 'the forged token');
});

test('release: a wrong token is refused, the right one frees the name for anyone', async () => {
  const name = freshName('Fay');
  const fay = await connect(srv(), roomId('release'), name);
  const token = fay.claimed.token;
  await closeAll(fay);

  const wrong = await release(srv(), { name, token: 'a'.repeat(64) });
  expectHttpError(wrong, 403, 'name_taken', 'release with a wrong token');
  assert.match(wrong.json.error.message, TAKEN(name));
  expectTaken(await expectRefused(srv(), roomId('release'), name, { token: null }), name, 'still claimed');

  const ok = await release(srv(), { name: name.toUpperCase(), token });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { released: true });
  assert.deepEqual((await http(srv(), `/api/names/${name}`)).json, { name, claimed: false });
  expectHttpError(await release(srv(), { name, token }), 404, 'not_found', 'a second release');

  // Free for anyone now: someone without a token claims it afresh, and the old token is void.
  const next = await connect(srv(), roomId('release'), name, { token: null });
  assert.match(next.claimed?.token ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(next.claimed.token, token);
  await closeAll(next);
  expectTaken(await expectRefused(srv(), roomId('release'), name, { token }), name, 'the released token');
});

test('release answers bad bodies with 400 bad_request and other methods with 405', async () => {
  for (const body of ['', '{}', JSON.stringify({ name: 'x' })]) {
    expectHttpError(await release(srv(), body), 401, 'unauthorized', `no token at all: ${body}`);
  }
  for (const body of ['nope', '[]', JSON.stringify({ token: 't' }),
    JSON.stringify({ name: '', token: 't' }), JSON.stringify({ name: 'x', token: '' }), JSON.stringify({ name: 'x', token: 5 }),
    JSON.stringify({ name: 'x', token: 'y'.repeat(5000) })]) {
    expectHttpError(await release(srv(), body), 400, 'bad_request', `body ${body.slice(0, 40)}`);
  }
  expectHttpError(await release(srv(), { name: freshName('Nobody'), token: 't' }), 404, 'not_found', 'an unclaimed name');
  expectHttpError(await http(srv(), '/api/names/release'), 405, 'bad_request', 'GET');
});

test('two simultaneous first connects with one name: exactly one wins', async () => {
  const name = freshName('Race');
  const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) =>
    openSocket(srv(), roomId(`race${i}`), i % 2 ? name : name.toLowerCase(), { token: null })));
  const won = attempts.filter((a) => a.status === 'fulfilled');
  const lost = attempts.filter((a) => a.status === 'rejected');
  try {
    assert.equal(won.length, 1, `one winner: ${attempts.map((a) => a.status === 'fulfilled' ? 'open' : a.reason.status).join(',')}`);
    for (const l of lost) {
      assert.equal(l.reason.status, 403, l.reason.message);
      assert.equal(l.reason.body.error.code, 'name_taken');
    }
  } finally {
    for (const w of won) w.value.ws.terminate();
  }
});

test('a claim unused for NAME_CLAIM_TTL_SECS lapses; using it keeps it alive', { timeout: 120_000 }, async () => {
  const short = await startServer({ vars: { ...GENEROUS_LIMITS, NAME_CLAIM_TTL_SECS: 3 } });
  try {
    const room = roomId('ttl');
    const name = freshName('Gil');
    const started = Date.now();
    const gil = await connect(short, room, name);
    const token = gil.claimed.token;
    await closeAll(gil);
    expectTaken(await expectRefused(short, room, name, { token: null }), name, 'right after the claim');
    // A use after a quarter of the TTL writes last_used again...
    await sleep(Math.max(0, started + 1_500 - Date.now()));
    const refreshedAt = Date.now();
    const again = await connect(short, room, name, { token });
    await expectNoClaim(again, 200);
    await closeAll(again);
    // ...so the claim still holds past the first claim's TTL,
    await sleep(Math.max(0, started + 3_600 - Date.now()));
    assert.ok(Date.now() - refreshedAt < 2_800, 'still within the TTL of the refresh (the machine was too slow)');
    expectTaken(await expectRefused(short, room, name, { token: null }), name, 'after the refresh');
    // ...and lapses once unused for the TTL: anyone may claim it, the old token is void.
    await sleep(Math.max(0, refreshedAt + 3_500 - Date.now()));
    const info = await http(short, `/api/names/${name}`);
    assert.deepEqual(info.json, { name, claimed: false });
    const taker = await connect(short, roomId('ttl2'), name, { token: null });
    assert.match(taker.claimed?.token ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(taker.claimed.token, token);
    await closeAll(taker);
    expectTaken(await expectRefused(short, room, name, { token }), name, 'the lapsed token');
    assert.equal(tokenJar(short).get(name.toLowerCase()), taker.claimed.token, 'the test client filed the new token');
  } finally {
    await short.stop();
  }
});
