// Scrolling up through a long history in the web UI: older pages load as the reader
// reaches the top, in order, without doubles, until the first message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeOpenClients } from '../support/client.mjs';
import { ARTIFACTS, launchBrowser, newPerson, join, shownMessages, eventually } from '../support/browser.mjs';

const TOTAL = 130; // the welcome carries 50; two more pages of 50 and 30 follow

let server;
let browser;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer({ vars: GENEROUS_LIMITS });
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await closeOpenClients();
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
}, { timeout: 60_000 });

test('scrolling up loads older pages until the first message, each message once and in order', { timeout: 120_000 }, async () => {
  const room = roomId('scroll');
  const writer = await connect(server, room, 'Writer');
  for (let i = 1; i <= TOTAL; i++) await writer.say(`message ${i}`);

  const reader = await newPerson(browser);
  const { page } = reader;
  await join(page, server, room, 'Reader');
  await eventually(async () => assert.equal((await shownMessages(page)).length, 50, 'the welcome shows the newest 50'));
  assert.equal((await shownMessages(page))[0].text.trim(), `message ${TOTAL - 49}`);

  // Scroll up with the mouse wheel, as a person would, until the first message shows.
  const box = await page.locator('#scroller').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await eventually(async () => {
    await page.mouse.wheel(0, -5000);
    const shown = await shownMessages(page);
    assert.equal(shown[0]?.text.trim(), 'message 1', `scrolled to the first message (${shown.length} shown)`);
  }, { timeout: 30_000, interval: 300 });

  const shown = await shownMessages(page);
  assert.deepEqual(shown.map((m) => Number(m.seq)), Array.from({ length: TOTAL }, (_, i) => i + 1), 'every seq once, in order');
  assert.deepEqual(shown.map((m) => m.text.trim()), Array.from({ length: TOTAL }, (_, i) => `message ${i + 1}`));
  await page.screenshot({ path: path.join(ARTIFACTS, 'history-scrolled-to-top.png') });
  assert.deepEqual(reader.logs.filter((l) => l.startsWith('[pageerror]')), []);
  await reader.context.close();
  await writer.close();
});
