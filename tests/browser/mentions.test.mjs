// Mentions in the web UI: `@name` is highlighted, a message that mentions you is marked,
// and while the tab is hidden it raises a browser notification unless you are "do not
// disturb". Permission is asked when the person clicks, never on load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, roomId, closeAll, sleep } from '../support/client.mjs';
import { useBrowserPerson, eventually, join } from '../support/browser.mjs';

const room = roomId('mentions');

// The page's Notification API and tab visibility, under the test's control: every
// permission request and every notification is recorded.
const FAKES = () => {
  window.__notes = { requests: 0, shown: [] };
  let permission = 'default';
  class FakeNotification {
    static get permission() { return permission; }
    static async requestPermission() {
      window.__notes.requests += 1;
      permission = 'granted';
      return permission;
    }
    constructor(title, options = {}) {
      window.__notes.shown.push({ title, body: options.body });
    }
    close() {}
  }
  window.Notification = FakeNotification;
  window.__hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
};

const setHidden = (page, hidden) => page.evaluate((h) => {
  window.__hidden = h;
  document.dispatchEvent(new Event('visibilitychange'));
}, hidden);
const notes = (page) => page.evaluate(() => window.__notes);

const ctx = useBrowserPerson('mentions', { prepare: (p) => p.page.addInitScript(FAKES) });


test('mentions are highlighted and notify a hidden tab, with permission asked on a click only', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  await join(page, ctx.server, room, 'Reader');
  const writer = await connect(ctx.server, room, 'Writer');

  // Nothing was asked on load; the button offers it.
  assert.equal((await notes(page)).requests, 0, 'no permission request on load');
  assert.equal(await page.isVisible('#notify-button'), true);
  await page.click('#notify-button');
  await eventually(async () => assert.equal((await notes(page)).requests, 1));
  await eventually(async () => assert.equal(await page.isVisible('#notify-button'), false, 'the button goes once permission is granted'));

  // Visible tab: highlighted and marked, no notification.
  const first = (await writer.say('hi @reader, and hello @Someone_else.')).ack.seq;
  const shown = await eventually(() => page.$eval(`#messages .message[data-seq="${first}"]`, (el) => ({
    mention: el.classList.contains('mention'),
    tags: [...el.querySelectorAll('.mention-tag')].map((t) => [t.textContent, t.classList.contains('me')]),
    text: el.querySelector('.message-text').textContent,
  })));
  assert.deepEqual(shown, {
    mention: true,
    tags: [['@reader', true], ['@Someone_else', false]],
    text: 'hi @reader, and hello @Someone_else.',
  });
  assert.deepEqual((await notes(page)).shown, [], 'no notification while the tab is visible');

  // Hidden tab: a mention notifies, other messages and e-mail addresses do not.
  await setHidden(page, true);
  await writer.say('not for you, mail me at a@reader.example');
  await writer.say('@Reader are you there?');
  await eventually(async () => assert.equal((await notes(page)).shown.length, 1));
  await sleep(300);
  assert.deepEqual((await notes(page)).shown, [{ title: `Writer mentioned you in #${room}`, body: '@Reader are you there?' }]);

  // Do not disturb: no notification.
  await setHidden(page, false);
  await page.selectOption('#status-select', 'dnd');
  await writer.waitFor((f) => f.type === 'user_status' && f.user.status === 'dnd');
  await setHidden(page, true);
  const quiet = (await writer.say('@Reader urgent?')).ack.seq;
  await eventually(() => page.$eval(`#messages .message[data-seq="${quiet}"]`, (el) => el.classList.contains('mention')));
  await sleep(300);
  assert.equal((await notes(page)).shown.length, 1, 'do not disturb silences notifications');
  await setHidden(page, false);
  await closeAll(writer);
});
