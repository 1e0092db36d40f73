// Searching in the web UI: results with <mark>ed hits built from text, a click that opens
// another room far back in its history with the message highlighted among its neighbours,
// newer and older pages that still load by scrolling, and the way back to the live end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId } from '../support/client.mjs';
import { ARTIFACTS, useBrowserAndServer, newPerson, join, shownMessages, eventually } from '../support/browser.mjs';

const TOTAL = 200;
const TARGET = 30; // far beyond the newest 50 the welcome shows

const ctx = useBrowserAndServer({ vars: GENEROUS_LIMITS });

/** A room of TOTAL messages; message TARGET says `needle` (and some markup). */
async function longRoom(prefix, needle) {
  const room = roomId(prefix);
  const writer = await connect(ctx.server, room, 'Writer');
  const texts = Array.from({ length: TOTAL }, (_, i) => `message ${i + 1}`);
  texts[TARGET - 1] = `message ${TARGET}: the <b>${needle}</b> is here`;
  await writer.sayMany(texts);
  return { room, writer };
}

async function searchFor(page, q, scope) {
  if (await page.isHidden('#search-panel')) await page.click('#search-toggle');
  await page.selectOption('#search-scope', scope);
  await page.fill('#search-input', q);
  await page.press('#search-input', 'Enter');
}

/** The results the panel shows. */
function shownResults(page) {
  return page.$$eval('#search-results li', (items) => items.map((li) => ({
    room: li.dataset.room,
    seq: Number(li.dataset.seq),
    meta: li.querySelector('.search-result-meta').textContent,
    snippet: li.querySelector('.search-snippet').textContent,
    marks: [...li.querySelectorAll('.search-snippet mark')].map((m) => m.textContent),
    elements: [...li.querySelectorAll('.search-snippet *')].map((e) => e.tagName),
  })));
}

/** The highlighted message and whether it is in view. */
function jumpTarget(page) {
  return page.evaluate(() => {
    const targets = [...document.querySelectorAll('#messages .message.jump-target')];
    if (targets.length !== 1) return { count: targets.length };
    const box = targets[0].getBoundingClientRect();
    const view = document.getElementById('scroller').getBoundingClientRect();
    return {
      count: 1,
      seq: Number(targets[0].dataset.seq),
      inView: box.top >= view.top && box.bottom <= view.bottom,
      background: getComputedStyle(targets[0]).backgroundColor,
    };
  });
}

test('a result in another room opens it far back, highlighted, and both directions still load', { timeout: 180_000 }, async () => {
  const needle = 'zebrafinch';
  const { room, writer } = await longRoom('search-far', needle);
  const reader = await newPerson(ctx.browser);
  const { page } = reader;
  const home = roomId('search-home');
  await join(page, ctx.server, home, 'Reader');

  await searchFor(page, 'ZEBRAF', 'all');
  const results = await eventually(async () => {
    const shown = await shownResults(page);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    return shown;
  });
  assert.equal(results[0].room, room);
  assert.equal(results[0].seq, TARGET);
  assert.match(results[0].meta, new RegExp(`#${room}.*Writer`));
  assert.deepEqual(results[0].marks, [needle], 'the hit is marked, as written');
  assert.deepEqual(results[0].elements, ['MARK'], 'no element from the message markup');
  assert.match(results[0].snippet, /the <b>zebrafinch<\/b> is here/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'search-results.png') });

  await page.click('#search-results li button');
  await eventually(async () => {
    assert.equal(await page.evaluate(() => location.hash), `#${room}`);
    const target = await jumpTarget(page);
    assert.equal(target.count, 1, JSON.stringify(target));
    assert.equal(target.seq, TARGET);
    assert.ok(target.inView, 'scrolled into view');
    assert.notEqual(target.background, 'rgba(0, 0, 0, 0)', 'visibly highlighted');
  });
  const around = (await shownMessages(page)).map((m) => Number(m.seq));
  for (const seq of [TARGET - 2, TARGET - 1, TARGET + 1, TARGET + 2]) {
    assert.ok(around.includes(seq), `neighbour ${seq} is shown: ${around}`);
  }
  assert.ok(!around.includes(TOTAL), 'the newest messages are not loaded yet');
  assert.equal(await page.textContent('#jump-button'), 'Latest messages');
  assert.equal(await page.$$eval('#jump-button svg', (s) => s.length), 1, 'its arrow is an inline SVG');
  await page.screenshot({ path: path.join(ARTIFACTS, 'search-jumped.png') });

  // Scrolling down loads the newer messages up to the live end, scrolling up the older ones.
  const box = await page.locator('#scroller').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await eventually(async () => {
    await page.mouse.wheel(0, 5000);
    const shown = await shownMessages(page);
    assert.equal(shown[shown.length - 1]?.seq, String(TOTAL), `reached the newest (${shown.length} shown)`);
  }, { timeout: 30_000, interval: 300 });
  await eventually(async () => {
    await page.mouse.wheel(0, -5000);
    const shown = await shownMessages(page);
    assert.equal(shown[0]?.seq, '1', `reached the first (${shown.length} shown)`);
  }, { timeout: 30_000, interval: 300 });
  const shown = await shownMessages(page);
  assert.deepEqual(shown.map((m) => Number(m.seq)), Array.from({ length: TOTAL }, (_, i) => i + 1), 'every seq once, in order');

  // Live messages still arrive.
  await writer.say('live after the jump');
  await eventually(async () => {
    const last = (await shownMessages(page)).at(-1);
    assert.equal(last.text.trim(), 'live after the jump');
    assert.equal(last.seq, String(TOTAL + 1));
  });
  assert.deepEqual(reader.logs.filter((l) => l.startsWith('[pageerror]')), []);
  await reader.context.close();
  await writer.close();
});

test('a result far back in this room: jump, then back to the latest with live messages', { timeout: 180_000 }, async () => {
  const needle = 'quokkasong';
  const { room, writer } = await longRoom('search-here', needle);
  const other = roomId('search-other');
  const elsewhere = await connect(ctx.server, other, 'Other');
  await elsewhere.say(`${needle} in another room`);

  const reader = await newPerson(ctx.browser);
  const { page } = reader;
  await join(page, ctx.server, room, 'Reader2');
  await eventually(async () => assert.equal((await shownMessages(page)).length, 50));

  await searchFor(page, needle, 'room');
  await eventually(async () => {
    const shown = await shownResults(page);
    assert.deepEqual(shown.map((r) => [r.room, r.seq]), [[room, TARGET]], 'only this room');
  });
  await searchFor(page, needle, 'all');
  await eventually(async () => {
    const shown = await shownResults(page);
    assert.deepEqual(shown.map((r) => r.room).sort(), [other, room].sort(), 'every room');
  });

  await page.click(`#search-results li[data-room="${room}"] button`);
  await eventually(async () => {
    const target = await jumpTarget(page);
    assert.equal(target.seq, TARGET, JSON.stringify(target));
    assert.ok(target.inView);
  });
  assert.equal(await page.evaluate(() => location.hash), `#${room}`, 'still in this room');

  // A live message while reading old history: the button brings back the live end.
  await writer.say('news from now');
  await page.waitForSelector('#jump-button:not([hidden])');
  await page.click('#jump-button');
  await eventually(async () => {
    const shown = await shownMessages(page);
    assert.equal(shown.at(-1).text.trim(), 'news from now');
    assert.equal(shown.length, 50, 'the newest page');
    assert.ok(!shown.some((m) => Number(m.seq) === TARGET), 'the old window is gone');
    assert.equal(await page.isHidden('#jump-button'), true);
  });
  await writer.say('and one more');
  await eventually(async () => assert.equal((await shownMessages(page)).at(-1).text.trim(), 'and one more'));
  assert.deepEqual(reader.logs.filter((l) => l.startsWith('[pageerror]')), []);
  await reader.context.close();
  await writer.close();
  await elsewhere.close();
});
