// The web UI under issue 10's limits: the room list shows its first page and a "More
// rooms" button for the next (rooms with messages first), and the search panel says a
// query is too short instead of sending it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GENEROUS_LIMITS, http } from '../support/server.mjs';
import { connect, roomId, closeAll, bearer } from '../support/client.mjs';
import { ARTIFACTS, useBrowserAndServer, newPerson, join, eventually } from '../support/browser.mjs';

const ctx = useBrowserAndServer({ vars: GENEROUS_LIMITS });

test('the room list pages with "More rooms", rooms with messages first', async () => {
  const room = roomId('talked');
  const ann = await connect(ctx.server, room, 'Ann');
  await ann.say('a real conversation');
  const made = [];
  for (let i = 0; i < 104; i++) {
    const id = roomId(`empty${i}`);
    const res = await http(ctx.server, '/api/rooms', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(ctx.server, 'Ann') },
      body: JSON.stringify({ id, title: `Empty ${i}` }),
    });
    assert.equal(res.status, 201, res.text);
    made.push(id);
  }
  const { page, logs } = await newPerson(ctx.browser);
  await page.goto(`${ctx.server.url}/`);
  const listed = () => page.$$eval('#rooms-list li', (items) => items.map((li) => li.dataset.room));
  await eventually(async () => assert.equal((await listed()).length, 100));
  assert.equal((await listed())[0], room, 'the room people talk in comes first');
  await page.waitForSelector('.rooms-more', { state: 'visible' });
  await page.screenshot({ path: path.join(ARTIFACTS, 'quotas-room-list.png') });
  await page.click('.rooms-more');
  await eventually(async () => assert.equal((await listed()).length, 105));
  const all = await listed();
  assert.equal(new Set(all).size, all.length, 'each room once');
  for (const id of made) assert.ok(all.includes(id), id);
  assert.ok(await page.isHidden('.rooms-more'), 'no button at the end of the list');
  assert.deepEqual(logs.filter((l) => /pageerror|console\.error/.test(l)), []);
  await closeAll(ann);
});

test('the search panel asks for 3 characters instead of sending a shorter query', async () => {
  const room = roomId('short');
  const { page } = await newPerson(ctx.browser);
  const searches = [];
  page.on('request', (r) => { if (r.url().includes('/api/search')) searches.push(r.url()); });
  await join(page, ctx.server, room, 'Bo');
  await page.click('#search-toggle');
  await page.fill('#search-input', 'ab');
  await page.press('#search-input', 'Enter');
  await eventually(async () => assert.equal(await page.textContent('#search-status'), 'Type at least 3 characters to search.'));
  await page.waitForTimeout(500); // the debounced search too
  assert.deepEqual(searches, []);
  await page.fill('#search-input', 'abc');
  await page.press('#search-input', 'Enter');
  await eventually(async () => assert.equal(await page.textContent('#search-status'), 'Nothing found in #' + room + '.'));
  assert.ok(searches.length >= 1);
});
