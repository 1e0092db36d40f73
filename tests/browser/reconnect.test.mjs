// The web UI's reconnect, in a real browser (Debian's Chromium driven by playwright-core):
// page A (Alice) and a plain WebSocket client B (Bob) chat in one room, then the server
// goes down for a few seconds and comes back on the same port with the same state. While
// it is down, A shows the connection banner and keeps a message typed offline as pending.
// Once it is back, B reconnects with since= and sends 3 messages; A must reconnect by
// itself (with since=), confirm its offline message (stored exactly once) and show every
// message once, in seq order, without gaps.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, closeOpenClients, cid, roomId, sleep } from '../support/client.mjs';
import {
  ARTIFACTS, launchBrowser, newPerson, eventually, shownMessages, confirmedMessage, banner,
  join as joinRoom, typeAndSend,
} from '../support/browser.mjs';

/** How long the server stays down at least (the page's backoff is 0.5 s doubling up to 15 s). */
const DOWN_FOR_MS = 2_000;
/** Backoff (at most 15 s, jitter included) plus a start of wrangler dev, with room to spare. */
const RECOVERY_TIMEOUT_MS = 45_000;

let server;
let browser;
let alice; // { context, page, dialogs, logs, sockets }
const room = roomId('reconnect');
let serverOffset = 0;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer({ vars: GENEROUS_LIMITS });
  browser = await launchBrowser();
  alice = { ...(await newPerson(browser)), sockets: [] };
  const { page } = alice;
  // Every WebSocket the page opens (failed attempts included), with the frames it sent.
  page.on('websocket', (ws) => {
    const entry = { url: ws.url(), sent: [], closed: false };
    alice.sockets.push(entry);
    ws.on('framesent', (f) => entry.sent.push(typeof f.payload === 'string' ? f.payload : '<binary>'));
    ws.on('close', () => { entry.closed = true; });
  });
}, { timeout: 120_000 });

after(async () => {
  await closeOpenClients();
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop();
}, { timeout: 60_000 });

afterEach(async (t) => {
  await closeOpenClients();
  if (t.passed) { serverOffset = server?.output.length ?? 0; return; }
  if (alice) {
    const file = path.join(ARTIFACTS, `failed-reconnect-${t.name.replace(/\W+/g, '_').slice(0, 40)}-alice.png`);
    await alice.page.screenshot({ path: file, fullPage: true }).catch(() => {});
    process.stderr.write(`\n----- Alice's browser log (screenshot: ${file}) -----\n${alice.logs.slice(-50).join('\n')}\n`);
    process.stderr.write(`----- Alice's sockets -----\n${alice.sockets.map((s) => `${s.url} sent=${JSON.stringify(s.sent.filter((f) => f !== 'ping'))}`).join('\n')}\n`);
  }
  if (server) process.stderr.write(`\n----- server output during "${t.name}" -----\n${server.outputSince(serverOffset).split('\n').slice(-150).join('\n')}\n`);
  serverOffset = server?.output.length ?? 0;
});

const join = (page, name) => joinRoom(page, server, room, name);

/**
 * Asserts that the page's list is a clean run of seqs: every .message confirmed, seqs
 * strictly increasing and gapless from the first one shown, no seq and no client id twice.
 */
function assertCleanList(shown, what) {
  const ctx = `${what}: ${JSON.stringify(shown.map((m) => [m.seq, m.clientId, m.pending, m.text?.trim()]))}`;
  assert.ok(shown.length > 0, `messages are shown (${ctx})`);
  for (const m of shown) {
    assert.match(m.seq ?? '', /^\d+$/, `every message has a data-seq (${ctx})`);
    assert.equal(m.pending, false, `no message is left pending (${ctx})`);
    assert.equal(m.failed, false, `no message failed (${ctx})`);
  }
  const seqs = shown.map((m) => Number(m.seq));
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `seqs strictly increase at index ${i} (${ctx})`);
    assert.equal(seqs[i], seqs[i - 1] + 1, `no gap after seq ${seqs[i - 1]} (${ctx})`);
  }
  assert.equal(new Set(seqs).size, seqs.length, `no duplicate seq (${ctx})`);
  const ids = shown.map((m) => m.clientId).filter(Boolean);
  assert.equal(ids.length, shown.length, `every message has a client id (${ctx})`);
  assert.equal(new Set(ids).size, ids.length, `no duplicate client id (${ctx})`);
  return seqs;
}

/** The `send` frames a socket of the page sent, parsed. */
const sendsOf = (socket) => socket.sent
  .filter((f) => f !== 'ping')
  .map((f) => { try { return JSON.parse(f); } catch { return null; } })
  .filter((f) => f?.type === 'send');

// --- The scenario ----------------------------------------------------------------------

test('after an outage the page reconnects with since=, confirms its offline message once and shows every message once, in order', { timeout: 240_000 }, async (t) => {
  const { page } = alice;

  // 1. Alice (page) and Bob (plain socket) chat a little, so that Alice has history.
  await join(page, 'Alice');
  let bob = await connect(server, room, 'Bob');
  await eventually(async () => {
    const users = await page.$$eval('#users li[data-name]', (els) => els.map((e) => e.getAttribute('data-name')));
    assert.deepEqual(users.sort(), ['Alice', 'Bob'], `Alice's user list: ${JSON.stringify(users)}`);
  });
  const bobSeen = new Map(); // seq -> message, everything Bob's first socket received
  const seeBob = (m) => bobSeen.set(m.seq, m);

  for (const [who, text] of [['Alice', 'Hi Bob, before the outage'], ['Bob', 'Hi Alice'], ['Alice', 'How are you?'], ['Bob', 'Fine, and the server?']]) {
    if (who === 'Alice') {
      await typeAndSend(page, text);
      await confirmedMessage(page, text);
    } else {
      const { message } = await bob.say(text);
      await confirmedMessage(page, text);
      seeBob(message);
    }
  }
  // Bob also got Alice's messages as broadcasts.
  for (const f of bob.discard('message')) seeBob(f.message);
  assert.deepEqual([...bobSeen.keys()].sort((a, b) => a - b), [1, 2, 3, 4], 'Bob saw seqs 1-4');

  const beforeOutage = await shownMessages(page);
  const seqsBefore = assertCleanList(beforeOutage, 'before the outage');
  assert.deepEqual(seqsBefore, [1, 2, 3, 4]);
  const lastSeqBefore = seqsBefore.at(-1);
  const socketsBefore = alice.sockets.length;
  assert.equal(socketsBefore, 1, `one socket so far: ${JSON.stringify(alice.sockets.map((s) => s.url))}`);
  assert.equal(new URL(alice.sockets[0].url).searchParams.get('since'), null, 'the first connect has no since=');

  // 2. The server goes down (same state dir, same port afterwards) for a while.
  const port = server.port;
  const offlineText = 'Typed while the server was down';
  let offline; // the pending message as the page showed it
  let bannerDown;
  let downAt = 0;
  let upAt = 0;
  await server.restart({
    samePort: true,
    whileDown: async () => {
      downAt = Date.now();
      // The page notices and shows the banner.
      bannerDown = await eventually(async () => {
        const b = await banner(page);
        assert.equal(b.hiddenAttr, false, `the banner has no hidden attribute while down: ${JSON.stringify(b)}`);
        assert.equal(b.shown, true, `the banner is visible while down: ${JSON.stringify(b)}`);
        return b;
      }, { timeout: 10_000 });
      assert.match(bannerDown.text, /connect/i, `the banner says the connection is being re-established: ${JSON.stringify(bannerDown.text)}`);
      await eventually(() => assert.ok(bob.closed, 'Bob\'s socket closed with the server'));

      // A message typed now stays pending (no seq yet).
      await typeAndSend(page, offlineText);
      offline = await eventually(async () => {
        const found = (await shownMessages(page)).filter((m) => m.text?.trim() === offlineText);
        assert.equal(found.length, 1, `the offline message is shown once: ${JSON.stringify(found)}`);
        assert.equal(found[0].pending, true, `the offline message is pending: ${JSON.stringify(found[0])}`);
        assert.equal(found[0].seq, null, `a pending message has no data-seq: ${JSON.stringify(found[0])}`);
        assert.ok(found[0].clientId, 'the pending message has a client id');
        return found[0];
      });
      assert.equal(await page.inputValue('#message-input'), '', 'the input is cleared after sending');
      assert.equal((await banner(page)).shown, true, 'the banner still shows');
      assert.equal(await page.$eval('#users', (e) => e.classList.contains('stale')), true, 'the users list is marked as last seen while down');
      await page.screenshot({ path: path.join(ARTIFACTS, 'reconnect-alice-outage.png'), fullPage: true });

      const left = DOWN_FOR_MS - (Date.now() - downAt);
      if (left > 0) await sleep(left);
    },
  });
  upAt = Date.now();
  assert.equal(server.port, port, 'the server came back on the same port');

  // 3. Bob reconnects with since= and sends 3 messages at once.
  bob = await connect(server, room, 'Bob', { since: lastSeqBefore });
  for (const m of bob.welcome.messages) {
    assert.ok(m.seq > lastSeqBefore, `Bob's welcome after since=${lastSeqBefore} only has newer messages: ${JSON.stringify(bob.welcome.messages)}`);
  }
  const bobTexts = ['Back! one', 'Back! two', 'Back! three'];
  const bobIds = bobTexts.map(() => cid('bob-back'));
  bobTexts.forEach((text, i) => bob.send({ type: 'send', text, client_id: bobIds[i] }));
  const bobAcks = [];
  for (const id of bobIds) bobAcks.push(await bob.nextAck(id, { timeout: 15_000 }));
  for (let i = 1; i < bobAcks.length; i++) assert.equal(bobAcks[i].seq, bobAcks[i - 1].seq + 1, `Bob's 3 messages got consecutive seqs: ${JSON.stringify(bobAcks)}`);

  // 4. Alice's page recovers by itself: banner gone, offline message confirmed, Bob's 3 shown.
  await eventually(async () => {
    const b = await banner(page);
    assert.equal(b.hiddenAttr, true, `the banner hides again once reconnected: ${JSON.stringify(b)}`);
    assert.equal(b.shown, false, `the banner is not visible once reconnected: ${JSON.stringify(b)}`);
  }, { timeout: RECOVERY_TIMEOUT_MS, interval: 200 });
  assert.equal(await page.$eval('#users', (e) => e.classList.contains('stale')), false, 'the users list is live again');
  const recoveredAt = Date.now();
  const mine = await eventually(async () => {
    const m = await confirmedMessage(page, offlineText, 1);
    assert.equal(m.clientId, offline.clientId, 'the confirmed message kept its client id');
    return m;
  }, { timeout: 15_000 });
  for (const text of bobTexts) await confirmedMessage(page, text, 15_000);

  // Let late frames (acks, broadcasts, history pages) arrive, then look at the whole list.
  await sleep(1_500);
  const shown = await shownMessages(page);
  const seqs = assertCleanList(shown, 'after recovery');
  assert.equal(shown.filter((m) => m.text?.trim() === offlineText).length, 1, 'the offline message is shown once');
  assert.equal(shown.filter((m) => m.clientId === offline.clientId).length, 1, 'its client id is shown once');
  for (const text of bobTexts) assert.equal(shown.filter((m) => m.text?.trim() === text).length, 1, `${text} is shown once`);
  assert.deepEqual(seqs.slice(0, lastSeqBefore), seqsBefore, 'the history from before the outage is still there, unchanged');
  const shownIds = new Map(shown.map((m) => [Number(m.seq), m]));
  bobAcks.forEach((ack, i) => {
    assert.equal(shownIds.get(ack.seq)?.text?.trim(), bobTexts[i], `seq ${ack.seq} is Bob's ${JSON.stringify(bobTexts[i])}`);
    assert.equal(shownIds.get(ack.seq)?.clientId, bobIds[i]);
  });

  // The server stored Alice's offline message exactly once, and the page shows what it stored.
  const stored = (await http(server, `/room/${room}/messages?limit=100`)).json.messages;
  const storedMine = stored.filter((m) => m.client_id === offline.clientId);
  assert.equal(storedMine.length, 1, `the offline message's client_id is stored once: ${JSON.stringify(stored)}`);
  assert.equal(storedMine[0].text, offlineText);
  assert.equal(storedMine[0].name, 'Alice');
  assert.equal(Number(mine.seq), storedMine[0].seq, 'the page shows the stored seq');
  assert.deepEqual(stored.map((m) => m.seq), seqs, 'the page shows exactly the stored seqs');
  assert.deepEqual(stored.map((m) => m.client_id), shown.map((m) => m.clientId), 'and the stored client ids, in the same order');

  // Bob's new socket got Alice's offline message once (in his welcome or as a broadcast).
  const bobGot = () => [
    ...bob.welcome.messages,
    ...bob.frames.filter((f) => f?.type === 'message').map((f) => f.message),
  ].filter((m) => m.client_id === offline.clientId);
  await eventually(() => assert.equal(bobGot().length, 1, `Bob got the offline message: ${JSON.stringify(bobGot())}`));
  assert.equal(bobGot()[0].seq, storedMine[0].seq);

  // How the page reconnected: every attempt after the outage asked since=<last seq before
  // it>, and the offline message was sent once, on the socket that got the new welcome.
  const later = alice.sockets.slice(socketsBefore);
  assert.ok(later.length >= 1, 'the page opened a new socket');
  for (const s of later) {
    assert.equal(new URL(s.url).searchParams.get('since'), String(lastSeqBefore), `reconnect URL ${s.url} carries since=${lastSeqBefore}`);
  }
  const offlineSends = alice.sockets.flatMap((s) => sendsOf(s)).filter((f) => f.client_id === offline.clientId);
  assert.equal(offlineSends.length, 1, `the offline message was sent once: ${JSON.stringify(offlineSends)}`);
  assert.equal(offlineSends[0].text, offlineText);
  assert.deepEqual(sendsOf(alice.sockets.at(-1)).map((f) => f.client_id), [offline.clientId], 'on the new socket');

  assert.deepEqual(alice.dialogs, [], 'no dialog');
  assert.deepEqual(alice.logs.filter((l) => l.startsWith('[pageerror]')), [], 'no page error');
  await page.screenshot({ path: path.join(ARTIFACTS, 'reconnect-alice-recovered.png'), fullPage: true });

  t.diagnostic(`outage: down ${upAt - downAt} ms (banner: ${JSON.stringify(bannerDown.text)}), ` +
    `page recovered ${recoveredAt - upAt} ms after the server was back, ${later.length} socket(s) opened since the outage; ` +
    `seqs shown ${seqs[0]}..${seqs.at(-1)}, offline message seq ${mine.seq}, Bob's ${bobAcks.map((a) => a.seq).join(',')}`);
});
