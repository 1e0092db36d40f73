// Room export in the web UI: the room's owner has "Export" in the chat header, with JSON
// lines and Markdown; a click fetches the history with the name's token in a header and
// saves it as a download named by the server. Someone who does not own the room has no
// Export; in a direct message both parties do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { http } from '../support/server.mjs';
import { connect, roomId, closeAll, sleep } from '../support/client.mjs';
import { useBrowserPerson, newPerson, ARTIFACTS, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('export');
const room = roomId('export');

const exportShown = (page) => page.$eval('#export-menu', (m) => !m.hidden && m.getBoundingClientRect().width > 0);

/** Opens the Export menu, clicks a format and returns the download's name and text. */
async function exportAs(page, label) {
  await page.click('#export-toggle');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 15_000 }),
    page.click(`.export-options button:has-text("${label}")`),
  ]);
  const file = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(file, 'utf8') };
}

test('the owner clicks Export and downloads the whole history as JSON lines and as Markdown', { timeout: 120_000 }, async () => {
  const ann = ctx.person.page;
  const requests = [];
  ann.on('request', (r) => { if (new URL(r.url()).pathname.endsWith('/export')) requests.push({ url: r.url(), auth: r.headers().authorization }); });
  await join(ann, ctx.server, room, 'Ann'); // the first claim in the room owns it
  await eventually(async () => assert.equal(await exportShown(ann), true, 'the owner sees Export'));
  const bo = await connect(ctx.server, room, 'Bo');
  await typeAndSend(ann, 'first from Ann');
  await confirmedMessage(ann, 'first from Ann');
  await bo.say('then Bo');
  await typeAndSend(ann, 'last one');
  await confirmedMessage(ann, 'last one');
  // The export reads D1, which the room writes right after each message.
  await eventually(async () => {
    const page = await http(ctx.server, `/room/${room}/messages`);
    assert.equal(page.json.messages.length, 3);
  });

  const jsonl = await exportAs(ann, 'JSON lines');
  assert.equal(jsonl.name, `edgechat-${room}.jsonl`);
  const lines = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((m) => [m.seq, m.name, m.text]), [
    [1, 'Ann', 'first from Ann'], [2, 'Bo', 'then Bo'], [3, 'Ann', 'last one'],
  ]);

  const md = await exportAs(ann, 'Markdown');
  assert.equal(md.name, `edgechat-${room}.md`);
  assert.match(md.text, new RegExp(`^# Room ${room}\\n`));
  assert.match(md.text, /\*\*Ann\*\* · [^\n]* · #1\n> first from Ann\n\n\*\*Bo\*\* · [^\n]* · #2\n> then Bo\n\n\*\*Ann\*\* · [^\n]* · #3\n> last one\n/);

  // The token went in a header, never in the URL.
  assert.equal(requests.length, 2);
  for (const r of requests) {
    assert.match(r.auth ?? '', /^Bearer [0-9a-f]{64}$/);
    assert.doesNotMatch(r.url, /token|Bearer/);
  }
  assert.equal(await ann.$eval('#export-menu', (m) => m.open), false, 'the menu closes after a download');

  // On a phone the menu opens inside the screen.
  await ann.setViewportSize({ width: 360, height: 720 });
  await ann.click('#export-toggle');
  const box = await ann.$eval('.export-options', (o) => { const r = o.getBoundingClientRect(); return { left: r.left, right: r.right, width: r.width }; });
  assert.ok(box.width > 0 && box.left >= 0 && box.right <= 360, `the menu fits 360 px: ${JSON.stringify(box)}`);
  await ann.screenshot({ path: path.join(ARTIFACTS, 'export-menu-360.png') });
  await ann.click('#export-toggle');
  await ann.setViewportSize({ width: 1100, height: 800 });
  await closeAll(bo);
});

test('someone who does not own the room has no Export; a failed export says why', { timeout: 120_000 }, async () => {
  const bo = await newPerson(ctx.browser);
  try {
    await join(bo.page, ctx.server, room, 'Bo2');
    await sleep(500); // the welcome's roles have arrived
    assert.equal(await exportShown(bo.page), false);
    // Forced open anyway, the server refuses it and the page shows its words.
    await bo.page.evaluate(() => { document.getElementById('export-menu').hidden = false; });
    await bo.page.click('#export-toggle');
    await bo.page.click('.export-options button:has-text("Markdown")');
    await eventually(async () => {
      const toasts = await bo.page.$$eval('.toast', (ts) => ts.map((t) => t.textContent));
      assert.ok(toasts.some((t) => /only the room's owner can export/.test(t)), JSON.stringify(toasts));
    });
  } finally {
    await bo.context.close();
  }
});
