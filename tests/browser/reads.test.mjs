// Read state in the web UI: the room list shows how many messages you have not read in
// each room, and entering the room shows a "New messages" divider where they begin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('reads');
const room = roomId('reads');

/** Ann's unread count in the room, as the room list gives it to her token (Bearer). */
async function annUnread(page) {
  const token = await page.evaluate(() => localStorage.getItem('edgechat.token.ann'));
  const { rooms } = await (await fetch(`${ctx.server.url}/api/rooms`, { headers: { authorization: `Bearer ${token}` } })).json();
  return rooms.find((r) => r.id === room)?.unread;
}

const badge = (page) => page.$eval(`#rooms-list li[data-room="${room}"]`, (li) => li.querySelector('.unread-badge')?.textContent ?? null);

test('unread counts in the room list and a "New messages" divider where they begin', { timeout: 90_000 }, async () => {
  const { page } = ctx.person;
  const bo = await connect(ctx.server, room, 'Bo');
  await bo.say('before you came');
  await join(page, ctx.server, room, 'Ann');
  await confirmedMessage(page, 'before you came');
  assert.equal(await page.$$eval('.new-divider', (e) => e.length), 0, 'no divider on a first visit');
  await bo.next((f) => f.type === 'user_joined');
  // Ann has read it all once her page has been at the bottom for a moment.
  await eventually(async () => assert.equal(await annUnread(page), 0));

  await page.click('#leave-button');
  await page.waitForSelector('#landing', { state: 'visible' });
  for (const text of ['one', 'two', 'three']) await bo.say(text);
  await page.click('#rooms-refresh');
  await eventually(async () => assert.equal(await badge(page), '3'));

  await page.click(`#rooms-list li[data-room="${room}"] button`);
  await confirmedMessage(page, 'three');
  const order = await page.$$eval('#messages > li', (els) => els.map((e) => (e.classList.contains('new-divider')
    ? '--new--' : e.querySelector('.message-text')?.textContent ?? null)).filter(Boolean));
  assert.deepEqual(order.slice(-4), ['--new--', 'one', 'two', 'three']);
  assert.equal(order.indexOf('before you came') < order.indexOf('--new--'), true);

  // Seen now: the count is gone.
  await eventually(async () => assert.equal(await annUnread(page), 0));
  await page.click('#leave-button');
  await page.click('#rooms-refresh');
  await eventually(async () => assert.equal(await badge(page), null));
  await closeAll(bo);
});
