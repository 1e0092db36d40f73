// What a person clicks to change messages: reactions from the picker and the chips,
// a reply with its quote, the thread panel (live replies, replying in it), editing and
// deleting one's own message, and seeing others' changes live; after a reload the page
// shows every change from the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, roomId, closeAll, cid } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const room = roomId('changes');

const ctx = useBrowserPerson('changes');


const item = (seq) => `#messages .message[data-seq="${seq}"]`;

/** What the page shows of one message, beyond its text. */
function shown(page, seq) {
  return page.$eval(item(seq), (el) => ({
    text: el.querySelector('.message-text')?.textContent ?? null,
    deleted: el.classList.contains('deleted'),
    edited: Boolean(el.querySelector('.edited-mark')),
    quote: el.querySelector('.reply-quote')?.textContent.replace(/\s+/g, ' ').trim() ?? null,
    replies: el.querySelector('.reply-count')?.textContent ?? null,
    reactions: [...el.querySelectorAll('.reaction')].map((r) => [
      r.querySelector('.reaction-emoji').textContent, Number(r.querySelector('.reaction-count').textContent),
      r.getAttribute('aria-pressed') === 'true']),
    actions: [...el.querySelectorAll('.message-actions button')].map((b) => b.getAttribute('aria-label')),
  }));
}

async function action(page, seq, label) {
  await page.hover(item(seq));
  await page.click(`${item(seq)} .message-actions button[aria-label="${label}"]`);
}

test('react, reply, use a thread, edit and delete, and see the others do it live', { timeout: 120_000 }, async () => {
  const { page } = ctx.person;
  // Bo comes first: he creates (and moderates) the room, so Ann's page is a plain member's.
  const bo = await connect(ctx.server, room, 'Bo');
  await join(page, ctx.server, room, 'Ann');
  const hello = await bo.say('hello from Bo');
  await confirmedMessage(page, 'hello from Bo');
  let s = await shown(page, 1);
  assert.deepEqual(s.actions, ['Add reaction', 'Reply', 'Open thread'], 'no edit or delete on someone else\'s message');

  // Reactions: from the picker, from the others, and a click on a chip takes mine back.
  await action(page, 1, 'Add reaction');
  await page.click(`${item(1)} .reaction-picker button[aria-label="React with 👍"]`);
  let u = await bo.next('update');
  assert.deepEqual(u.message.reactions, [{ emoji: '👍', count: 1, names: ['Ann'] }]);
  bo.send({ type: 'react', seq: 1, emoji: '🎉' });
  await eventually(async () => assert.deepEqual((await shown(page, 1)).reactions, [['👍', 1, true], ['🎉', 1, false]]));
  await page.click(`${item(1)} .reaction[data-emoji="👍"]`);
  u = await bo.next((f) => f.type === 'update' && f.message.reactions?.length === 1);
  assert.deepEqual(u.message.reactions, [{ emoji: '🎉', count: 1, names: ['Bo'] }]);
  await eventually(async () => assert.deepEqual((await shown(page, 1)).reactions, [['🎉', 1, false]]));

  // A reply: the bar says what it answers, the message quotes its parent, the parent counts it.
  await action(page, 1, 'Reply');
  assert.equal(await page.isVisible('#reply-bar'), true);
  assert.match(await page.textContent('#reply-bar'), /Replying to\s*Bo\s*hello from Bo/);
  await typeAndSend(page, 'a reply');
  const reply = await bo.next('message');
  assert.equal(reply.message.reply_to, hello.ack.seq);
  await confirmedMessage(page, 'a reply');
  assert.equal(await page.isVisible('#reply-bar'), false, 'the reply bar closes after sending');
  s = await shown(page, 2);
  assert.equal(s.quote, 'Bo hello from Bo');
  await eventually(async () => assert.equal((await shown(page, 1)).replies, '1 reply'));

  // The thread: opened from the count, live replies from others, a reply typed in it.
  await page.click(`${item(1)} .reply-count`);
  await page.waitForSelector('#thread-panel', { state: 'visible' });
  const threadTexts = () => page.$$eval('#thread-list .thread-message .message-text', (els) => els.map((e) => e.textContent));
  await eventually(async () => assert.deepEqual(await threadTexts(), ['a reply']));
  assert.match(await page.textContent('#thread-parent'), /hello from Bo/);
  await bo.say('Bo answers in the thread', { reply_to: 1 });
  await eventually(async () => assert.deepEqual(await threadTexts(), ['a reply', 'Bo answers in the thread']));
  await page.fill('#thread-input', 'Ann in the thread');
  await page.press('#thread-input', 'Enter');
  const inThread = await bo.next((f) => f.type === 'message' && f.message.text === 'Ann in the thread');
  assert.equal(inThread.message.reply_to, 1);
  await eventually(async () => assert.deepEqual(await threadTexts(), ['a reply', 'Bo answers in the thread', 'Ann in the thread']));
  await eventually(async () => assert.equal((await shown(page, 1)).replies, '3 replies'));
  assert.match(await page.textContent('#thread-heading'), /3 replies/);
  await page.click('#thread-close');
  assert.equal(await page.isVisible('#thread-panel'), false);

  // Editing my message: a box with its text; Enter saves; everyone sees "(edited)".
  s = await shown(page, 2);
  assert.deepEqual(s.actions, ['Add reaction', 'Reply', 'Open thread', 'Edit message', 'Delete message']);
  await action(page, 2, 'Edit message');
  const box = `${item(2)} .edit-form textarea`;
  assert.equal(await page.inputValue(box), 'a reply');
  await page.fill(box, 'an *edited* reply');
  await page.press(box, 'Enter');
  u = await bo.next((f) => f.type === 'update' && f.message.seq === 2 && f.message.edited_ts);
  assert.equal(u.message.text, 'an *edited* reply');
  await eventually(async () => {
    const now = await shown(page, 2);
    assert.equal(now.text, 'an edited reply');
    assert.equal(now.edited, true);
  });
  assert.equal(await page.textContent(`${item(2)} .message-text strong`), 'edited');
  // Escape leaves an edit without a change.
  await action(page, 2, 'Edit message');
  await page.fill(box, 'never sent');
  await page.press(box, 'Escape');
  assert.equal((await shown(page, 2)).text, 'an edited reply');

  // Bo edits his message: my page shows it, and my reply's quote follows.
  bo.send({ type: 'edit', seq: 1, text: 'hello from Bo, edited' });
  await eventually(async () => {
    assert.equal((await shown(page, 1)).text, 'hello from Bo, edited');
    assert.equal((await shown(page, 2)).quote, 'Bo hello from Bo, edited');
  });

  // Deleting asks first; saying no keeps the message.
  await page.evaluate(() => {
    window.__answers = [false, true];
    window.__asked = [];
    window.confirm = (text) => { window.__asked.push(text); return window.__answers.shift(); };
  });
  await action(page, 2, 'Delete message');
  await bo.expectNoFrame((f) => f.type === 'update' && f.message.deleted, 500);
  await action(page, 2, 'Delete message');
  u = await bo.next((f) => f.type === 'update' && f.message.deleted);
  assert.equal(u.message.seq, 2);
  assert.equal((await page.evaluate(() => window.__asked)).length, 2);
  await eventually(async () => {
    const now = await shown(page, 2);
    assert.equal(now.deleted, true);
    assert.equal(now.text, 'This message was deleted.');
    assert.deepEqual(now.actions, []);
  });

  // Someone else's delete shows the same way.
  const gone = await bo.say('short-lived');
  await confirmedMessage(page, 'short-lived');
  bo.send({ type: 'delete', seq: gone.ack.seq, client_id: cid() });
  await eventually(async () => assert.equal((await shown(page, gone.ack.seq)).deleted, true));

  // A fresh page load shows every change as the ctx.server keeps it.
  await page.reload();
  await page.waitForSelector(item(1));
  await eventually(async () => {
    const parent = await shown(page, 1);
    assert.equal(parent.text, 'hello from Bo, edited');
    assert.equal(parent.edited, true);
    assert.equal(parent.replies, '3 replies');
    assert.deepEqual(parent.reactions, [['🎉', 1, false]]);
    assert.equal((await shown(page, 2)).deleted, true);
  });
  assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
  await closeAll(bo);
});

test('a refused change is explained and the room keeps working', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  const bo = await connect(ctx.server, room, 'Bo');
  // Ann's page tries to edit Bo's message through the socket the page uses.
  const target = await bo.say('only Bo may edit this');
  await confirmedMessage(page, 'only Bo may edit this');
  await page.evaluate((seq) => window.edgechat.state.socket.send(JSON.stringify({
    type: 'edit', seq, text: 'hijacked', client_id: 'chg-test',
  })), target.ack.seq);
  await eventually(async () => assert.match(await page.textContent('#toasts'), /only edit your own messages/));
  await bo.expectNoFrame('update', 300);
  await typeAndSend(page, 'still talking');
  await confirmedMessage(page, 'still talking');
  await closeAll(bo);
});

test('a chip shows the exact count, the first names "and N others", and stays mine when I am not listed', { timeout: 90_000 }, async () => {
  const { page } = ctx.person;
  const bo = await connect(ctx.server, room, 'Bo');
  const target = await bo.say('react to this one');
  await confirmedMessage(page, 'react to this one');
  const seq = target.ack.seq;
  // Eleven others react first, so the ten names listed never include Ann.
  const others = [];
  for (let i = 0; i < 11; i++) others.push(await connect(ctx.server, room, `fan${i}`));
  for (const o of others) o.send({ type: 'react', seq, emoji: '👍' });
  await eventually(async () => assert.deepEqual((await shown(page, seq)).reactions, [['👍', 11, false]]));
  const title = () => page.$eval(`${item(seq)} .reaction[data-emoji="👍"]`, (b) => b.title);
  assert.match(await title(), /^fan0, fan1, .*fan9 and 1 other reacted with 👍$/);
  await page.click(`${item(seq)} .reaction[data-emoji="👍"]`);
  await eventually(async () => assert.deepEqual((await shown(page, seq)).reactions, [['👍', 12, true]]));
  assert.match(await title(), / and 2 others reacted/);
  // After a reload the welcome marks it as Ann's; a click takes it back.
  await page.reload();
  await page.waitForSelector(item(seq));
  await eventually(async () => assert.deepEqual((await shown(page, seq)).reactions, [['👍', 12, true]]));
  await page.click(`${item(seq)} .reaction[data-emoji="👍"]`);
  await eventually(async () => assert.deepEqual((await shown(page, seq)).reactions, [['👍', 11, false]]));
  await closeAll(bo, ...others);
});
