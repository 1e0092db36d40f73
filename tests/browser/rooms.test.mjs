// Rooms in the web UI: make a private room with a title and a description from the
// landing page, keep several rooms open in the rail, see an unread count on the room you
// are not in, switch back without losing what was loaded, and leave a room with ×. A room
// that exists cannot be made again: the form says so in the server's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/server.mjs';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('rooms');

const rail = (page) => page.$$eval('#open-rooms-list li', (els) => els.map((li) => ({
  room: li.dataset.room, current: li.classList.contains('current'),
  name: li.querySelector('.rail-name').textContent, unread: li.querySelector('.unread-badge')?.textContent ?? null,
})));

test('make a private room, keep two rooms open, see unread counts, switch back intact, leave one', { timeout: 120_000 }, async () => {
  const { page } = ctx.person;
  const lobby = roomId('lobby');
  await join(page, ctx.server, lobby, 'Ann');
  await typeAndSend(page, 'hello lobby');
  await confirmedMessage(page, 'hello lobby');
  const lobbySeq = await page.evaluate(() => window.edgechat.state.maxSeq);

  // Back to the landing page to make a private room.
  await page.click('#leave-button');
  await page.waitForSelector('#landing', { state: 'visible' });
  await page.click('.create-room summary');
  await page.fill('#create-title', 'Secret plans');
  await page.check('#create-private');
  assert.equal(await page.isDisabled('#create-id'), true, 'a private room needs no address');
  await page.fill('#create-description', 'Only for the people with the link');
  await page.click('#create-form button[type="submit"]');
  await eventually(async () => assert.equal(await page.textContent('#room-title'), 'Secret plans'));
  assert.equal(await page.textContent('#room-description'), 'Only for the people with the link');
  const secret = await page.evaluate(() => window.edgechat.state.room);
  assert.match(secret, /^p-[0-9a-f]{24}$/);
  assert.equal(await page.evaluate(() => location.hash), `#${secret}`, 'the address is the link to share');
  await eventually(async () => assert.match(await page.textContent('#toasts'), /Share its link/));

  // Both rooms are in the rail; the private one is current.
  await eventually(async () => assert.deepEqual((await rail(page)).map((r) => [r.room, r.current]), [[lobby, false], [secret, true]]));
  assert.equal((await rail(page))[1].name, 'Secret plans');

  // Someone speaks in the lobby: the rail counts it.
  const bo = await connect(ctx.server, lobby, 'Bo');
  await bo.say('news in the lobby');
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange'))); // poll now
  await eventually(async () => assert.equal((await rail(page)).find((r) => r.room === lobby).unread, '1'), { timeout: 20_000 });

  // Switching back shows what was loaded at once, then the new message.
  await page.click(`#open-rooms-list li[data-room="${lobby}"] .rail-room`);
  await eventually(async () => assert.equal(await page.evaluate(() => window.edgechat.state.room), lobby));
  assert.ok(await page.$(`#messages .message[data-seq="${lobbySeq}"]`), 'the lobby history was kept');
  await confirmedMessage(page, 'news in the lobby');
  assert.equal((await rail(page)).find((r) => r.room === lobby).unread, null);

  // Leave the private room from the rail: it goes away, the lobby stays.
  await page.click(`#open-rooms-list li[data-room="${secret}"] .rail-leave`);
  await eventually(async () => assert.deepEqual((await rail(page)).map((r) => r.room), [lobby]));
  assert.equal(await page.isHidden('#open-rooms'), true, 'one room needs no rail');
  // The landing page lists the lobby, with who is online, and not the private room.
  await page.click('#leave-button');
  await page.click('#rooms-refresh');
  await eventually(async () => {
    const ids = await page.$$eval('#rooms-list li', (els) => els.map((e) => e.dataset.room));
    assert.ok(ids.includes(lobby));
    assert.ok(!ids.includes(secret));
    assert.match(await page.textContent(`#rooms-list li[data-room="${lobby}"]`), /Bo: news in the lobby/);
  });
  assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
  await closeAll(bo);
});

test('making a room that exists shows the server\'s message in the form', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  const lobby = await page.$eval('#rooms-list li', (li) => li.dataset.room);
  const token = await page.evaluate(() => localStorage.getItem('edgechat.token.ann'));
  assert.match(token ?? '', /^[0-9a-f]{64}$/);
  // What the server says, asked directly with Ann's token.
  const direct = await http(ctx.server, '/api/rooms', {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: lobby, title: 'Taken', visibility: 'public' }),
  });
  assert.equal(direct.status, 409, direct.text);
  assert.equal(direct.json.error.code, 'room_exists');
  if (!(await page.isVisible('.create-form'))) await page.click('.create-room summary');
  await page.fill('#create-title', 'Lobby again');
  await page.fill('#create-id', lobby);
  await page.click('#create-form button[type="submit"]');
  await eventually(async () => assert.equal(await page.textContent('#create-error'), direct.json.error.message));
  assert.equal(await page.isVisible('#create-error'), true);
  assert.equal(await page.isVisible('#landing'), true, 'still on the landing page');
  assert.equal(await page.inputValue('#create-title'), 'Lobby again', 'what was typed is kept');
});

test('a new visitor makes a room from the landing page: the name is claimed first and owns it', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  await page.evaluate(() => localStorage.clear());
  await page.goto(ctx.server.url);
  await page.waitForSelector('#name-input', { state: 'visible' });
  await page.fill('#name-input', 'Newcomer');
  if (!(await page.isVisible('.create-form'))) await page.click('.create-room summary');
  const id = roomId('fresh');
  await page.fill('#create-title', 'Fresh start');
  await page.fill('#create-id', id);
  await page.click('#create-form button[type="submit"]');
  await eventually(async () => assert.equal(await page.textContent('#room-title'), 'Fresh start'));
  const token = await page.evaluate(() => localStorage.getItem('edgechat.token.newcomer'));
  assert.match(token ?? '', /^[0-9a-f]{64}$/, 'the name was claimed and kept');
  await eventually(async () => assert.equal(await page.evaluate(() => window.edgechat.state.room), id));
  // The server agrees: the claim is confirmed (it holds), and the room is Newcomer's.
  const watcher = await connect(ctx.server, id, 'Watcher');
  assert.equal(watcher.welcome.owner, 'Newcomer');
  const name = await http(ctx.server, '/api/names/Newcomer');
  assert.equal(name.json.claimed, true);
  await closeAll(watcher);
});
