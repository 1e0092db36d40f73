// Claim passes in the web UI: a rejoin whose token the server checked leaves a pass in
// localStorage beside the token; when the name is released elsewhere and someone else
// claims it, the page's next connect (admitted by the old pass) is closed with 4003, the
// page drops the pass, and its reconnect is refused on the join form like any claimed
// name. The new holder stays the only one of that name and keeps chatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/server.mjs';
import { connect, roomId, closeAll, cid } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, banner } from '../support/browser.mjs';

const ctx = useBrowserPerson('passes');

const stored = (page, prefix, key) => page.evaluate(([p, k]) => localStorage.getItem(`${p}${k}`), [prefix, key]);

test('a rejoin keeps a pass; a pass of a name released and reclaimed elsewhere is dropped on 4003 and the page is told', { timeout: 90_000 }, async () => {
  const { page } = ctx.person;
  const server = ctx.server;
  const name = `Pia${Date.now().toString(36).slice(-5)}`;
  const key = name.toLowerCase();
  const room = roomId('ui-pass');
  await join(page, server, room, name);
  const token = await eventually(async () => {
    const t = await stored(page, 'edgechat.token.', key);
    assert.match(t ?? '', /^[0-9a-f]{64}$/);
    return t;
  });
  assert.equal(await stored(page, 'edgechat.pass.', key), null, 'a first visit (a pending claim) gets no pass');

  // A reload rejoins with the token, which the server checks in D1: a pass comes back.
  await page.reload();
  await page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 });
  const kept = await eventually(async () => {
    const raw = await stored(page, 'edgechat.pass.', key);
    assert.ok(raw, 'a pass is kept');
    const pass = JSON.parse(raw);
    assert.match(pass.pass, /^v1\.[0-9a-f]+\.[0-9]+\.[0-9a-f]{64}$/);
    assert.ok(pass.expires_at > Date.now());
    return pass;
  });

  // Elsewhere (another device with the token), the name is released; someone else claims it.
  const released = await http(server, '/api/names/release', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(released.status, 200, released.text);
  const newcomer = await connect(server, room, name, { token: null });

  // The page reconnects: its pass opens a socket that the room closes (4003) once the
  // claim is found gone; the page drops the pass and, refused with its token, is told.
  await page.reload();
  await eventually(async () => {
    assert.equal(await stored(page, 'edgechat.pass.', key), null, 'the pass is dropped');
    const form = await page.evaluate(() => ({
      landing: !document.getElementById('landing').hidden,
      error: document.getElementById('form-error').hidden ? null : document.getElementById('form-error').textContent,
    }));
    assert.equal(form.landing, true, `back on the join form: ${JSON.stringify(form)} ${JSON.stringify(await banner(page))}`);
    assert.match(form.error ?? '', /is claimed/, JSON.stringify(form));
  }, { timeout: 30_000 });
  assert.notEqual(kept.pass, null);

  // The new holder is unharmed: the only one of the name, still sending.
  const id = cid('still');
  newcomer.send({ type: 'send', text: 'still mine', client_id: id });
  await newcomer.nextAck(id);
  const users = (await http(server, `/room/${room}/users`)).json.users.map((u) => u.name);
  assert.deepEqual(users.filter((n) => n === name), [name]);
  await closeAll(newcomer);
});
