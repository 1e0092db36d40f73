// Trust: a name is an identity, a room has an owner, and nothing of one person passes
// to another. Each test performs an attack a hostile stranger would try against the real
// Worker, asserts the refusal, and checks that the people attacked still have everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import {
  connect, roomId, closeAll, expectRefused, tokenJar, sleep, bearer, cid, confirmClaim,
} from '../support/client.mjs';
import { expectHttpError } from '../support/expect.mjs';

// A short pending window, so that a token nobody kept is seen to lock nothing for long.
const PENDING_SECS = 3;
const ctx = useServer({ vars: { ...GENEROUS_LIMITS, NAME_PENDING_SECS: String(PENDING_SECS) } });
const srv = () => ctx.server;
const fold = (name) => name.trim().toLowerCase();
const token = (name) => tokenJar(srv()).get(fold(name));
let unique = 0;
const fresh = (base) => `${base}${++unique}${Math.floor(Math.random() * 1e4)}`;

async function release(name) {
  const res = await http(srv(), '/api/names/release', { method: 'POST', headers: bearer(srv(), name) });
  assert.equal(res.status, 200, res.text);
  tokenJar(srv()).delete(fold(name));
}

function post(path, name, body, method = 'POST') {
  return http(srv(), path, {
    method,
    headers: { 'content-type': 'application/json', ...bearer(srv(), name) },
    body: JSON.stringify(body),
  });
}

/** The legitimate party still chats: a message goes through and is acknowledged. */
async function stillWorks(client, text = 'still here') {
  const { ack } = await client.say(text);
  assert.ok(ack.seq > 0);
  return ack.seq;
}

test('release and reclaim: the new holder of a name gets none of the old holder\'s DMs', async () => {
  const [ann, bo] = [fresh('Ann'), fresh('Bo')];
  await closeAll(await connect(srv(), roomId('lobby'), ann), await connect(srv(), roomId('lobby'), bo));
  const { json: { room: dm } } = await post('/api/dms', ann, { with: bo });
  const a = await connect(srv(), dm, ann);
  const b = await connect(srv(), dm, bo);
  await a.say('our secret plan');
  await b.next('message');
  await closeAll(b);
  await release(bo);

  // Mallory connects as "Bo" and gets a fresh claim of the free name.
  const mallory = await connect(srv(), roomId('elsewhere'), bo);
  assert.ok(mallory.claimed, 'a fresh claim');
  const list = await http(srv(), '/api/dms', { headers: bearer(srv(), bo) });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.dms, [], 'the old DMs are not listed for the new holder');
  const read = await http(srv(), `/room/${dm}/messages`, { headers: bearer(srv(), bo) });
  assert.equal(read.status, 404, read.text);
  assert.ok(!read.text.includes('secret'));
  const refused = await expectRefused(srv(), dm, bo);
  assert.equal(refused.status, 404);
  // Opening a DM with Ann makes a new room of the new pair, not the old one.
  const reopened = await post('/api/dms', bo, { with: ann });
  assert.equal(reopened.status, 200);
  assert.notEqual(reopened.json.room, dm);
  // Ann keeps hers, with its history.
  const mine = await http(srv(), `/room/${dm}/messages`, { headers: bearer(srv(), ann) });
  assert.deepEqual(mine.json.messages.map((m) => m.text), ['our secret plan']);
  await stillWorks(a);
  await closeAll(a, mallory);
});

test('release and reclaim: no edit, delete, moderation or read position passes to the new holder', async () => {
  const room = roomId('owned');
  const [bo, cy] = [fresh('Bo'), fresh('Cy')];
  const old = await connect(srv(), room, bo); // first claim in: the owner
  assert.equal(old.welcome.role, 'owner');
  const watcher = await connect(srv(), room, cy);
  const { ack } = await old.say('I said this');
  await watcher.next('message');
  old.send({ type: 'read', seq: ack.seq });
  await sleep(300);
  await closeAll(old);
  await release(bo);

  const mallory = await connect(srv(), room, bo);
  assert.equal(mallory.welcome.read_seq, 0, 'no read position inherited');
  assert.equal(mallory.welcome.role, null, 'no ownership inherited');
  assert.equal(mallory.welcome.owner, bo, 'the owner is still the old claim, shown by its name');
  for (const frame of [
    { type: 'edit', seq: ack.seq, text: 'I never said this', client_id: cid() },
    { type: 'delete', seq: ack.seq, client_id: cid() },
  ]) {
    mallory.send(frame);
    const e = await mallory.next('error');
    assert.equal(e.code, 'forbidden', JSON.stringify(e));
  }
  for (const frame of [{ type: 'kick', name: cy }, { type: 'ban', name: cy, minutes: 10 }, { type: 'appoint', name: cy }]) {
    mallory.send(frame);
    assert.equal((await mallory.next('error')).code, 'forbidden', frame.type);
  }
  const retitled = await post(`/api/rooms/${room}`, bo, { title: 'Mallory\'s now' }, 'PATCH');
  expectHttpError(retitled, 403, 'forbidden', 'retitle by the new holder');
  await watcher.expectNoFrame('update', 300);
  assert.equal(watcher.closed, null, 'Cy is still connected');
  const history = await http(srv(), `/room/${room}/messages`);
  assert.deepEqual(history.json.messages.map((m) => [m.name, m.text]), [[bo, 'I said this']],
    'the old message keeps its text and the name it was sent under');
  await stillWorks(watcher);
  await closeAll(mallory, watcher);
});

test('make after squat: a room someone entered first cannot be made, and a made room is its maker\'s', async () => {
  const [ann, mallory] = [fresh('Ann'), fresh('Mallory')];
  await closeAll(await connect(srv(), roomId('lobby'), ann));
  const squatted = roomId('team');
  const m = await connect(srv(), squatted, mallory);
  const made = await post('/api/rooms', ann, { id: squatted, title: 'Team' });
  expectHttpError(made, 409, 'room_exists', 'making a squatted id');
  assert.match(made.json.error.message, /exists already/);
  await closeAll(m);

  // Ann makes a room first; Mallory walks in and can do nothing to her.
  const team = roomId('team');
  assert.equal((await post('/api/rooms', ann, { id: team, title: 'Team' })).status, 201);
  const squatter = await connect(srv(), team, mallory);
  assert.equal(squatter.welcome.owner, ann);
  assert.equal(squatter.welcome.role, null);
  const a = await connect(srv(), team, ann);
  assert.equal(a.welcome.role, 'owner');
  squatter.send({ type: 'ban', name: ann, minutes: 60 });
  assert.equal((await squatter.next('error')).code, 'forbidden');
  assert.equal(a.closed, null);
  await stillWorks(a);
  // A second making of the id, by anyone else, is refused.
  expectHttpError(await post('/api/rooms', mallory, { id: team, title: 'Mine' }), 409, 'room_exists');
  const info = await http(srv(), `/api/rooms/${team}`);
  assert.equal(info.json.room.title, 'Team');
  await closeAll(a, squatter);
});

test('retitle by a stranger: an existing untitled room keeps its title', async () => {
  const general = roomId('general');
  const [owner, stranger] = [fresh('Oli'), fresh('Stan')];
  const o = await connect(srv(), general, owner);
  await o.say('hello');
  await closeAll(await connect(srv(), roomId('lobby'), stranger));
  expectHttpError(await post('/api/rooms', stranger, { id: general, title: 'Stan rules' }), 409, 'room_exists');
  expectHttpError(await post(`/api/rooms/${general}`, stranger, { title: 'Stan rules' }, 'PATCH'), 403, 'forbidden');
  const noToken = await http(srv(), `/api/rooms/${general}`, {
    method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"title":"x"}',
  });
  expectHttpError(noToken, 401, 'unauthorized');
  const info = await http(srv(), `/api/rooms/${general}`);
  assert.notEqual(info.json.room.title, 'Stan rules');
  await stillWorks(o);
  await closeAll(o);
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

test('uploads need the uploader\'s token, and a file is attachable only by its claim', async () => {
  const room = roomId('files');
  const [ann, eve] = [fresh('Ann'), fresh('Eve')];
  const a = await connect(srv(), room, ann);
  const e = await connect(srv(), room, eve);
  const asAnn = await http(srv(), `/room/${room}/files?name=${ann}&filename=x.png`, {
    method: 'POST', body: PNG, headers: { 'content-type': 'image/png' },
  });
  expectHttpError(asAnn, 401, 'unauthorized', 'an upload naming Ann without her token');
  // Eve uploads with her own token but names Ann: the file is Eve's, not Ann's.
  const spoof = await http(srv(), `/room/${room}/files?name=${ann}&filename=x.png`, {
    method: 'POST', body: PNG, headers: { 'content-type': 'image/png', ...bearer(srv(), eve) },
  });
  assert.equal(spoof.status, 201, spoof.text);
  const id = cid();
  a.send({ type: 'send', text: 'look', client_id: id, attachment: spoof.json.attachment.id });
  assert.equal((await a.nextError(id)).code, 'not_found', 'Ann cannot attach a file Eve uploaded');
  const mine = cid();
  e.send({ type: 'send', text: 'mine', client_id: mine, attachment: spoof.json.attachment.id });
  assert.ok((await e.nextAck(mine)).seq > 0);
  await stillWorks(a);
  await closeAll(a, e);
});

test('look-alike names are the same name: Cyrillic, NFD, fullwidth and blank characters are refused', async () => {
  const room = roomId('alike');
  const base = fresh('Ann');
  const owner = await connect(srv(), room, base);
  const cyrillic = base.replace('A', '\u0410');
  assert.notEqual(cyrillic, base);
  const looks = await expectRefused(srv(), room, cyrillic);
  assert.equal(looks.status, 403);
  assert.equal(looks.body.error.code, 'name_taken');
  assert.match(looks.body.error.message, new RegExp(`looks like "${base}"`));
  const fullwidth = [...base].map((c) => (/[A-Za-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0) + 0xFEE0) : c)).join('');
  const wide = await expectRefused(srv(), room, fullwidth);
  assert.equal(wide.status, 403, 'fullwidth letters fold to the same name');
  assert.equal(wide.body.error.code, 'name_taken');
  // With the token, the fullwidth spelling is the same person.
  const tab = await connect(srv(), room, fullwidth, { token: token(base) });
  assert.equal(tab.welcome.you.name, base, 'one user, shown as first spelled');
  await closeAll(tab);

  const jose = `Jos\u00e9${unique}`; // NFC
  const j = await connect(srv(), room, jose);
  const nfd = jose.normalize('NFD');
  assert.notEqual(nfd, jose);
  const taken = await expectRefused(srv(), room, nfd);
  assert.equal(taken.body.error.code, 'name_taken', 'NFD and NFC are one name');
  await closeAll(j);

  for (const blank of ['\u2800', '\u3164', '\u115F', '\u1160', '\uFFA0']) {
    for (const raw of [blank, `${base}${blank}`, `A${blank}nn`]) {
      const r = await expectRefused(srv(), room, raw);
      assert.equal(r.status, 400, `U+${blank.codePointAt(0).toString(16)} in ${JSON.stringify(raw)}`);
      assert.equal(r.body.error.code, 'invalid_name');
    }
  }
  const spaced = await connect(srv(), room, `Big   ${base}`);
  assert.equal(spaced.welcome.you.name, `Big ${base}`, 'inner whitespace collapses');
  await stillWorks(owner);
  assert.deepEqual(owner.welcome.users.map((u) => u.name), [base]);
  await closeAll(owner, spaced);
});

test('a token nobody kept locks nothing for long; a confirmed claim holds', async () => {
  const room = roomId('pending');
  const lost = fresh('Lost');
  // A client that never keeps (confirms) its token, such as one that crashed.
  const gone = await connect(srv(), room, lost, { confirm: false });
  await closeAll(gone);
  tokenJar(srv()).delete(fold(lost));
  const meanwhile = await expectRefused(srv(), room, lost);
  assert.equal(meanwhile.body.error.code, 'name_taken', 'two first connects at once: one wins');
  await sleep(PENDING_SECS * 1000 + 500);
  const again = await connect(srv(), room, lost); // the same person, without the token
  assert.ok(again.claimed, 'the name was free again');
  await closeAll(again);
  await sleep(PENDING_SECS * 1000 + 500);
  const held = await expectRefused(srv(), room, lost, { token: null });
  assert.equal(held.body.error.code, 'name_taken', 'confirmed, the claim does not lapse');
  // Confirming is idempotent and says who the token is.
  const who = await confirmClaim(srv(), token(lost));
  assert.deepEqual({ ...who, claim: 'x' }, { name: lost, claim: 'x', confirmed: true });
  expectHttpError(await http(srv(), '/api/names/confirm', { method: 'POST' }), 401, 'unauthorized');
  expectHttpError(await http(srv(), '/api/names/confirm', {
    method: 'POST', headers: { authorization: `Bearer ${'0'.repeat(64)}` },
  }), 403, 'name_taken');
});

test('tokens never travel in URLs: header and subprotocol work, and the Worker\'s log has no token', async () => {
  const room = roomId('quiet');
  const name = fresh('Quinn');
  const offset = srv().output.length;
  const first = await connect(srv(), room, name);
  const t = token(name);
  await closeAll(first);
  // A browser offers the token as a subprotocol and is answered with `edgechat`.
  const viaProtocol = await connect(srv(), room, name, { tokenVia: 'subprotocol' });
  assert.equal(viaProtocol.ws.protocol, 'edgechat');
  await stillWorks(viaProtocol);
  const viaHeader = await connect(srv(), room, name, { tokenVia: 'header' });
  await closeAll(viaProtocol, viaHeader);
  await http(srv(), '/api/dms', { headers: bearer(srv(), name) });
  await http(srv(), '/api/rooms', { headers: bearer(srv(), name) });
  // The deprecated query still admits older clients.
  const legacy = await connect(srv(), room, name, { tokenVia: 'query' });
  await closeAll(legacy);
  await sleep(500);
  const log = srv().outputSince(offset);
  const withoutLegacy = log.replace(/token=[0-9a-f]{64}/g, '');
  assert.ok(log.includes('/room/'), 'the log shows requests');
  assert.ok(!withoutLegacy.includes(t), 'no token in any logged line but the deprecated query');
});

test('a forged internal claim header is ignored', async () => {
  const room = roomId('forge');
  const [ann, eve] = [fresh('Ann'), fresh('Eve')];
  const a = await connect(srv(), room, ann);
  const claim = a.claimed.claim;
  await a.say('mine');
  const e = await connect(srv(), room, eve, {
    headers: { 'x-edgechat-claim': claim, 'x-edgechat-claim-name': ann },
  });
  assert.equal(e.welcome.role, null, 'Eve did not become the owner by a header');
  e.send({ type: 'delete', seq: 1, client_id: cid() });
  assert.equal((await e.next('error')).code, 'forbidden');
  const up = await http(srv(), `/room/${room}/files?filename=x.png`, {
    method: 'POST', body: PNG, headers: { 'content-type': 'image/png', 'x-edgechat-claim': claim, 'x-edgechat-claim-name': ann },
  });
  expectHttpError(up, 401, 'unauthorized');
  await stillWorks(a);
  await closeAll(a, e);
});

test('unread counts go only to the token\'s holder', async () => {
  const room = roomId('unread');
  const [ann, bo] = [fresh('Ann'), fresh('Bo')];
  const a = await connect(srv(), room, ann);
  await closeAll(await connect(srv(), room, bo));
  await a.say('one');
  await a.say('two');
  let entry;
  for (let i = 0; i < 50 && entry?.unread !== 2; i++) {
    entry = (await http(srv(), '/api/rooms', { headers: bearer(srv(), bo) })).json.rooms.find((r) => r.id === room);
    await sleep(100);
  }
  assert.equal(entry?.unread, 2, JSON.stringify(entry));
  const byName = (await http(srv(), `/api/rooms?name=${bo}`)).json.rooms.find((r) => r.id === room);
  assert.equal(byName.unread, undefined, 'a bare name learns nothing');
  await closeAll(a);
});

test('a name can be claimed over HTTP (to make a room first); the same checks apply', async () => {
  const name = fresh('Hugo');
  const claim = (body) => http(srv(), '/api/names/claim', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const got = await claim({ name });
  assert.equal(got.status, 201, got.text);
  assert.equal(got.json.name, name);
  assert.match(got.json.token, /^[0-9a-f]{64}$/);
  assert.match(got.json.claim, /^[0-9a-f]{24}$/);
  expectHttpError(await claim({ name: name.toUpperCase() }), 403, 'name_taken', 'the same name again');
  const alike = await claim({ name: name.replace('H', '\u041d') }); // Cyrillic Н
  expectHttpError(alike, 403, 'name_taken', 'a look-alike');
  assert.match(alike.json.error.message, /looks like/);
  // Capital I and small l look alike, whichever comes first.
  const ivan = `Ivan${unique}`;
  assert.equal((await claim({ name: ivan })).status, 201);
  expectHttpError(await claim({ name: `lvan${unique}` }), 403, 'name_taken', 'l for I');
  const lea = `lea${unique}`;
  assert.equal((await claim({ name: lea })).status, 201);
  expectHttpError(await claim({ name: `Iea${unique}` }), 403, 'name_taken', 'I for l');
  expectHttpError(await claim({ name: '\u2800' }), 400, 'invalid_name');
  expectHttpError(await http(srv(), '/api/names/claim', { method: 'POST', body: 'nope', headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
  expectHttpError(await http(srv(), '/api/names/claim'), 405, 'bad_request');
  // The token works at once, and makes a room owned by the claim.
  const made = await http(srv(), '/api/rooms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${got.json.token}` },
    body: JSON.stringify({ id: roomId('hugo'), title: 'Hugo\'s' }),
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.owner, name);
});
