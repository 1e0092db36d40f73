// Tokens stay out of URLs: through a whole session (join, send, direct messages, an
// upload, leaving a direct message, a refused socket and its probe, making and editing a
// room, releasing the name) no request the page makes, and no WebSocket it opens, has the
// name's token in its address or a `token=` parameter. HTTP calls carry it as
// `Authorization: Bearer`, the socket as the subprotocol `edgechat.bearer.<token>`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/server.mjs';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const seen = { requests: [], sockets: [], handshakes: [] };
const ctx = useBrowserPerson('tokens', {
  prepare: async ({ page, context }) => {
    page.on('request', (r) => {
      seen.requests.push({ method: r.method(), url: r.url(), headers: r.allHeaders().catch(() => ({})) });
    });
    page.on('websocket', (ws) => seen.sockets.push(ws.url()));
    // The socket's handshake headers, as Chromium sends them.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => seen.handshakes.push(e.request));
  },
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

/** The requests so far whose method is `method` and whose path matches `path`. */
const made = (method, path) => seen.requests.filter((r) => r.method === method && path.test(new URL(r.url).pathname));

/** Each such request carried the token as Bearer (with `some`: at least one did, for
 *  requests also made before there was a token). */
async function assertBearer(method, path, token, what, { some = false } = {}) {
  const found = made(method, path);
  assert.ok(found.length > 0, `${what}: ${method} ${path} was made`);
  const auth = await Promise.all(found.map(async (r) => (await r.headers).authorization));
  if (some) assert.ok(auth.includes(`Bearer ${token}`), `${what}: ${JSON.stringify(auth)}`);
  else for (const [i, a] of auth.entries()) assert.equal(a, `Bearer ${token}`, `${what}: ${found[i].url}`);
}

test('no URL the page uses carries the token; every call that needs it has it in a header', { timeout: 150_000 }, async () => {
  const { page } = ctx.person;
  const lobby = roomId('tok-lobby');
  const guarded = roomId('tok-guarded');
  await join(page, ctx.server, lobby, 'Ann');
  const token = await eventually(async () => {
    const t = await page.evaluate(() => localStorage.getItem('edgechat.token.ann'));
    assert.match(t ?? '', /^[0-9a-f]{64}$/);
    return t;
  });
  await eventually(() => assert.equal(made('POST', /^\/api\/names\/confirm$/).length, 1, 'the claim is confirmed'));
  await typeAndSend(page, 'hello from Ann');
  await confirmedMessage(page, 'hello from Ann');

  // A direct message with Bo, opened from the people list, with a file in it.
  const bo = await connect(ctx.server, lobby, 'Bo');
  await page.click('#users li[data-name="Bo"] button.user-dm');
  await eventually(async () => assert.equal(await page.textContent('#room-title'), '@Bo'));
  const dm = await page.evaluate(() => window.edgechat.state.room);
  assert.match(dm, /^dm--[0-9a-f]{40}$/);
  await eventually(async () => assert.equal(await page.isVisible('#dm-leave-button'), true, 'a direct message can be left'));
  assert.equal(await page.evaluate(() => window.edgechat.state.role), null, 'nobody moderates a direct message');
  assert.equal(await page.isHidden('#room-roles'), true, 'and it has no owner');
  assert.equal(await page.isHidden('#room-edit-button'), true);
  await typeAndSend(page, 'just us');
  await confirmedMessage(page, 'just us');
  await page.fill('#message-input', 'a dot');
  await page.setInputFiles('#file-input', { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
  await confirmedMessage(page, 'a dot');
  await eventually(async () => assert.equal(await page.$$eval('#messages .attachment-image img', (i) => i.length), 1));

  // Leave the direct message from its header: back to the lobby, and off the list.
  await page.click('#dm-leave-button');
  await eventually(async () => assert.equal(await page.evaluate(() => window.edgechat.state.room), lobby));
  await eventually(async () => assert.match(await page.textContent('#toasts'), /You left @Bo/));
  assert.deepEqual(await page.$$eval('#open-rooms-list li', (els) => els.map((e) => e.dataset.room)), [lobby]);
  await page.click('#leave-button');
  await page.waitForSelector('#landing', { state: 'visible' });
  await page.click('#rooms-refresh');
  await eventually(async () => assert.ok((await page.$$eval('#rooms-list li', (e) => e.map((x) => x.dataset.room))).includes(lobby)));
  assert.equal(await page.$$eval(`#dms-list li[data-room="${dm}"]`, (e) => e.length), 0, 'the direct message left the list');

  // A refused socket: Owen owns #guarded and bans Ann; her rejoin is refused, and the
  // page asks why over plain HTTP (with the token in a header).
  const owen = await connect(ctx.server, guarded, 'Owen');
  await join(page, ctx.server, guarded, 'Ann');
  owen.send({ type: 'ban', name: 'Ann', minutes: 5 });
  await page.waitForSelector('#landing', { state: 'visible', timeout: 10_000 });
  await page.click('#join-button');
  await eventually(async () => assert.match(await page.textContent('#form-error'), /banned from this room by Owen/), { timeout: 15_000 });
  await closeAll(owen);

  // Make a public room; its owner edits it.
  const team = roomId('tok-team');
  await page.fill('#room-input', '');
  await page.click('.create-room summary');
  await page.fill('#create-title', 'Team');
  await page.fill('#create-id', team);
  await page.click('#create-form button[type="submit"]');
  await eventually(async () => assert.equal(await page.textContent('#room-title'), 'Team'));
  await eventually(async () => assert.equal(await page.isVisible('#room-edit-button'), true, 'the maker owns the room'));
  await page.click('#room-edit-button');
  await page.fill('#room-edit-title', 'Team room');
  await page.click('#room-edit-form button[type="submit"]');
  await eventually(async () => assert.equal(await page.textContent('#room-title'), 'Team room'));

  // Release the name.
  await page.click('#release-button');
  await page.click('#release-confirm');
  await page.waitForSelector('#landing', { state: 'visible' });
  await eventually(async () => assert.match(await page.textContent('#form-notice'), /The name “Ann” is free again/));
  assert.deepEqual((await http(ctx.server, '/api/names/Ann')).json, { name: 'Ann', claimed: false });

  // Nowhere in an address.
  const urls = [...seen.requests.map((r) => r.url), ...seen.sockets];
  assert.ok(seen.sockets.length >= 4, `sockets were opened: ${seen.sockets.join(' ')}`);
  for (const url of urls) {
    assert.ok(!url.includes(token), `the token is in ${url}`);
    assert.ok(!/[?&]token=/i.test(url), `a token= parameter in ${url}`);
  }
  // In the headers of the calls that need it.
  await assertBearer('POST', /^\/api\/names\/confirm$/, token, 'the confirmation');
  await assertBearer('POST', /^\/api\/dms$/, token, 'opening a direct message');
  await assertBearer('GET', /^\/api\/dms$/, token, 'the list of direct messages');
  await assertBearer('DELETE', /^\/api\/dms\/dm--[0-9a-f]{40}$/, token, 'leaving a direct message');
  await assertBearer('POST', /^\/room\/dm--[0-9a-f]{40}\/files$/, token, 'the upload');
  await assertBearer('GET', /^\/api\/rooms$/, token, 'the room list (unread counts)', { some: true });
  await assertBearer('GET', new RegExp(`^/room/${guarded}$`), token, 'the probe after a refused socket');
  await assertBearer('POST', /^\/api\/rooms$/, token, 'making a room');
  await assertBearer('PATCH', new RegExp(`^/api/rooms/${team}$`), token, 'editing the room');
  await assertBearer('GET', new RegExp(`^/api/rooms/${team}$`), token, 'the room\'s info');
  await assertBearer('POST', /^\/api\/names\/release$/, token, 'the release');
  // The sockets opened after the claim offered it as a subprotocol beside `edgechat`.
  const offered = seen.handshakes.map((req) => {
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return headers['sec-websocket-protocol'] ?? '';
  });
  assert.equal(offered[0], 'edgechat', 'the first connect had no token yet');
  assert.ok(offered.slice(1).some((p) => p === `edgechat, edgechat.bearer.${token}`), `offered: ${offered.join(' | ')}`);
  // A connect whose token the server checked earned a pass (kept beside the token), and
  // later connects offered it too: a subprotocol, never a URL.
  const PASS = 'edgechat\\.pass\\.v1\\.[0-9a-f]+\\.[0-9]+\\.[0-9a-f]{64}';
  for (const p of offered) assert.match(p, new RegExp(`^edgechat(, edgechat\\.bearer\\.[0-9a-f]{64}(, ${PASS})?)?$`));
  const passes = offered.map((p) => p.split(', ')[2]).filter(Boolean).map((p) => p.slice('edgechat.pass.'.length));
  assert.ok(passes.length > 0, `a later connect offered a pass: ${offered.join(' | ')}`);
  for (const pass of passes) {
    assert.deepEqual(urls.filter((u) => u.includes(pass)), [], 'no URL carries a pass');
  }
  await closeAll(bo);
  assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
});
