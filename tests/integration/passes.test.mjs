// Claim passes (issue 12): a connect whose name's claim the Worker checked in D1 gets a
// `pass` frame after its welcome; a later connect that offers the pass as the
// `edgechat.pass.<pass>` subprotocol is admitted as the same claim without that check,
// until the pass expires. Each attack below is refused (403 name_taken, as without a
// pass) and leaves the name's holder as it was; a pass of a claim released since is
// admitted and then revoked (error name_taken, close 4003) within one D1 round trip.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, expectRefused, openSocket, roomId, sleep, closeAll, cid, bearer } from '../support/client.mjs';
import { expectRefusal } from '../support/expect.mjs';

// Long enough for a loaded machine to use a pass, short enough to wait out once.
const TTL_SECS = 15;
const ctx = useServer({ vars: { ...GENEROUS_LIMITS, CLAIM_PASS_TTL_SECS: String(TTL_SECS) } });
const srv = () => ctx.server;

let counter = 0;
const freshName = (prefix = 'P') => `${prefix}${Date.now().toString(36).slice(-5)}${counter++}`;
const PASS_RE = /^v1\.([0-9a-f]{1,64})\.([0-9]{1,16})\.([0-9a-f]{64})$/;

/** Claims `name` (confirmed), then connects once more with its token: that connect's
 *  `pass` frame, and the claim id. */
async function passFor(server, name, room = roomId('pass')) {
  const first = await connect(server, room, name);
  const claim = first.claimed.claim;
  assert.equal(first.frames.some((f) => f?.type === 'pass'), false, 'a pending claim gets no pass');
  await closeAll(first);
  const second = await connect(server, room, name);
  const frame = await second.next('pass');
  await closeAll(second);
  return { ...frame, claim };
}

function expectTaken(refusal, what) {
  expectRefusal(refusal, 403, 'name_taken', what);
}

/** A client that stays in a room through an attack and must be unharmed by it. */
async function bystander(room) {
  const name = freshName('By');
  return connect(srv(), room, name);
}

async function expectUnharmed(client, what) {
  const id = cid('ok');
  client.send({ type: 'send', text: `still here after ${what}`, client_id: id });
  await client.nextAck(id);
  assert.equal(client.closed, null, `${client.name} still connected after ${what}`);
}

test('a connect checked in D1 earns a pass; the pass alone then opens the socket as the same claim', async () => {
  const name = freshName('Ann');
  const before = Date.now();
  const { pass, expires_at: expires, claim } = await passFor(srv(), name);
  const [, passClaim, passExpiry] = pass.match(PASS_RE) ?? assert.fail(`not a pass: ${pass}`);
  assert.equal(passClaim, claim, 'the pass speaks for the claim name_claimed named');
  assert.equal(Number(passExpiry), expires);
  assert.ok(expires > before && expires <= Date.now() + TTL_SECS * 1000 + 1000, `expires within the TTL: ${expires - before} ms`);

  const room = roomId('by-pass');
  const watcher = await bystander(room);
  // No token at all: only the pass. Admitted as the name, with no new claim or pass.
  const ann = await connect(srv(), room, name, { token: null, pass, confirm: false });
  assert.equal(ann.welcome.you.name, name);
  assert.equal(ann.claimed, null, 'no new claim');
  await sleep(300);
  assert.equal(ann.frames.some((f) => f?.type === 'pass'), false, 'a pass-admitted socket gets no new pass');
  const joined = await watcher.next((f) => f?.type === 'user_joined' && f.user?.name === name);
  assert.equal(joined.user.name, name);
  // It is the claim: a message it sends is its own, and the name is still claimed.
  const id = cid('mine');
  ann.send({ type: 'send', text: 'by pass', client_id: id });
  const ack = await ann.nextAck(id);
  assert.ok(ack.seq > 0);
  assert.deepEqual((await http(srv(), `/api/names/${encodeURIComponent(name)}`)).json, { name, claimed: true });
  await expectUnharmed(watcher, 'a pass connect');
  await closeAll(ann, watcher);
});

test('forged, altered, borrowed and stale passes are refused like no pass, and the holder is unharmed', async () => {
  const victim = freshName('Vic');
  const mallory = freshName('Mal');
  const room = roomId('forge');
  const vic = await passFor(srv(), victim, room);
  const mal = await passFor(srv(), mallory, room);
  const holder = await connect(srv(), room, victim);
  const [, , , mac] = vic.pass.match(PASS_RE);
  const flip = (hex) => hex.slice(0, -1) + (hex.at(-1) === '0' ? '1' : '0');
  const [, malClaim, malExpiry, malMac] = mal.pass.match(PASS_RE);
  const attempts = [
    ['a flipped MAC', `v1.${vic.claim}.${vic.expires_at}.${flip(mac)}`],
    ['a later expiry with the MAC of the real one', `v1.${vic.claim}.${vic.expires_at + 3_600_000}.${mac}`],
    ["the victim's claim id in the attacker's pass", `v1.${vic.claim}.${malExpiry}.${malMac}`],
    ["the attacker's own pass for the victim's name", mal.pass],
    ['a MAC of zeros', `v1.${vic.claim}.${vic.expires_at}.${'0'.repeat(64)}`],
    ['another version', `v2.${vic.claim}.${vic.expires_at}.${mac}`],
    ['uppercase hex', `v1.${vic.claim}.${vic.expires_at}.${mac.toUpperCase()}`],
    ['an oversized pass', `v1.${'a'.repeat(64)}.${'9'.repeat(16)}.${'f'.repeat(64)}${'f'.repeat(200)}`],
  ];
  for (const [what, pass] of attempts) {
    expectTaken(await expectRefused(srv(), room, victim, { token: null, pass }), what);
  }
  assert.notEqual(malClaim, vic.claim);
  // A pass in the URL is not read (secrets never go in URLs): still refused.
  expectTaken(await expectRefused(srv(), room, victim, {
    query: `name=${encodeURIComponent(victim)}&pass=${encodeURIComponent(vic.pass)}`,
  }), 'a pass in the query');
  // A pass never opens a direct message: those always ask D1 for their two claims.
  const dm = await http(srv(), '/api/dms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(srv(), victim) },
    body: JSON.stringify({ with: mallory }),
  });
  assert.equal(dm.status, 200, dm.text);
  const refusedDm = await expectRefused(srv(), dm.json.room, victim, { token: null, pass: vic.pass });
  assert.ok([403, 404].includes(refusedDm.status), `a DM by pass alone: ${refusedDm.status}`);
  await expectUnharmed(holder, 'the forged passes');
  assert.equal(holder.frames.filter((f) => f?.type === 'user_joined' && f.user?.name === victim).length, 0,
    'no second socket of the victim ever joined');
  await closeAll(holder);
});

test('an expired pass is refused; with the token beside it the connect asks D1 and gets a new pass', async () => {
  const name = freshName('Exp');
  const { pass, expires_at: expires } = await passFor(srv(), name);
  await sleep(Math.max(0, expires - Date.now()) + 200);
  expectTaken(await expectRefused(srv(), roomId('late'), name, { token: null, pass }), 'an expired pass');
  const again = await connect(srv(), roomId('late'), name, { pass });
  const renewed = await again.next('pass');
  assert.ok(renewed.expires_at > expires, 'a new pass, later than the old one');
  assert.notEqual(renewed.pass, pass);
  await closeAll(again);
});

test('release and reclaim: the old holder\'s pass opens a socket that is revoked at once, the new holder unharmed', async () => {
  const name = freshName('Rel');
  const room = roomId('reclaim');
  const old = await passFor(srv(), name, room);
  const released = await http(srv(), '/api/names/release', { method: 'POST', headers: bearer(srv(), name) });
  assert.equal(released.status, 200, released.text);
  // Someone else claims the released name and stays in the room.
  const newcomer = await connect(srv(), room, name, { token: null });
  assert.notEqual(newcomer.claimed.claim, old.claim, 'a new claim');
  // The old holder comes back with the pass: admitted (no D1 on the path), then the
  // check after the connect finds the claim gone and the room closes that socket.
  const { ws, early, seen } = await openSocket(srv(), room, name, { token: null, pass: old.pass });
  // The close frame is what counts (the runtime may keep the TCP connection a while
  // after it, so the 'close' event can come late): CLOSING or CLOSED, with its code.
  const deadline = Date.now() + 10_000;
  while (ws.readyState < 2 && !seen.close) {
    if (Date.now() > deadline) assert.fail('the revoked socket got no close frame within 10 s');
    await sleep(50);
  }
  const closed = seen.close?.code ?? ws._closeCode;
  ws.terminate();
  assert.equal(closed, 4003, 'closed as a claim that is gone');
  const frames = early.map(({ data }) => JSON.parse(data.toString()));
  const error = frames.find((f) => f.type === 'error');
  assert.equal(error?.code, 'name_taken', `told why: ${JSON.stringify(frames.map((f) => f.type))}`);
  // The newcomer still holds the name, hears no one else as it, and keeps chatting.
  await expectUnharmed(newcomer, 'the revoked pass');
  const users = (await connect(srv(), room, freshName('Look'))).welcome.users.map((u) => u.name);
  assert.equal(users.filter((n) => n === name).length, 1, `one ${name} in the room: ${users}`);
  assert.deepEqual((await http(srv(), `/api/names/${encodeURIComponent(name)}`)).json, { name, claimed: true });
  await closeAll(newcomer);
});

// Another server: its own key, or none. A pass from one server means nothing on another,
// and a Worker without a key issues none and admits every connect through D1.
const others = [];
after(async () => { await Promise.all(others.map((s) => s.stop())); });

test("another server's pass is not a pass; a server without a key issues none", async () => {
  const name = freshName('Two');
  const { pass } = await passFor(srv(), name);
  const other = await startServer({ vars: { ...GENEROUS_LIMITS, CLAIM_PASS_KEY: 'too-short' } });
  others.push(other);
  const there = await connect(other, roomId('other'), name);
  await closeAll(there);
  expectTaken(await expectRefused(other, roomId('other'), name, { token: null, pass }), "the first server's pass");
  const again = await connect(other, roomId('other'), name);
  await sleep(300);
  assert.equal(again.frames.some((f) => f?.type === 'pass'), false, 'no key, no pass');
  await closeAll(again);
});
