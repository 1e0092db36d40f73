// A browser that cannot keep data for the site (storage switched off or full) cannot keep
// a name's token: the page must then not confirm the claim, and must say that the name
// will not be kept. The unconfirmed claim lapses (here after 3 s), so the name is free
// again and nobody is locked out by a token that exists nowhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { http, GENEROUS_LIMITS } from '../support/server.mjs';
import { roomId } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const requests = [];
const ctx = useBrowserPerson('storage', {
  vars: { ...GENEROUS_LIMITS, NAME_PENDING_SECS: '3' },
  prepare: async ({ page }) => {
    await page.addInitScript(() => {
      Storage.prototype.setItem = function setItem() { throw new DOMException('storage is off', 'QuotaExceededError'); };
    });
    page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  },
});

test('without storage the claim is not confirmed, the page says the name will not be kept, and it lapses', { timeout: 60_000 }, async () => {
  const { page } = ctx.person;
  const room = roomId('nostore');
  await join(page, ctx.server, room, 'Ann');
  await eventually(async () => assert.match(await page.textContent('#toasts'),
    /cannot store data for this site .*the name “Ann” will not be kept: it becomes free for anyone again/));
  // Chatting still works meanwhile.
  await typeAndSend(page, 'hello without storage');
  await confirmedMessage(page, 'hello without storage');
  assert.deepEqual(requests.filter((r) => r.includes('/api/names/confirm')), [], 'no confirmation was sent');
  // Unconfirmed, the claim lapses: the name is free again.
  await eventually(async () => assert.deepEqual((await http(ctx.server, '/api/names/Ann')).json, { name: 'Ann', claimed: false }),
    { timeout: 20_000, interval: 500 });
  assert.deepEqual(ctx.person.logs.filter((l) => l.includes('pageerror')), []);
});
