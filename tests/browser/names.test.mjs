// Name claims in the web UI: joining claims the name (the token lands in localStorage),
// another browser with the same name is told on the join form that the name is claimed,
// a reload of the first rejoins with its token, and "Release name" frees the name so
// that the other browser can take it.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, closeOpenClients } from '../support/client.mjs';
import { ARTIFACTS, launchBrowser, newPerson, eventually, join, banner } from '../support/browser.mjs';

let server;
let browser;
let first;  // the browser that claims "Ann"
let second; // another browser (context) that wants the same name
const room = roomId('names');

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer({ vars: GENEROUS_LIMITS });
  browser = await launchBrowser();
  first = await newPerson(browser);
  second = await newPerson(browser);
}, { timeout: 120_000 });

after(async () => {
  await closeOpenClients();
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
}, { timeout: 60_000 });

afterEach(async (t) => {
  if (t.passed) return;
  for (const [who, p] of [['first', first], ['second', second]]) {
    if (!p) continue;
    const file = path.join(ARTIFACTS, `failed-names-${who}.png`);
    await p.page.screenshot({ path: file, fullPage: true }).catch(() => {});
    process.stderr.write(`\n----- ${who}'s browser log (screenshot: ${file}) -----\n${p.logs.slice(-50).join('\n')}\n`);
  }
});

const storedToken = (page, folded) => page.evaluate((k) => localStorage.getItem(`edgechat.token.${k}`), folded);

/** Fills the join form and submits it, without waiting for the chat. */
async function submitJoin(page, name, roomName) {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#name-input', { state: 'visible' });
  await page.fill('#name-input', name);
  await page.fill('#room-input', roomName);
  await page.click('#join-button');
}

async function roomUsers(roomName) {
  const res = await http(server, `/room/${roomName}/users`);
  return res.json.users.map((u) => u.name).sort();
}

test('joining claims the name; a second browser with it is refused on the join form; a reload rejoins', async () => {
  await join(first.page, server, room, 'Ann');
  const token = await eventually(async () => {
    const t = await storedToken(first.page, 'ann');
    assert.match(t ?? '', /^[0-9a-f]{64}$/, 'the token is kept under the folded name');
    return t;
  });
  assert.deepEqual((await http(server, '/api/names/Ann')).json, { name: 'Ann', claimed: true });

  // Another browser, another spelling, another room: the join form says why it cannot.
  await submitJoin(second.page, 'ANN', roomId('elsewhere'));
  await eventually(async () => {
    const state = await second.page.evaluate(() => ({
      landing: !document.getElementById('landing').hidden,
      error: document.getElementById('form-error').hidden ? null : document.getElementById('form-error').textContent,
      invalid: document.getElementById('name-input').hasAttribute('aria-invalid'),
    }));
    assert.equal(state.landing, true, `back on the join form: ${JSON.stringify(state)}`);
    assert.match(state.error ?? '', /the name "ANN" is claimed; connect from the browser that claimed it/, JSON.stringify(state));
    assert.equal(state.invalid, true, 'the name field is marked');
  }, { timeout: 15_000 });
  assert.equal(await storedToken(second.page, 'ann'), null);
  assert.deepEqual(await roomUsers(room), ['Ann']);

  // The first browser reloads: it rejoins with its token, and keeps the same token.
  await first.page.reload();
  await first.page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 });
  await eventually(async () => assert.equal((await banner(first.page)).shown, false, 'connected again'));
  assert.equal(await storedToken(first.page, 'ann'), token);
  const witness = await connect(server, room, 'Witness');
  assert.deepEqual(witness.welcome.users.map((u) => u.name).sort(), ['Ann', 'Witness']);
  await closeAll(witness);
});

test('"Release name" frees the name, forgets the token and returns to the join form; then the other browser takes it', async () => {
  const oldToken = await storedToken(first.page, 'ann');
  assert.ok(oldToken, 'the first test left a claim');
  await first.page.click('#release-button');
  await first.page.waitForSelector('#landing', { state: 'visible', timeout: 10_000 });
  await eventually(async () => {
    const notice = await first.page.$eval('#form-notice', (n) => (n.hidden ? null : n.textContent));
    assert.match(notice ?? '', /The name “Ann” is free again/);
  });
  assert.equal(await storedToken(first.page, 'ann'), null, 'the token is forgotten');
  assert.deepEqual((await http(server, '/api/names/Ann')).json, { name: 'Ann', claimed: false });
  await eventually(async () => assert.deepEqual(await roomUsers(room), [], 'the first browser left the room'));

  // The other browser can have it now, and gets its own token.
  await join(second.page, server, room, 'ANN');
  const token = await eventually(async () => {
    const t = await storedToken(second.page, 'ann');
    assert.match(t ?? '', /^[0-9a-f]{64}$/);
    return t;
  });
  assert.notEqual(token, oldToken);
  assert.deepEqual(await roomUsers(room), ['ANN']);
  const refused = await http(server, `/room/${room}?name=Ann&token=${oldToken}`);
  assert.equal(refused.status, 403, 'the released token is void');
});
