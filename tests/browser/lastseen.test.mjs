// "Last seen" in the people list: someone who leaves moves under "Offline" with "last
// seen just now" (live, and from the welcome for a page that joins later), and moves back
// up when they return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { GENEROUS_LIMITS } from '../support/server.mjs';
import { roomId } from '../support/client.mjs';
import { ARTIFACTS, useBrowserAndServer, newPerson, eventually, join } from '../support/browser.mjs';

const ctx = useBrowserAndServer({ vars: GENEROUS_LIMITS });

/** Who the people panel lists online, and who under "Offline" with what line and title. */
const people = (page) => page.evaluate(() => ({
  online: [...document.querySelectorAll('#users li[data-name]')].map((li) => li.dataset.name),
  heading: !document.querySelector('#users-offline-heading').hidden,
  offline: [...document.querySelectorAll('#users-offline li[data-offline-name]')].map((li) => ({
    name: li.querySelector('.user-name').textContent,
    seen: li.querySelector('.last-seen').textContent,
    title: li.querySelector('.last-seen').title,
  })),
}));

test('Bo leaves: listed under Offline, "last seen just now", also for a later page; back online he moves up', async () => {
  const room = roomId('seen');
  const ann = await newPerson(ctx.browser);
  const bo = await newPerson(ctx.browser);
  const cy = await newPerson(ctx.browser);
  try {
    await join(ann.page, ctx.server, room, 'Ann');
    await join(bo.page, ctx.server, room, 'Bo');
    await eventually(async () => assert.deepEqual((await people(ann.page)).online, ['Ann', 'Bo']));
    assert.equal((await people(ann.page)).heading, false);

    await bo.page.close();
    await eventually(async () => {
      const p = await people(ann.page);
      assert.deepEqual(p.online, ['Ann']);
      assert.equal(p.heading, true);
      assert.deepEqual(p.offline.map((o) => [o.name, o.seen]), [['Bo', 'last seen just now']]);
      assert.ok(p.offline[0].title.length > 5, 'the full time on hover');
    });

    await join(cy.page, ctx.server, room, 'Cy');
    await eventually(async () => {
      const p = await people(cy.page);
      assert.deepEqual(p.online, ['Cy', 'Ann']);
      assert.deepEqual(p.offline.map((o) => [o.name, o.seen]), [['Bo', 'last seen just now']]);
    });

    // At 360 px wide the people list is a drawer, and shows the same.
    await ann.page.setViewportSize({ width: 360, height: 740 });
    await ann.page.click('#users-toggle');
    await ann.page.screenshot({ path: path.join(ARTIFACTS, 'lastseen-360.png') }).catch(() => {});

    bo.page = await bo.context.newPage();
    await join(bo.page, ctx.server, room, 'Bo');
    for (const page of [ann.page, cy.page]) {
      await eventually(async () => {
        const p = await people(page);
        assert.ok(p.online.includes('Bo'), JSON.stringify(p));
        assert.deepEqual(p.offline, []);
        assert.equal(p.heading, false);
      });
    }
  } finally {
    await ann.page.screenshot({ path: path.join(ARTIFACTS, 'lastseen-people.png'), fullPage: true }).catch(() => {});
    for (const person of [ann, bo, cy]) await person.context.close().catch(() => {});
  }
});
