// The web UI meets a socket cap: a tab over MAX_SOCKETS_PER_CLAIM (1 on this server) is
// refused, says why in its banner (learned over plain HTTP: a browser cannot read a
// refused upgrade), keeps retrying slowly, and gets in once the other tab leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomId } from '../support/client.mjs';
import { GENEROUS_LIMITS } from '../support/server.mjs';
import { useBrowserPerson, eventually, join, banner, typeAndSend, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('abuse', { vars: { ...GENEROUS_LIMITS, MAX_SOCKETS_PER_CLAIM: '1' } });
const room = roomId('cap');

test('a tab over the per-claim socket cap says why and gets in once a slot frees', { timeout: 90_000 }, async () => {
  const first = ctx.person.page;
  await join(first, ctx.server, room, 'Tabby');
  // A second tab of the same browser: the same name, the same token, the same claim.
  const second = await ctx.person.context.newPage();
  try {
    await second.goto(`${ctx.server.url}/`);
    await second.waitForSelector('#name-input', { state: 'visible' });
    await second.fill('#name-input', 'Tabby');
    await second.fill('#room-input', room);
    await second.click('#join-button');
    await eventually(async () => {
      const b = await banner(second);
      assert.equal(b.shown, true, JSON.stringify(b));
      assert.match(b.text, /Tabby already has 1 connection open in this room/);
      assert.match(b.text, /reconnecting in \d+s/);
    }, { timeout: 15_000 });
    // The first tab is unharmed.
    await typeAndSend(first, 'still here');
    await confirmedMessage(first, 'still here');
    // The first tab leaves: the second gets in on its next try (Retry-After is 10 s).
    await first.close();
    await eventually(async () => {
      const b = await banner(second);
      assert.equal(b.shown, false, JSON.stringify(b));
    }, { timeout: 30_000 });
    await confirmedMessage(second, 'still here');
  } finally {
    await second.close().catch(() => {});
  }
});
