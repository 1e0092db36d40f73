// Direct messages in the web UI: "Message" beside a person opens your private room with
// them (titled @name), the other finds it on the landing page with its unread count, and
// once they have read it you see "Seen" under your message. Nobody moderates a direct
// message, and either side can leave it (it leaves their list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomId } from '../support/client.mjs';
import { useBrowserPerson, newPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('dms');
const lobby = roomId('dm-lobby');

test('message someone from the people list; they find it with an unread count; you see Seen', { timeout: 120_000 }, async () => {
  const ann = ctx.person.page;
  const bo = await newPerson(ctx.browser);
  try {
    await join(ann, ctx.server, lobby, 'Ann');
    await join(bo.page, ctx.server, lobby, 'Bo');
    await ann.waitForSelector('#users li[data-name="Bo"]');
    await ann.click('#users li[data-name="Bo"] button.user-dm');
    await eventually(async () => assert.equal(await ann.textContent('#room-title'), '@Bo'));
    const room = await ann.evaluate(() => window.edgechat.state.room);
    assert.match(room, /^dm--[0-9a-f]{40}$/);
    await typeAndSend(ann, 'hi Bo, just us');
    await confirmedMessage(ann, 'hi Bo, just us');

    // Bo goes back to the landing page: the direct message is listed with 1 unread.
    await bo.page.click('#leave-button');
    await bo.page.waitForSelector('#landing', { state: 'visible' });
    const item = `#dms-list li[data-room="${room}"]`;
    await eventually(async () => {
      await bo.page.click('#rooms-refresh');
      assert.equal(await bo.page.textContent(`${item} .dm-name`), '@Ann');
      assert.equal(await bo.page.textContent(`${item} .unread-badge`), '1');
    });
    assert.equal(await bo.page.$$eval(`#rooms-list li[data-room="${room}"]`, (e) => e.length), 0, 'not among the public rooms');
    await bo.page.click(`${item} button`);
    await confirmedMessage(bo.page, 'hi Bo, just us');
    assert.equal(await bo.page.textContent('#room-title'), '@Ann');

    // Bo has read it: Ann sees "Seen" under her message.
    await eventually(async () => assert.equal(await ann.$$eval('#messages .message.own .seen-mark', (e) => e.map((x) => x.textContent).join()), 'Seen'));

    // Both are here, and neither has a moderator's control: no kick, ban or appoint.
    await ann.waitForSelector('#users li[data-name="Bo"]');
    for (const page of [ann, bo.page]) {
      assert.equal(await page.$$eval('#users .user-mod, #users .user-appoint', (e) => e.length), 0);
      assert.equal(await page.isHidden('#room-roles'), true, 'a direct message has no owner');
      assert.equal(await page.isHidden('#room-edit-button'), true);
      assert.equal(await page.isVisible('#dm-leave-button'), true);
    }
    const annMsg = await confirmedMessage(bo.page, 'hi Bo, just us');
    await bo.page.hover(`#messages .message[data-seq="${annMsg.seq}"]`);
    assert.equal(await bo.page.$$eval('#messages .message-actions button[aria-label^="Delete"]', (e) => e.length), 0);

    // Bo leaves it from the landing page's list: it goes from his list, and stays gone.
    await bo.page.click('#leave-button');
    await bo.page.waitForSelector(`${item} .dm-leave`);
    await bo.page.click(`${item} .dm-leave`);
    await eventually(async () => assert.equal(await bo.page.$$eval(item, (e) => e.length), 0));
    await eventually(async () => assert.match(await bo.page.textContent('#toasts'), /You left @Ann/));
    await bo.page.click('#rooms-refresh');
    await bo.page.waitForTimeout(500);
    assert.equal(await bo.page.$$eval(item, (e) => e.length), 0, 'not listed after a refresh either');
    assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
  } finally {
    await bo.context.close().catch(() => {});
  }
});
