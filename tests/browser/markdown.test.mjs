// Markdown-lite in the web UI: *bold*, _italic_, `code`, ```code blocks``` and links are
// rendered, words with markers inside them are left alone, and no markup ever becomes HTML.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const room = roomId('markdown');

const ctx = useBrowserPerson('markdown');


/** The rendered `.message-text` of the message with this seq, described as data. */
function rendered(page, seq) {
  return page.$eval(`#messages .message[data-seq="${seq}"] .message-text`, (el) => ({
    text: el.textContent,
    html: el.innerHTML,
    strong: [...el.querySelectorAll('strong')].map((e) => e.textContent),
    em: [...el.querySelectorAll('em')].map((e) => e.textContent),
    code: [...el.querySelectorAll(':not(pre) > code')].map((e) => e.textContent),
    blocks: [...el.querySelectorAll('pre > code')].map((e) => e.textContent),
    links: [...el.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('rel')]),
    elements: [...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
  }));
}

test('markdown-lite is rendered from what others send, and stays text where it should', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  await join(page, ctx.server, room, 'Reader');
  const writer = await connect(ctx.server, room, 'Writer');
  const sent = [
    '*bold* and _italic_ with `inline *code*` and _a *nested* one_ https://example.com/a_b_c?x=1.',
    'keep snake_case_names, 2*3*4 and *half alone',
    'before\n```js\nlet a = 1; // *not bold* <b>not html</b>\n```\nafter',
    '<img src=x onerror="window.pwned=1"> *<i>still text</i>* [x](javascript:alert(1))',
  ];
  const seqs = [];
  for (const text of sent) seqs.push((await writer.say(text)).ack.seq);

  const first = await eventually(() => rendered(page, seqs[0]));
  assert.deepEqual(first.strong, ['bold', 'nested']);
  assert.deepEqual(first.em, ['italic', 'a nested one']);
  assert.deepEqual(first.code, ['inline *code*']);
  assert.deepEqual(first.links, [['https://example.com/a_b_c?x=1', 'https://example.com/a_b_c?x=1', 'noopener noreferrer nofollow']]);
  assert.equal(first.text, 'bold and italic with inline *code* and a nested one https://example.com/a_b_c?x=1.');

  const second = await eventually(() => rendered(page, seqs[1]));
  assert.deepEqual(second.elements, [], 'markers inside words, or unpaired, are plain text');
  assert.equal(second.text, sent[1]);

  const third = await eventually(() => rendered(page, seqs[2]));
  assert.deepEqual(third.blocks, ['let a = 1; // *not bold* <b>not html</b>']);
  assert.deepEqual(third.strong, [], 'nothing is formatted inside a code block');
  assert.match(third.text, /^before\n/);
  assert.match(third.html, /<\/pre>after$/, 'no empty line after a block');

  const fourth = await eventually(() => rendered(page, seqs[3]));
  assert.deepEqual(fourth.elements, ['strong'], 'only the bold markers made an element');
  assert.equal(fourth.strong[0], '<i>still text</i>');
  assert.deepEqual(fourth.links, [], 'a javascript: link is never made');
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.$$eval('#messages img, #messages script, #messages i', (els) => els.length), 0);

  // What the reader types is rendered the same way once confirmed.
  await typeAndSend(page, 'my *own* `words`');
  const mine = await confirmedMessage(page, 'my own words');
  assert.equal((await rendered(page, mine.seq)).html, 'my <strong>own</strong> <code>words</code>');
  await closeAll(writer);
});
