// Owners and moderators in the web UI: the first in a room owns it and is shown as its
// owner; the owner makes Bo a moderator from the people list, and Bo then gets the
// moderator's controls (delete others' messages, kick, ban) but none over the owner;
// removed, Bo loses them again. A reload's welcome still carries the roles. Only the owner
// edits the room's title and description.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../support/server.mjs';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, newPerson, eventually, join, banner, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('roles');
const room = roomId('roles');

const systemLines = (page) => page.$$eval('#messages .system-line', (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));

/** What a person's page shows about roles: the roles line, each person's tag and controls. */
const rolesView = (page) => page.evaluate(() => ({
  line: document.getElementById('room-roles').hidden ? null : document.getElementById('room-roles').textContent,
  edit: !document.getElementById('room-edit-button').hidden,
  people: Object.fromEntries([...document.querySelectorAll('#users li')].map((li) => [li.dataset.name, {
    tag: li.querySelector('.you-tag')?.textContent ?? null,
    role: li.dataset.role ?? null,
    controls: [...li.querySelectorAll('.user-mod button, .user-appoint button')].map((b) => b.getAttribute('aria-label')),
  }])),
}));

const moderatorDeletes = (page) => page.$$eval('#messages .message-actions button[aria-label="Delete message (moderator)"]',
  (bs) => bs.map((b) => b.closest('.message').dataset.seq));

async function reloadAndWait(page) {
  await page.reload();
  await page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 });
  await eventually(async () => assert.equal((await banner(page)).shown, false, 'connected again'));
}

test('the owner appoints and removes a moderator; the moderator\'s controls come and go; a reload keeps the roles', { timeout: 150_000 }, async () => {
  const ann = ctx.person.page;
  await join(ann, ctx.server, room, 'Ann'); // the first connection's claim owns the room
  await eventually(async () => {
    const view = await rolesView(ann);
    assert.equal(view.line, 'Owner: Ann');
    assert.equal(view.people.Ann.tag, '(you) · owner');
    assert.equal(view.edit, true, 'the owner may edit the room');
  });

  const bo = await newPerson(ctx.browser);
  const carol = await connect(ctx.server, room, 'Carol');
  try {
    await join(bo.page, ctx.server, room, 'Bo');
    const carolSeq = (await carol.say('buy cheap watches')).message.seq;
    await confirmedMessage(bo.page, 'buy cheap watches');

    // Bo is nobody special yet: he sees who owns the room, and no controls.
    await eventually(async () => {
      const view = await rolesView(bo.page);
      assert.equal(view.line, 'Owner: Ann');
      assert.equal(view.people.Ann.tag, 'owner');
      assert.equal(view.people.Ann.role, 'owner');
      assert.deepEqual(view.people.Carol.controls, []);
      assert.equal(view.edit, false, 'only the owner edits the room');
    });
    assert.deepEqual(await moderatorDeletes(bo.page), []);
    // Ann, the owner, has Kick, Ban and "Make moderator" for both.
    await eventually(async () => assert.deepEqual((await rolesView(ann)).people.Bo.controls,
      ['Kick Bo', 'Ban Bo', 'Make Bo a moderator']));

    // Ann makes Bo a moderator, from the keyboard.
    await ann.focus('#users li[data-name="Bo"] button[aria-label="Make Bo a moderator"]');
    await ann.keyboard.press('Enter');
    await eventually(async () => {
      const view = await rolesView(bo.page);
      assert.equal(view.line, 'Owner: Ann · Moderator: Bo');
      assert.equal(view.people.Bo.tag, '(you) · moderator');
      assert.deepEqual(view.people.Carol.controls, ['Kick Carol', 'Ban Carol'], 'a moderator kicks and bans');
      assert.deepEqual(view.people.Ann.controls, [], 'but not the owner');
      assert.equal(view.edit, false, 'and does not edit the room');
    });
    assert.ok((await systemLines(bo.page)).some((l) => l.startsWith('You are now a moderator of this room')));
    assert.ok((await systemLines(ann)).some((l) => l.startsWith('Bo is now a moderator')));
    await eventually(async () => assert.deepEqual((await rolesView(ann)).people.Bo,
      { tag: 'moderator', role: 'moderator', controls: ['Kick Bo', 'Ban Bo', 'Remove Bo as moderator'] }));
    await eventually(async () => assert.deepEqual(await moderatorDeletes(bo.page), [String(carolSeq)], 'Carol\'s message, not Ann\'s'));

    // Bo deletes Carol's message as moderator; everyone sees it go.
    await bo.page.evaluate(() => { window.confirm = () => true; });
    await bo.page.hover(`#messages .message[data-seq="${carolSeq}"]`);
    await bo.page.click(`#messages .message[data-seq="${carolSeq}"] button[aria-label="Delete message (moderator)"]`);
    const update = await carol.next((f) => f.type === 'update' && f.message.seq === carolSeq);
    assert.equal(update.message.deleted, true);
    await eventually(async () => assert.equal(
      await ann.textContent(`#messages .message[data-seq="${carolSeq}"] .message-text`), 'This message was deleted.'));
    await eventually(async () => assert.ok((await systemLines(ann)).some((l) => l.startsWith('Bo deleted a message of Carol'))));

    // Ann removes Bo: his controls go away.
    await ann.hover('#users li[data-name="Bo"]');
    await ann.click('#users li[data-name="Bo"] button[aria-label="Remove Bo as moderator"]');
    await eventually(async () => {
      const view = await rolesView(bo.page);
      assert.equal(view.line, 'Owner: Ann');
      assert.equal(view.people.Bo.tag, '(you)');
      assert.deepEqual(view.people.Carol.controls, []);
    });
    assert.ok((await systemLines(bo.page)).some((l) => l.startsWith('You are no longer a moderator of this room')));
    await carol.say('still here');
    await confirmedMessage(bo.page, 'still here');
    assert.deepEqual(await moderatorDeletes(bo.page), [], 'no moderator\'s delete any more');

    // After a reload the welcome says the same: Ann owns the room, Bo moderates nothing.
    await reloadAndWait(bo.page);
    await eventually(async () => {
      const view = await rolesView(bo.page);
      assert.equal(view.line, 'Owner: Ann');
      assert.equal(view.people.Ann.role, 'owner');
      assert.deepEqual(view.people.Carol.controls, []);
    });
    // Appointed again, Bo is still a moderator after a reload, and Ann still the owner after hers.
    await ann.hover('#users li[data-name="Bo"]');
    await ann.click('#users li[data-name="Bo"] button[aria-label="Make Bo a moderator"]');
    await eventually(async () => assert.equal((await rolesView(bo.page)).line, 'Owner: Ann · Moderator: Bo'));
    await reloadAndWait(bo.page);
    await eventually(async () => {
      const view = await rolesView(bo.page);
      assert.equal(view.line, 'Owner: Ann · Moderator: Bo');
      assert.equal(view.people.Bo.tag, '(you) · moderator');
      assert.deepEqual(view.people.Carol.controls, ['Kick Carol', 'Ban Carol']);
    });
    assert.equal(await bo.page.evaluate(() => window.edgechat.state.role), 'moderator');
    await reloadAndWait(ann);
    await eventually(async () => {
      const view = await rolesView(ann);
      assert.equal(view.line, 'Owner: Ann · Moderator: Bo');
      assert.equal(view.people.Ann.tag, '(you) · owner');
      assert.deepEqual(view.people.Bo.controls, ['Kick Bo', 'Ban Bo', 'Remove Bo as moderator']);
      assert.equal(view.edit, true);
    });

    // The moderator kicks Carol; she is gone for everyone.
    await bo.page.hover('#users li[data-name="Carol"]');
    await bo.page.click('#users li[data-name="Carol"] button[aria-label="Kick Carol"]');
    await carol.next((f) => f.type === 'moderation' && f.action === 'kick');
    await eventually(async () => assert.equal((await rolesView(ann)).people.Carol, undefined));
    assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
    assert.deepEqual(bo.logs.filter((l) => l.includes('pageerror')), []);
  } finally {
    await closeAll(carol);
    await bo.context.close().catch(() => {});
  }
});

test('the owner edits the room\'s title and description; others see no Edit', { timeout: 60_000 }, async () => {
  const ann = ctx.person.page;
  await ann.click('#room-edit-button');
  await ann.waitForSelector('#room-edit-dialog[open]');
  assert.equal(await ann.evaluate(() => document.activeElement?.id), 'room-edit-title');
  await ann.fill('#room-edit-title', 'Watch collectors <b>club</b>');
  await ann.fill('#room-edit-description', 'No selling, please.');
  await ann.press('#room-edit-title', 'Enter'); // Enter in the title saves
  await eventually(async () => assert.equal(await ann.textContent('#room-title'), 'Watch collectors <b>club</b>'));
  assert.equal(await ann.$$eval('#room-title b', (b) => b.length), 0, 'shown as text, never as markup');
  assert.equal(await ann.textContent('#room-description'), 'No selling, please.');
  assert.equal(await ann.isVisible('#room-edit-dialog'), false);
  const info = (await http(ctx.server, `/api/rooms/${room}`)).json;
  assert.equal(info.room.title, 'Watch collectors <b>club</b>');
  assert.equal(info.room.description, 'No selling, please.');

  // Escape cancels an edit without saving.
  await ann.click('#room-edit-button');
  await ann.waitForSelector('#room-edit-dialog[open]');
  assert.equal(await ann.inputValue('#room-edit-title'), 'Watch collectors <b>club</b>', 'the form starts from the room as it is');
  await ann.fill('#room-edit-title', 'not saved');
  await ann.keyboard.press('Escape');
  await eventually(async () => assert.equal(await ann.isVisible('#room-edit-dialog'), false));
  assert.equal(await ann.textContent('#room-title'), 'Watch collectors <b>club</b>');
  assert.equal((await http(ctx.server, `/api/rooms/${room}`)).json.room.title, 'Watch collectors <b>club</b>');

  // Dee, who does not own the room, has no Edit, and the server refuses her too.
  const dee = await newPerson(ctx.browser);
  try {
    await join(dee.page, ctx.server, room, 'Dee');
    await eventually(async () => assert.equal(await dee.page.textContent('#room-title'), 'Watch collectors <b>club</b>'));
    assert.equal(await dee.page.isHidden('#room-edit-button'), true);
    const refused = await dee.page.evaluate(async (id) => {
      const response = await fetch(`/api/rooms/${id}`, {
        method: 'PATCH', body: JSON.stringify({ title: 'mine now' }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${localStorage.getItem('edgechat.token.dee')}` },
      });
      return { status: response.status, body: await response.json() };
    }, room);
    assert.equal(refused.status, 403, JSON.stringify(refused));
    assert.equal(refused.body.error.code, 'forbidden');
  } finally {
    await dee.context.close().catch(() => {});
  }
  assert.equal((await http(ctx.server, `/api/rooms/${room}`)).json.room.title, 'Watch collectors <b>club</b>');
});
