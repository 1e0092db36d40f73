// Pinned messages in the web UI: the room's owner clicks Pin in a message's actions;
// another person's header shows the pin control with its count; a click opens the list,
// and its entry jumps to the message, scrolled into view and highlighted. A plain member
// gets no Pin action.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomId, connect, closeAll } from '../support/client.mjs';
import path from 'node:path';
import { ARTIFACTS, useBrowserPerson, newPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('pins');
const room = roomId('pins');

const inView = (page, selector) => page.$eval(selector, (node) => {
  const r = node.getBoundingClientRect();
  const list = document.getElementById('scroller').getBoundingClientRect();
  return r.bottom > list.top && r.top < list.bottom;
});

test('a moderator pins a message; another page sees the pin in the header and jumps to the message', { timeout: 120_000 }, async () => {
  const ann = ctx.person.page;
  await join(ann, ctx.server, room, 'Ann'); // the first in the room owns it
  const bo = await newPerson(ctx.browser);
  let cy = null;
  try {
    await join(bo.page, ctx.server, room, 'Bo');
    assert.equal(await bo.page.isVisible('#pins-toggle'), false, 'nothing pinned: no control');
    await typeAndSend(bo.page, 'the plan for friday');
    const target = await confirmedMessage(ann, 'the plan for friday');
    const sel = `#messages .message[data-seq="${target.seq}"]`;

    // Bo is no moderator: no Pin action for him.
    await bo.page.hover(sel);
    assert.equal(await bo.page.$$eval(`${sel} .message-actions button[aria-label="Pin message"]`, (b) => b.length), 0);

    // Ann pins it: the action's icon is an inline SVG, not a glyph.
    await ann.hover(sel);
    const button = `${sel} .message-actions button[aria-label="Pin message"]`;
    assert.equal(await ann.$$eval(`${button} svg`, (s) => s.length), 1);
    await ann.click(button);
    await eventually(async () => assert.equal(await bo.page.textContent('#pins-count'), '1'));
    assert.equal(await bo.page.isVisible('#pins-toggle'), true);
    assert.equal(await bo.page.$$eval('#pins-toggle svg', (s) => s.length), 1);
    await eventually(async () => assert.equal(await bo.page.textContent(`${sel} .pinned-mark`), 'Pinned'));
    await ann.hover(sel);
    await ann.waitForSelector(`${sel} .message-actions button[aria-label="Unpin message"]`);

    // Enough chat after it that it scrolls out of Bo's view.
    cy = await connect(ctx.server, room, 'Cy');
    await cy.sayMany(Array.from({ length: 40 }, (_, i) => `later chatter ${i + 1}`));
    await confirmedMessage(bo.page, 'later chatter 40');
    await eventually(async () => assert.equal(await inView(bo.page, sel), false));

    // Bo opens the list and clicks the entry: he lands on the message.
    await bo.page.click('#pins-toggle');
    await bo.page.waitForSelector('#pins-panel', { state: 'visible' });
    await bo.page.screenshot({ path: path.join(ARTIFACTS, 'pins-list.png') });
    const entry = '#pins-list .pin-entry';
    assert.match(await bo.page.textContent(entry), /Bo\s*the plan for friday/);
    assert.equal(await bo.page.$$eval('#pins-list .pin-remove', (b) => b.length), 0, 'no Unpin for a plain member');
    await bo.page.click(entry);
    await eventually(async () => {
      assert.equal(await bo.page.$eval(sel, (n) => n.classList.contains('jump-target')), true);
      assert.equal(await inView(bo.page, sel), true);
    });
    assert.equal(await bo.page.isVisible('#pins-panel'), false, 'the list closes on a jump');

    // Ann unpins from her list: the control goes away for Bo.
    await ann.click('#pins-toggle');
    await ann.click('#pins-list .pin-remove');
    await eventually(async () => assert.equal(await bo.page.isVisible('#pins-toggle'), false));
    assert.deepEqual(bo.logs.filter((l) => l.startsWith('[pageerror]')), []);
    assert.deepEqual(ctx.person.logs.filter((l) => l.startsWith('[pageerror]')), []);
  } finally {
    if (cy) await closeAll(cy);
    await bo.context.close();
  }
});
