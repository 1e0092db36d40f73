// The people list over presence 2 in a real browser: the count ("N online"), people
// joining, leaving and changing status (coalesced `presence` frames), typing, and above
// a lowered PRESENCE_LIST_MAX the first page with "Show more" loading the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { ARTIFACTS, useBrowserAndServer, newPerson, eventually, join } from '../support/browser.mjs';

const LIST_MAX = 5;
const ctx = useBrowserAndServer({ vars: { ...GENEROUS_LIMITS, PRESENCE_LIST_MAX: String(LIST_MAX) } });

/** What the people panel shows: the names listed, the "N online" line, "Show more". */
const people = (page) => page.evaluate(() => ({
  names: [...document.querySelectorAll('#users li[data-name]')].map((li) => li.dataset.name),
  statuses: Object.fromEntries([...document.querySelectorAll('#users li[data-name]')]
    .map((li) => [li.dataset.name, li.dataset.status])),
  online: document.querySelector('#users-online').textContent,
  count: document.querySelector('#users-count').textContent,
  more: !document.querySelector('#users-more').hidden,
}));

const systemLines = (page) => page.$$eval('#messages .system-line', (els) => els.map((e) => e.textContent.trim()));

test('the people list counts, and shows people joining, changing status, typing and leaving', async () => {
  const room = roomId('people2');
  const person = await newPerson(ctx.browser);
  const { page } = person;
  const others = [];
  try {
    const first = await connect(ctx.server, room, 'Early');
    others.push(first);
    await join(page, ctx.server, room, 'Viewer');
    await eventually(async () => {
      const p = await people(page);
      assert.deepEqual(p.names, ['Viewer', 'Early']);
      assert.equal(p.online, '2 online');
      assert.equal(p.count, '2');
      assert.equal(p.more, false);
    });

    // Two join together (one tick): both are listed and counted.
    others.push(...await Promise.all(['Bea', 'Cy'].map((name) => connect(ctx.server, room, name))));
    await eventually(async () => {
      const p = await people(page);
      assert.deepEqual(p.names, ['Viewer', 'Bea', 'Cy', 'Early']);
      assert.equal(p.online, '4 online');
    });
    await eventually(async () => {
      const lines = await systemLines(page);
      assert.ok(lines.some((l) => l.includes('Bea joined')) && lines.some((l) => l.includes('Cy joined')), JSON.stringify(lines));
    });

    // A status, typing, a leave.
    others[1].send({ type: 'status', status: 'away' });
    others[2].send({ type: 'typing', on: true });
    await eventually(async () => assert.equal((await people(page)).statuses.Bea, 'away'));
    await eventually(async () => assert.match(await page.textContent('#typing'), /Cy is typing/));
    await others[2].close();
    await eventually(async () => {
      const p = await people(page);
      assert.deepEqual(p.names, ['Viewer', 'Bea', 'Early']);
      assert.equal(p.online, '3 online');
    });
    await eventually(async () => assert.equal(await page.textContent('#typing'), ''), { timeout: 5000 });
    assert.ok((await systemLines(page)).some((l) => l.includes('Cy left')));

    // The list still offers direct messages.
    assert.equal(await page.$$eval('#users li[data-name="Bea"] button.user-dm', (e) => e.length), 1);
  } finally {
    await page.screenshot({ path: path.join(ARTIFACTS, 'presence2-people.png'), fullPage: true }).catch(() => {});
    await closeAll(...others);
    await person.context.close().catch(() => {});
  }
});

test('above PRESENCE_LIST_MAX the list shows its first page and "Show more" loads the rest', async () => {
  const room = roomId('crowd2');
  const person = await newPerson(ctx.browser);
  const { page } = person;
  const names = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const crowd = [];
  try {
    for (let i = 0; i < names.length; i += 10) {
      crowd.push(...await Promise.all(names.slice(i, i + 10).map((name) => connect(ctx.server, room, name))));
    }
    await join(page, ctx.server, room, 'Zoe'); // last by name: not on the first page
    let first;
    await eventually(async () => {
      first = await people(page);
      assert.equal(first.online, '61 online');
      assert.equal(first.count, '61');
      assert.equal(first.more, true, 'Show more is offered');
      assert.ok(first.names.length > 1, 'the first page came');
    });
    assert.equal(first.names[0], 'Zoe', 'ourselves first');
    assert.deepEqual(first.names.slice(1), names.slice(0, first.names.length - 1), 'the first page, in order');
    assert.ok(first.names.length < 61, `a first page only: ${first.names.length}`);

    // "Show more" until everyone is listed, once each.
    for (let i = 0; i < 5 && (await people(page)).more; i++) {
      const before = (await people(page)).names.length;
      await page.click('#users-more');
      await eventually(async () => {
        const p = await people(page);
        assert.ok(p.names.length > before || !p.more, `more names after Show more (${before})`);
      });
    }
    const all = await people(page);
    assert.equal(all.more, false, 'no more to show');
    assert.deepEqual(all.names, ['Zoe', ...names]);
    assert.equal(new Set(all.names).size, 61);

    // Only the count follows now.
    await closeAll(crowd.pop());
    await eventually(async () => assert.equal((await people(page)).online, '60 online'));
    await page.screenshot({ path: path.join(ARTIFACTS, 'presence2-crowd.png'), fullPage: true }).catch(() => {});

    // Back under the list size: the whole list again, and Show more goes away.
    await closeAll(...crowd.splice(0, crowd.length - 2));
    await eventually(async () => {
      const p = await people(page);
      assert.deepEqual(p.names, ['Zoe', 'p57', 'p58']);
      assert.equal(p.online, '3 online');
      assert.equal(p.more, false);
    });
  } finally {
    await closeAll(...crowd);
    await person.context.close().catch(() => {});
  }
});
