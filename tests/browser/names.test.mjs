// Name claims in the web UI: joining claims the name (the token lands in localStorage,
// and the browser confirms it kept it), another browser with the same name, or with a
// name that only looks like it, is told on the join form why it cannot have it, a reload
// of the first rejoins with its token, a token kept under the key of older versions still
// works, and "Release name" first says what releasing gives up, then frees the name so
// that the other browser can take it.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, closeOpenClients, tokenJar } from '../support/client.mjs';
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

/** The join form as a person sees it. */
const joinForm = (page) => page.evaluate(() => ({
  landing: !document.getElementById('landing').hidden,
  error: document.getElementById('form-error').hidden ? null : document.getElementById('form-error').textContent,
  invalid: document.getElementById('name-input').hasAttribute('aria-invalid'),
}));

async function roomUsers(roomName) {
  const res = await http(server, `/room/${roomName}/users`);
  return res.json.users.map((u) => u.name).sort();
}

test('joining claims the name; a second browser with it is refused on the join form; a reload rejoins', async () => {
  const confirms = [];
  first.page.on('request', (r) => { if (r.url().endsWith('/api/names/confirm')) confirms.push(r); });
  await join(first.page, server, room, 'Ann');
  const token = await eventually(async () => {
    const t = await storedToken(first.page, 'ann');
    assert.match(t ?? '', /^[0-9a-f]{64}$/, 'the token is kept under the folded name');
    return t;
  });
  assert.deepEqual((await http(server, '/api/names/Ann')).json, { name: 'Ann', claimed: true });
  // The browser told the server it kept the token, in a header, not in the URL.
  await eventually(() => assert.equal(confirms.length, 1, 'one confirmation'));
  assert.equal(confirms[0].method(), 'POST');
  assert.equal((await confirms[0].allHeaders()).authorization, `Bearer ${token}`);
  assert.equal((await confirms[0].response()).status(), 200, 'the server took the confirmation');

  // Another browser, another spelling, another room: the join form says why it cannot.
  await submitJoin(second.page, 'ANN', roomId('elsewhere'));
  await eventually(async () => {
    const state = await joinForm(second.page);
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

test('a name that only looks like a claimed one is refused with the server\'s reason on the join form', async () => {
  // "Аnn" with a Cyrillic А looks like "Ann": the server says which name it looks like.
  const lookalike = '\u0410nn';
  const refused = await http(server, `/room/${room}?name=${encodeURIComponent(lookalike)}`);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'name_taken', refused.text);
  await submitJoin(second.page, lookalike, room);
  await eventually(async () => {
    const state = await joinForm(second.page);
    assert.equal(state.landing, true, `back on the join form: ${JSON.stringify(state)}`);
    assert.equal(state.error, refused.json.error.message, 'the server\'s message, as it gave it');
    assert.equal(state.invalid, true, 'the name field is marked');
  }, { timeout: 15_000 });
  assert.match(refused.json.error.message, /Ann/, 'it names the name it looks like');
  assert.deepEqual(await roomUsers(room), ['Ann'], 'Ann is still alone in the room');
  assert.equal(await first.page.isVisible('#chat'), true, 'and still in it');
});

test('a token kept under the key of older versions (lowercase, not NFKC) is still found, and moved', async () => {
  // "Ｄａｎ" (fullwidth) is "Dan" to the server; older pages kept its token under "ｄａｎ".
  const wide = '\uff24\uff41\uff4e';
  const claimer = await connect(server, room, wide);
  const token = tokenJar(server).get(wide.toLowerCase());
  assert.match(token ?? '', /^[0-9a-f]{64}$/);
  await closeAll(claimer);
  const third = await newPerson(browser);
  try {
    await third.page.goto(`${server.url}/`);
    await third.page.evaluate(([k, t]) => localStorage.setItem(`edgechat.token.${k}`, t), [wide.toLowerCase(), token]);
    await join(third.page, server, room, wide);
    await eventually(async () => assert.ok((await roomUsers(room)).length === 2, 'admitted with the old token'));
    assert.equal(await storedToken(third.page, 'dan'), token, 'now kept under the folded key');
    assert.equal(await storedToken(third.page, wide.toLowerCase()), null, 'the old key is gone');
    await third.page.reload();
    await third.page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 });
    await eventually(async () => assert.equal((await banner(third.page)).shown, false, 'connected again with the moved token'));
  } finally {
    await third.context.close().catch(() => {});
  }
  await eventually(async () => assert.deepEqual(await roomUsers(room), ['Ann']));
});

/** What the release confirmation shows, or null while it is closed. */
const releaseDialog = (page) => page.evaluate(() => {
  const d = document.getElementById('release-dialog');
  return d.open ? { text: d.textContent.replace(/\s+/g, ' ').trim(), focused: document.activeElement?.id ?? null } : null;
});

test('"Release name" first says what releasing gives up; Cancel keeps the name', async () => {
  const token = await storedToken(first.page, 'ann');
  assert.ok(token, 'the first test left a claim');
  await first.page.click('#release-button');
  const shown = await eventually(async () => {
    const d = await releaseDialog(first.page);
    assert.ok(d, 'a confirmation opens');
    return d;
  });
  assert.match(shown.text, /Release the name “Ann”\?/);
  for (const given of [/direct messages/, /ownership and moderator roles of rooms/, /edit or delete the messages you sent/,
    /read positions/, /Anyone may then take the name/, /new person and inherits none of this/]) {
    assert.match(shown.text, given);
  }
  assert.equal(shown.focused, 'release-cancel', 'Cancel has the focus: Enter does no harm');
  await first.page.click('#release-cancel');
  await eventually(async () => assert.equal(await releaseDialog(first.page), null, 'closed'));
  assert.equal(await storedToken(first.page, 'ann'), token, 'the token is kept');
  assert.equal(await first.page.isVisible('#chat'), true, 'still in the room');
  assert.equal((await banner(first.page)).shown, false, 'still connected');
  assert.deepEqual((await http(server, '/api/names/Ann')).json, { name: 'Ann', claimed: true });
  assert.deepEqual(await roomUsers(room), ['Ann']);

  // From the keyboard: Escape closes it the same way, and the focus goes back to the button.
  await first.page.focus('#release-button');
  await first.page.keyboard.press('Enter');
  await eventually(async () => assert.ok(await releaseDialog(first.page)));
  await first.page.keyboard.press('Escape');
  await eventually(async () => assert.equal(await releaseDialog(first.page), null));
  assert.equal(await first.page.evaluate(() => document.activeElement?.id), 'release-button');
  assert.equal(await storedToken(first.page, 'ann'), token);
});

test('"Release name", confirmed, frees the name, forgets the token and returns to the join form; then the other browser takes it', async () => {
  const oldToken = await storedToken(first.page, 'ann');
  assert.ok(oldToken, 'the first test left a claim');
  await first.page.click('#release-button');
  await eventually(async () => assert.ok(await releaseDialog(first.page)));
  await first.page.click('#release-confirm');
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
  const refused = await http(server, `/room/${room}?name=Ann`, { headers: { authorization: `Bearer ${oldToken}` } });
  assert.equal(refused.status, 403, 'the released token is void');
});
