// The UI under its Content-Security-Policy (no inline script or style, nothing from
// elsewhere): two people load it, join a room and chat both ways, and use the parts that
// build HTML (the people list, reactions, a reply, the search panel, a picture), while
// each page records every CSP violation (`securitypolicyviolation` events, from an init
// script) and every console line about the policy. There must be none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { http } from '../support/server.mjs';
import { roomId } from '../support/client.mjs';
import {
  ARTIFACTS, useBrowserAndServer, newPerson, eventually, confirmedMessage, join, typeAndSend,
} from '../support/browser.mjs';
import { GENEROUS_LIMITS } from '../support/server.mjs';

const ctx = useBrowserAndServer({ vars: GENEROUS_LIMITS });

// A real 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

async function watched(browser) {
  const person = await newPerson(browser);
  await person.context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  return person;
}

const violations = (person) => person.page.evaluate(() => window.__cspViolations);
const policyLines = (person) => person.logs.filter((l) => /Content.Security.Policy|Refused to/i.test(l));

const item = (seq) => `#messages .message[data-seq="${seq}"]`;

test('the UI loads and chats under the CSP with no violation', { timeout: 120_000 }, async () => {
  const { server, browser } = ctx;
  const root = await http(server, '/');
  const csp = root.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

  const room = roomId('csp');
  const ann = await watched(browser);
  const bo = await watched(browser);
  try {
    await join(ann.page, server, room, 'Ann');
    await join(bo.page, server, room, 'Bo');
    // Chat both ways.
    await typeAndSend(ann.page, 'hello *Bo*, see https://example.com');
    await confirmedMessage(bo.page, 'hello Bo, see https://example.com');
    await typeAndSend(bo.page, 'hi `Ann`');
    const hi = await confirmedMessage(ann.page, 'hi Ann');

    // The people list.
    // (On a narrow screen it is behind a toggle; on this one it shows beside the chat.)
    if (await ann.page.isVisible('#users-toggle')) await ann.page.click('#users-toggle');
    await ann.page.waitForSelector('#users li[data-name="Bo"]', { state: 'visible' });
    // A reaction, from the picker.
    await ann.page.hover(item(hi.seq));
    await ann.page.click(`${item(hi.seq)} .message-actions button[aria-label="Add reaction"]`);
    await ann.page.click(`${item(hi.seq)} .reaction-picker button[aria-label="React with 👍"]`);
    await bo.page.waitForSelector(`${item(hi.seq)} .reaction[data-emoji="👍"]`);
    // A reply, quoted for both.
    await ann.page.hover(item(hi.seq));
    await ann.page.click(`${item(hi.seq)} .message-actions button[aria-label="Reply"]`);
    await typeAndSend(ann.page, 'a reply');
    await confirmedMessage(bo.page, 'a reply');
    await bo.page.waitForSelector('#messages .message .reply-quote');
    // The search panel, with highlighted snippets.
    await bo.page.click('#search-toggle');
    await bo.page.fill('#search-input', 'hello');
    await bo.page.press('#search-input', 'Enter');
    await eventually(async () => assert.ok((await bo.page.$$('#search-results li')).length > 0, 'a result'));
    // A picture, shown inline on the other page.
    await ann.page.fill('#message-input', 'a tiny picture');
    await ann.page.setInputFiles('#file-input', { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const pic = await confirmedMessage(bo.page, 'a tiny picture');
    const img = `${item(pic.seq)} .attachment-image img`;
    await eventually(async () => assert.equal(await bo.page.$eval(img, (i) => i.complete && i.naturalWidth), 1));

    for (const [name, person] of [['Ann', ann], ['Bo', bo]]) {
      assert.deepEqual(await violations(person), [], `${name}: no securitypolicyviolation`);
      assert.deepEqual(policyLines(person), [], `${name}: no console line about the policy`);
    }
    // The two detectors work: an inline style attribute, as innerHTML would bring, is
    // blocked and reported both ways.
    await ann.page.evaluate(() => {
      const probe = document.createElement('div');
      probe.innerHTML = '<span style="color: red">probe</span>';
      document.body.append(probe);
    });
    await eventually(async () => {
      assert.match((await violations(ann)).join('\n'), /style-src/);
      assert.ok(policyLines(ann).length > 0, 'the console reported it');
    });
  } finally {
    for (const [name, person] of [['ann', ann], ['bo', bo]]) {
      await person.page.screenshot({ path: path.join(ARTIFACTS, `csp-${name}.png`), fullPage: true }).catch(() => {});
      await person.context.close().catch(() => {});
    }
  }
});
