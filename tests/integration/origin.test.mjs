// Origins, body types and security headers (issue 10, item 1). A page on another site
// cannot open a socket into a room or call a state-changing route with its visitor's
// browser: the Worker refuses any Origin but its own (and those in ALLOWED_ORIGINS)
// with 403 `forbidden`, before a room or D1 sees the request; clients with no Origin
// (the CLI, scripts) pass. JSON routes refuse other body types (the shape a cross-site
// form takes) with 415 `unsupported_type`. Every answer, static or not, carries the CSP
// and the other headers. Meanwhile the members of a room chat on undisturbed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, expectRefused, roomId, closeAll, bearer } from '../support/client.mjs';
import { expectHttpError } from '../support/expect.mjs';
import WebSocket from 'ws';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const EVIL = 'https://evil.example';
const JSON_TYPE = { 'content-type': 'application/json' };

// A real 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

/** Connects each name once to a room of its own, which claims it. */
async function claim(...names) {
  for (const name of names) await closeAll(await connect(srv(), roomId('own'), name));
}

/** Two members of one room; `check()` has one say something the other receives, acked. */
async function bystanders(tag) {
  const room = roomId(`calm-${tag}`);
  const a = await connect(srv(), room, `${tag}A`);
  const b = await connect(srv(), room, `${tag}B`);
  let n = 0;
  const check = async () => {
    n += 1;
    const text = `still chatting ${n}`;
    const { ack } = await a.say(text);
    assert.ok(ack.seq > 0, 'acked');
    const got = await b.next('message');
    assert.equal(got.message.text, text);
    assert.equal(got.message.seq, ack.seq, 'nothing lost in between');
  };
  return { room, a, b, check };
}

const isClaimed = async (name) => (await http(srv(), `/api/names/${encodeURIComponent(name)}`)).json.claimed;

function expectForbidden(res, origin, what) {
  expectHttpError(res, 403, 'forbidden', what);
  assert.ok(res.json.error.message.includes(origin), `${what}: the message names the origin: ${res.json.error.message}`);
}

test('a socket from another site, or from an opaque origin, is refused before any room sees it', async () => {
  const calm = await bystanders('sock');
  await claim('Sockann');
  const room = roomId('target');
  for (const origin of [EVIL, 'null', 'http://127.0.0.1:1', `${srv().url}.evil.example`]) {
    const refused = await expectRefused(srv(), room, 'Sockann', { headers: { origin } });
    assert.equal(refused.status, 403, `${origin}: ${refused.text}`);
    assert.equal(refused.body.error.code, 'forbidden');
    assert.ok(refused.body.error.message.includes(origin === 'null' ? 'Origin: null' : origin), refused.text);
    await calm.check();
  }
  // A fresh name from another site is not claimed on the way.
  await expectRefused(srv(), room, 'Neverclaimed', { headers: { origin: EVIL } });
  assert.equal(await isClaimed('Neverclaimed'), false);
  // The room never saw them: nobody is in it.
  assert.deepEqual((await http(srv(), `/room/${room}/users`)).json.users ?? [], []);
  // A direct message's socket is refused the same way (before its own 404).
  await claim('Sockbo');
  const dm = await http(srv(), '/api/dms', {
    method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Sockann') }, body: JSON.stringify({ with: 'Sockbo' }),
  });
  assert.equal(dm.status, 200, dm.text);
  const dmRefused = await expectRefused(srv(), dm.json.room, 'Sockann', { headers: { origin: EVIL } });
  assert.equal(dmRefused.status, 403);
  assert.equal(dmRefused.body.error.code, 'forbidden');

  // The own origin (either loopback spelling of this port) and no Origin at all pass.
  const port = new URL(srv().url).port;
  for (const origin of [srv().url, `http://localhost:${port}`, undefined]) {
    const c = await connect(srv(), room, 'Sockann', { headers: origin ? { origin } : {} });
    const { ack } = await c.say(`hello from ${origin ?? 'no origin'}`);
    assert.ok(ack.seq > 0);
    await closeAll(c);
  }
  const inDm = await connect(srv(), dm.json.room, 'Sockann', { headers: { origin: srv().url } });
  await closeAll(inDm);
  await calm.check();
  await closeAll(calm.a, calm.b);
});

test('every state-changing route refuses another site and changes nothing', async () => {
  const calm = await bystanders('post');
  await claim('Rann', 'Rbo', 'Rcy');
  const evil = { origin: EVIL };
  const owned = roomId('owned');
  const made = await http(srv(), '/api/rooms', {
    method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') },
    body: JSON.stringify({ id: owned, title: 'Original' }),
  });
  assert.equal(made.status, 201, made.text);
  const dm = await http(srv(), '/api/dms', {
    method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') }, body: JSON.stringify({ with: 'Rbo' }),
  });
  assert.equal(dm.status, 200, dm.text);
  const spam = roomId('spam');

  const attempts = [
    ['POST /api/names/claim', '/api/names/claim', { method: 'POST', headers: JSON_TYPE, body: '{"name":"Evilclaim"}' }],
    ['POST /api/names/confirm', '/api/names/confirm', { method: 'POST', headers: bearer(srv(), 'Rann') }],
    ['POST /api/names/release', '/api/names/release', { method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') }, body: '{}' }],
    ['POST /api/rooms', '/api/rooms', { method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') }, body: JSON.stringify({ id: spam, title: 'Spam' }) }],
    ['PATCH /api/rooms/:id', `/api/rooms/${owned}`, { method: 'PATCH', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') }, body: '{"title":"Defaced"}' }],
    ['POST /api/dms', '/api/dms', { method: 'POST', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann') }, body: '{"with":"Rcy"}' }],
    ['DELETE /api/dms/:room', `/api/dms/${dm.json.room}`, { method: 'DELETE', headers: bearer(srv(), 'Rann') }],
    ['POST /room/:id/files', `/room/${owned}/files?filename=dot.png`, { method: 'POST', headers: { 'content-type': 'image/png', ...bearer(srv(), 'Rann') }, body: PNG }],
    ['PUT /api/rooms (no such method)', '/api/rooms', { method: 'PUT', headers: JSON_TYPE, body: '{}' }],
    ['POST /room/:id (no such method)', `/room/${owned}`, { method: 'POST' }],
  ];
  for (const [what, path, init] of attempts) {
    for (const origin of [EVIL, 'null']) {
      const res = await http(srv(), path, { ...init, headers: { ...init.headers, origin } });
      expectForbidden(res, origin === 'null' ? 'Origin: null' : origin, `${what} from ${origin}`);
    }
    await calm.check();
  }
  // Nothing changed.
  assert.equal(await isClaimed('Evilclaim'), false, 'no claim made');
  assert.equal(await isClaimed('Rann'), true, 'not released');
  const stillAnn = await connect(srv(), owned, 'Rann');
  await closeAll(stillAnn);
  expectHttpError(await http(srv(), `/api/rooms/${spam}`), 404, 'not_found', 'no spam room');
  assert.equal((await http(srv(), `/api/rooms/${owned}`)).json.room.title, 'Original', 'not retitled');
  const dms = (await http(srv(), '/api/dms', { headers: bearer(srv(), 'Rann') })).json.dms;
  assert.deepEqual(dms.map((d) => d.with ?? d.name ?? d.peer).length, 1, `still one DM, not left, none with Rcy: ${JSON.stringify(dms)}`);
  assert.equal(dms[0].room, dm.json.room);
  // The same requests from this site's own page, and with no Origin, are served.
  const own = await http(srv(), `/api/rooms/${owned}`, {
    method: 'PATCH', headers: { ...JSON_TYPE, ...bearer(srv(), 'Rann'), origin: srv().url }, body: '{"title":"Renamed"}',
  });
  assert.equal(own.status, 200, own.text);
  const up = await http(srv(), `/room/${owned}/files?filename=dot.png`, {
    method: 'POST', headers: { 'content-type': 'image/png', ...bearer(srv(), 'Rann') }, body: PNG,
  });
  assert.equal(up.status, 201, up.text);
  await calm.check();
  await closeAll(calm.a, calm.b);
});

test('a JSON route refuses a body of another type (the cross-site form shape) and changes nothing', async () => {
  const calm = await bystanders('type');
  await claim('Tann', 'Tbo');
  const owned = roomId('typed');
  const made = await http(srv(), '/api/rooms', {
    method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...bearer(srv(), 'Tann') },
    body: JSON.stringify({ id: owned, title: 'Typed' }),
  });
  assert.equal(made.status, 201, `parameters are fine: ${made.text}`);
  const spam = roomId('formspam');
  const routes = [
    ['/api/names/claim', 'POST', '{"name":"Formclaim"}', {}],
    ['/api/names/release', 'POST', '{}', bearer(srv(), 'Tann')],
    ['/api/rooms', 'POST', JSON.stringify({ id: spam, title: 'Spam' }), bearer(srv(), 'Tann')],
    [`/api/rooms/${owned}`, 'PATCH', '{"title":"Defaced"}', bearer(srv(), 'Tann')],
    ['/api/dms', 'POST', '{"with":"Tbo"}', bearer(srv(), 'Tann')],
  ];
  for (const [path, method, body, auth] of routes) {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
      const headers = { ...auth };
      // No type at all, with a body: what a Blob without a type sends.
      const sent = type === null ? new Blob([body]) : body;
      if (type !== null) headers['content-type'] = type;
      const res = await http(srv(), path, { method, headers, body: sent });
      expectHttpError(res, 415, 'unsupported_type', `${method} ${path} as ${type}`);
      assert.match(res.json.error.message, /application\/json/);
    }
    await calm.check();
  }
  assert.equal(await isClaimed('Formclaim'), false);
  assert.equal(await isClaimed('Tann'), true);
  expectHttpError(await http(srv(), `/api/rooms/${spam}`), 404, 'not_found');
  assert.equal((await http(srv(), `/api/rooms/${owned}`)).json.room.title, 'Typed');
  assert.deepEqual((await http(srv(), '/api/dms', { headers: bearer(srv(), 'Tann') })).json.dms, []);
  // Routes without a JSON body are not checked: a confirm, a DELETE, an upload's own type.
  const confirm = await http(srv(), '/api/names/confirm', { method: 'POST', headers: bearer(srv(), 'Tann') });
  assert.equal(confirm.status, 200, confirm.text);
  await calm.check();
  await closeAll(calm.a, calm.b);
});

test('origins listed in ALLOWED_ORIGINS are accepted; others still are not', async (t) => {
  const server = await startServer({
    vars: { ...GENEROUS_LIMITS, ALLOWED_ORIGINS: ' https://partner.example ,http://app.partner.example:8080' },
  });
  t.after(() => server.stop());
  const room = roomId('partner');
  const a = await connect(server, room, 'Pann', { headers: { origin: 'https://partner.example' } });
  const b = await connect(server, room, 'Pbo', { headers: { origin: 'http://app.partner.example:8080' } });
  assert.ok((await a.say('from a partner page')).ack.seq > 0);
  assert.equal((await b.next('message')).message.text, 'from a partner page');
  const claimed = await http(server, '/api/names/claim', {
    method: 'POST', headers: { ...JSON_TYPE, origin: 'https://partner.example' }, body: '{"name":"Partnerclaim"}',
  });
  assert.equal(claimed.status, 201, claimed.text);
  for (const origin of [EVIL, 'https://partner.example:444', 'http://partner.example']) {
    const refused = await expectRefused(server, room, 'Pcy', { headers: { origin } });
    assert.equal(refused.status, 403, origin);
    const res = await http(server, '/api/names/claim', { method: 'POST', headers: { ...JSON_TYPE, origin }, body: '{"name":"Nope"}' });
    expectHttpError(res, 403, 'forbidden', origin);
  }
  const { ack, client_id } = await b.say('still here');
  assert.ok(ack.seq > 0);
  assert.equal((await a.nextMessage(client_id)).message.text, 'still here');
  await closeAll(a, b);
});

const POLICY = [
  ['content-security-policy', /frame-ancestors 'none'/],
  ['x-content-type-options', /^nosniff$/],
  ['referrer-policy', /^no-referrer$/],
  ['permissions-policy', /camera=\(\).*microphone=\(\)/],
  ['x-frame-options', /^DENY$/],
];

function expectPolicy(headers, what) {
  const get = (k) => (typeof headers.get === 'function' ? headers.get(k) : headers[k]);
  for (const [name, pattern] of POLICY) {
    assert.match(get(name) ?? '', pattern, `${what}: ${name}`);
  }
  assert.equal(get('strict-transport-security') ?? null, null, `${what}: no HSTS on http://127.0.0.1`);
}

test('every kind of answer carries the CSP and the other security headers', async () => {
  await claim('Hann');
  const room = roomId('headers');
  const up = await http(srv(), `/room/${room}/files?filename=dot.png`, {
    method: 'POST', headers: { 'content-type': 'image/png', ...bearer(srv(), 'Hann') }, body: PNG,
  });
  assert.equal(up.status, 201, up.text);
  const kinds = [
    ['the page', '/', 200],
    ['a script', '/app.js', 200],
    ['a style sheet', '/style.css', 200],
    ['a missing asset', '/no-such-page.html', 404],
    ['an API answer', '/api/rooms', 200],
    ['an API error', '/api/rooms/NOT%20VALID', 400],
    ['an unknown API route', '/api/nothing', 404],
    ['a file download', up.json.url, 200],
    ['a refused origin', '/api/names/claim', 403, { method: 'POST', headers: { origin: EVIL } }],
    ['a refused type', '/api/names/claim', 415, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
  ];
  const csp = {};
  for (const [what, path, status, init] of kinds) {
    const res = await http(srv(), path, init);
    assert.equal(res.status, status, `${what}: ${res.text.slice(0, 200)}`);
    expectPolicy(res.headers, what);
    csp[what] = res.headers.get('content-security-policy');
  }
  // The static list (public/_headers) and the Worker's are the same; files are sandboxed.
  assert.equal(csp['the page'], csp['an API answer']);
  assert.equal(csp['a missing asset'], csp['the page']);
  assert.doesNotMatch(csp['the page'], /unsafe-inline|unsafe-eval/);
  assert.match(csp['a file download'], /sandbox/);
  assert.match(csp['a file download'], /default-src 'none'/);
  // The rules file itself is not served.
  assert.equal((await http(srv(), '/_headers')).status, 404);
  // The socket's 101 carries them too.
  const upgraded = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${srv().wsUrl}/room/${room}?name=Hann`, { headers: bearer(srv(), 'Hann') });
    ws.once('upgrade', (res) => { resolve(res.headers); ws.terminate(); });
    ws.once('error', reject);
  });
  expectPolicy(upgraded, 'the socket upgrade');
});
