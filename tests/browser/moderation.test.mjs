// Moderation in the web UI: the room's owner (the first to join it) finds Kick and Ban in
// the people list and a moderator's delete on others' messages; the removed person lands
// on the join page with the reason, cannot come back while banned, and can once the owner
// clicks Unban.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomId } from '../support/client.mjs';
import { useBrowserPerson, newPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('moderation');
const room = roomId('moderation');

const systemLines = (page) => page.$$eval('#messages .system-line', (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));

test('the owner bans from the people list; the banned person is told why and kept out until unbanned', { timeout: 120_000 }, async () => {
  const ann = ctx.person.page;
  await join(ann, ctx.server, room, 'Ann'); // first in the room: its owner
  const bo = await newPerson(ctx.browser);
  try {
    await join(bo.page, ctx.server, room, 'Bo');
    await typeAndSend(bo.page, 'spam spam spam');
    const spam = await confirmedMessage(ann, 'spam spam spam');

    // Both see who owns the room. Bo is no moderator: no Kick or Ban for him, no delete on Ann's messages.
    await eventually(async () => assert.equal(await bo.page.textContent('#users li[data-name="Ann"] .you-tag'), 'owner'));
    assert.equal(await ann.textContent('#users li[data-name="Ann"] .you-tag'), '(you) · owner');
    await typeAndSend(ann, 'welcome, Bo');
    const annMsg = await confirmedMessage(bo.page, 'welcome, Bo');
    await bo.page.hover(`#messages .message[data-seq="${annMsg.seq}"]`);
    assert.equal(await bo.page.$$eval(`#messages .message[data-seq="${annMsg.seq}"] .message-actions button[aria-label^="Delete"]`, (b) => b.length), 0);
    assert.equal(await bo.page.$$eval('#users .user-mod', (e) => e.length), 0);

    // Ann deletes Bo's message as moderator.
    await ann.evaluate(() => { window.confirm = () => true; });
    await ann.hover(`#messages .message[data-seq="${spam.seq}"]`);
    await ann.click(`#messages .message[data-seq="${spam.seq}"] .message-actions button[aria-label="Delete message (moderator)"]`);
    await eventually(async () => assert.equal(
      await bo.page.textContent(`#messages .message[data-seq="${spam.seq}"] .message-text`), 'This message was deleted.'));
    await eventually(async () => assert.ok((await systemLines(bo.page)).some((l) => l.startsWith('Ann deleted a message of Bo'))));

    // Ann bans Bo for 15 minutes with a reason, from the people list.
    await ann.evaluate(() => {
      const answers = ['15', 'spam'];
      window.prompt = () => answers.shift();
    });
    await ann.hover('#users li[data-name="Bo"]');
    await ann.click('#users li[data-name="Bo"] button[aria-label="Ban Bo"]');
    await eventually(async () => assert.ok((await systemLines(ann)).some((l) => /^Ann banned Bo until \d\d:\d\d \(spam\)/.test(l))));
    await eventually(async () => assert.deepEqual(await ann.$$eval('#users li', (els) => els.map((e) => e.dataset.name)), ['Ann']));

    // Bo is on the join page, told who banned him and why; joining again is refused.
    await bo.page.waitForSelector('#landing', { state: 'visible' });
    assert.match(await bo.page.textContent('#form-error'), /Ann banned you from #moderation-\w+ until \d\d:\d\d \(spam\)/);
    await bo.page.click('#join-button');
    await eventually(async () => {
      assert.equal(await bo.page.isVisible('#landing'), true);
      assert.match(await bo.page.textContent('#form-error'), /banned from this room by Ann for 15 more minutes \(reason: spam\)/);
    }, { timeout: 15_000 });

    // Ann lifts the ban from the system line; Bo gets back in.
    await ann.click('#messages .system-line button.unban');
    await eventually(async () => assert.ok((await systemLines(ann)).includes(`Ann lifted the ban on Bo ${await ann.$eval('#messages .system-line:last-child .system-time', (e) => e.textContent)}`)));
    await join(bo.page, ctx.server, room, 'Bo');
    await typeAndSend(bo.page, 'sorry');
    await confirmedMessage(ann, 'sorry');
    assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
  } finally {
    await bo.context.close().catch(() => {});
  }
});
