// The offline outbox in a real browser: messages sent with the network cut are kept
// (IndexedDB) and marked "waiting to send", survive a reload while offline (the app shell
// comes from the service worker), and once the network is back each appears once, in
// order, for the sender and for another person in the room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomId } from '../support/client.mjs';
import { useBrowserAndServer, newPerson, eventually, shownMessages, confirmedMessage, join, typeAndSend }
  from '../support/browser.mjs';
import { GENEROUS_LIMITS } from '../support/server.mjs';

const ctx = useBrowserAndServer({ vars: GENEROUS_LIMITS });

const waiting = (page) => page.$$eval('#messages .message.waiting .message-text', (els) => els.map((e) => e.textContent.trim()));

test('sent offline, reloaded offline, then back online: each message once, in order', { timeout: 120_000 }, async () => {
  const { server, browser } = ctx;
  const room = roomId('outbox');
  const ann = await newPerson(browser);
  const bo = await newPerson(browser);
  try {
    await join(ann.page, server, room, 'Ann');
    await join(bo.page, server, room, 'Bo');
    // The service worker controls the page once it has installed the shell.
    await ann.page.evaluate(async () => { await navigator.serviceWorker.ready; });
    await ann.page.reload();
    await eventually(async () => assert.ok(await ann.page.evaluate(() => Boolean(navigator.serviceWorker.controller))));
    await ann.page.waitForSelector('#chat', { state: 'visible' });

    await eventually(async () => assert.equal(await ann.page.evaluate(() => window.edgechat.state.welcomed), true));
    await ann.context.setOffline(true);
    // Chromium's offline mode leaves an open WebSocket open: cut it as a lost network would.
    await ann.page.evaluate(() => window.edgechat.state.socket?.close());
    await eventually(async () => assert.equal(await ann.page.evaluate(() => window.edgechat.state.welcomed), false), { timeout: 20_000 });
    const texts = ['offline one', 'offline two', 'offline three'];
    for (const text of texts) await typeAndSend(ann.page, text);
    await eventually(async () => assert.deepEqual(await waiting(ann.page), texts));

    await ann.page.reload(); // offline: the shell comes from the service worker
    await ann.page.waitForSelector('#chat', { state: 'visible' });
    await eventually(async () => assert.deepEqual(await waiting(ann.page), texts));

    await ann.context.setOffline(false);
    for (const page of [ann.page, bo.page]) {
      for (const text of texts) await confirmedMessage(page, text, 30_000);
      const shown = (await shownMessages(page)).filter((m) => texts.includes(m.text?.trim()));
      assert.deepEqual(shown.map((m) => m.text.trim()), texts, 'once each, in order');
      const seqs = shown.map((m) => Number(m.seq));
      assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], 'in seq order');
    }
    assert.deepEqual(await waiting(ann.page), [], 'no waiting mark is left');
  } finally {
    await ann.context.close().catch(() => {});
    await bo.context.close().catch(() => {});
  }
});

test('a send cut off before its ack, and a reload before the socket is back: it appears once', { timeout: 120_000 }, async () => {
  const { server, browser } = ctx;
  const room = roomId('outbox-ack');
  const ann = await newPerson(browser);
  const bo = await newPerson(browser);
  try {
    // Other names than the first test's: a name is held by the claim that took it.
    await join(ann.page, server, room, 'Cy');
    await join(bo.page, server, room, 'Di');
    // The frame leaves and the socket is closed in the same turn: the ack can never reach
    // this socket, whether or not the room got the message.
    await ann.page.fill('#message-input', 'cut before the ack');
    await ann.page.evaluate(() => {
      document.querySelector('#composer').requestSubmit();
      window.edgechat.state.socket?.close();
    });
    await ann.page.reload(); // the entry is in IndexedDB, whatever the socket saw
    await ann.page.waitForSelector('#chat', { state: 'visible' });
    for (const page of [ann.page, bo.page]) {
      await confirmedMessage(page, 'cut before the ack', 30_000);
      await typeAndSend(page, `after, from ${page === ann.page ? 'Cy' : 'Di'}`);
    }
    for (const page of [ann.page, bo.page]) {
      await confirmedMessage(page, 'after, from Cy', 30_000);
      await confirmedMessage(page, 'after, from Di', 30_000);
      const shown = (await shownMessages(page)).filter((m) => m.text?.trim() === 'cut before the ack');
      assert.equal(shown.length, 1, 'once, not twice');
    }
    assert.deepEqual(await waiting(ann.page), []);
    const stored = await ann.page.evaluate(() => new Promise((resolve) => {
      const open = indexedDB.open('edgechat-outbox');
      open.onsuccess = () => {
        const db = open.result;
        const names = [...db.objectStoreNames];
        if (!names.length) return resolve(0);
        const count = db.transaction(names[0]).objectStore(names[0]).count();
        count.onsuccess = () => resolve(count.result);
        count.onerror = () => resolve(-1);
      };
      open.onerror = () => resolve(-1);
    }));
    assert.equal(stored, 0, 'the acknowledged entry left the outbox');
  } finally {
    await ann.context.close().catch(() => {});
    await bo.context.close().catch(() => {});
  }
});
