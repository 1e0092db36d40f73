// The web UI in a real browser (Debian's Chromium driven by playwright-core): two people
// join the same room, see each other, chat, see typing, reload, and cannot inject HTML.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { roomId, sleep } from '../support/client.mjs';
import {
  ARTIFACTS, launchBrowser, newPerson, eventually, shownMessages, confirmedMessage, banner,
  join as joinRoom, typeAndSend,
} from '../support/browser.mjs';

let server;
let browser;
const people = {}; // name -> { context, page, dialogs, logs }
const room = roomId('browser');
let serverOffset = 0;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await startServer({ vars: GENEROUS_LIMITS });
  browser = await launchBrowser();
  for (const name of ['Alice', 'Bob']) people[name] = await newPerson(browser);
}, { timeout: 120_000 });

after(async () => {
  if (browser) {
    for (const [name, p] of Object.entries(people)) {
      await p.page.screenshot({ path: path.join(ARTIFACTS, `chat-${name.toLowerCase()}.png`), fullPage: true }).catch(() => {});
    }
    await browser.close().catch(() => {});
  }
  if (server) await server.stop();
}, { timeout: 60_000 });

afterEach(async (t) => {
  if (t.passed) { serverOffset = server?.output.length ?? 0; return; }
  for (const [name, p] of Object.entries(people)) {
    const file = path.join(ARTIFACTS, `failed-${t.name.replace(/\W+/g, '_').slice(0, 40)}-${name.toLowerCase()}.png`);
    await p.page.screenshot({ path: file, fullPage: true }).catch(() => {});
    process.stderr.write(`\n----- ${name}'s browser log (screenshot: ${file}) -----\n${p.logs.slice(-50).join('\n')}\n`);
  }
  if (server) process.stderr.write(`\n----- server output during "${t.name}" -----\n${server.outputSince(serverOffset).split('\n').slice(-150).join('\n')}\n`);
  serverOffset = server?.output.length ?? 0;
});

const shownUsers = (page) => page.$$eval('#users li[data-name]', (els) => els.map((el) => ({
  name: el.getAttribute('data-name'),
  status: el.getAttribute('data-status'),
})));

async function isConnected(page) {
  return !(await banner(page)).shown;
}

const join = (page, name) => joinRoom(page, server, room, name);

/** Records, in the page, whether each .message was first shown with the class pending. */
async function watchPending(page) {
  await page.evaluate(() => {
    window.__pendingSeen = [];
    const root = document.querySelector('#messages');
    const obs = new MutationObserver((records) => {
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (!(n instanceof Element)) continue;
          const els = n.matches('.message') ? [n] : [...n.querySelectorAll('.message')];
          for (const el of els) {
            window.__pendingSeen.push({
              text: el.querySelector('.message-text')?.textContent ?? '',
              pending: el.classList.contains('pending'),
              seq: el.getAttribute('data-seq'),
            });
          }
        }
      }
    });
    obs.observe(root, { childList: true, subtree: true });
  });
}

test('both join the same room through the landing page and see each other', async () => {
  const { Alice, Bob } = people;
  await join(Alice.page, 'Alice');
  assert.equal(new URL(Alice.page.url()).hash, `#${room}`, 'hash routing: /#room');
  assert.match(await Alice.page.textContent('#room-title'), new RegExp(room));
  await join(Bob.page, 'Bob');

  await eventually(async () => {
    const users = await shownUsers(Alice.page);
    assert.deepEqual(users.map((u) => u.name).sort(), ['Alice', 'Bob'], `Alice's list: ${JSON.stringify(users)}`);
  });
  await eventually(async () => {
    const users = await shownUsers(Bob.page);
    assert.deepEqual(users.map((u) => u.name).sort(), ['Alice', 'Bob'], `Bob's list: ${JSON.stringify(users)}`);
    assert.ok(users.every((u) => u.status === 'online'), JSON.stringify(users));
  });
  const serverSide = (await http(server, `/room/${room}/users`)).json.users.map((u) => u.name).sort();
  assert.deepEqual(serverSide, ['Alice', 'Bob']);
});

test('a message typed and sent with Enter shows pending, then confirmed with its seq, on both pages', async () => {
  const { Alice, Bob } = people;
  await watchPending(Alice.page);
  await typeAndSend(Alice.page, 'Hello Bob, this is Alice');
  const onAlice = await confirmedMessage(Alice.page, 'Hello Bob, this is Alice');
  const onBob = await confirmedMessage(Bob.page, 'Hello Bob, this is Alice');
  assert.equal(onAlice.seq, '1');
  assert.equal(onBob.seq, '1');
  assert.equal(onAlice.name, 'Alice');
  assert.equal(onBob.name, 'Alice');
  assert.ok(onBob.time, 'a time is shown');
  assert.equal(await Alice.page.inputValue('#message-input'), '', 'the input is cleared after sending');
  const seen = await Alice.page.evaluate(() => window.__pendingSeen);
  const first = seen.find((s) => s.text.trim() === 'Hello Bob, this is Alice');
  assert.ok(first, `the message element was added to #messages: ${JSON.stringify(seen)}`);
  assert.equal(first.pending, true, 'shown as pending before the ack');

  await typeAndSend(Bob.page, 'Hi Alice!');
  assert.equal((await confirmedMessage(Alice.page, 'Hi Alice!')).seq, '2');
  assert.equal((await confirmedMessage(Bob.page, 'Hi Alice!')).name, 'Bob');

  // What the server stored is what was typed.
  const stored = (await http(server, `/room/${room}/messages`)).json.messages.map((m) => [m.seq, m.name, m.text]);
  assert.deepEqual(stored, [[1, 'Alice', 'Hello Bob, this is Alice'], [2, 'Bob', 'Hi Alice!']]);
  // The order on the page is the seq order.
  for (const p of [Alice.page, Bob.page]) {
    const texts = (await shownMessages(p)).map((m) => m.text.trim());
    assert.deepEqual(texts.slice(-2), ['Hello Bob, this is Alice', 'Hi Alice!']);
  }
});

test('the other page shows who is typing, and stops once the message is sent', async () => {
  const { Alice, Bob } = people;
  await Bob.page.click('#message-input');
  await Bob.page.keyboard.type('I am typing something long', { delay: 60 });
  await eventually(async () => {
    const line = await Alice.page.textContent('#typing');
    assert.match(line ?? '', /Bob/, `Alice's typing line: ${JSON.stringify(line)}`);
    assert.equal(await Alice.page.isVisible('#typing'), true);
  }, { timeout: 5000 });
  // Bob does not see himself typing.
  assert.doesNotMatch((await Bob.page.textContent('#typing')) ?? '', /Bob/);
  await Bob.page.press('#message-input', 'Enter');
  await confirmedMessage(Alice.page, 'I am typing something long');
  await eventually(async () => {
    const line = (await Alice.page.isVisible('#typing')) ? await Alice.page.textContent('#typing') : '';
    assert.doesNotMatch(line ?? '', /Bob/, `typing line after the send: ${JSON.stringify(line)}`);
  }, { timeout: 7000 });
});

test('HTML in a message is shown as literal text, never as markup', async () => {
  const { Alice, Bob } = people;
  const evil = '<img src=x onerror=alert(1)>';
  const evil2 = '<b>bold?</b> <script>alert(2)</script>';
  await typeAndSend(Bob.page, evil);
  await typeAndSend(Bob.page, evil2);
  for (const p of [Alice.page, Bob.page]) {
    const m = await confirmedMessage(p, evil);
    assert.equal(m.text.trim(), evil);
    await confirmedMessage(p, evil2);
    assert.equal(await p.locator('#messages img').count(), 0, 'no img element inside #messages');
    assert.equal(await p.locator('#messages b, #messages script').count(), 0, 'no b/script element inside #messages');
  }
  await sleep(1000);
  assert.deepEqual(Alice.dialogs, [], 'no dialog fired on Alice\'s page');
  assert.deepEqual(Bob.dialogs, [], 'no dialog fired on Bob\'s page');
});

test('a status change shows on the other page', async () => {
  const { Alice, Bob } = people;
  await Alice.page.selectOption('#status-select', 'away');
  await eventually(async () => {
    const users = await shownUsers(Bob.page);
    assert.deepEqual(users.find((u) => u.name === 'Alice'), { name: 'Alice', status: 'away' }, JSON.stringify(users));
  });
  await Alice.page.selectOption('#status-select', 'online');
  await eventually(async () => {
    const users = await shownUsers(Bob.page);
    assert.equal(users.find((u) => u.name === 'Alice')?.status, 'online');
  });
});

test('after a reload the page gets its history back and keeps chatting', async () => {
  const { Alice, Bob } = people;
  const before = (await shownMessages(Alice.page)).map((m) => [m.seq, m.text.trim()]);
  assert.ok(before.length >= 5, JSON.stringify(before));
  await Alice.page.reload();
  // The UI may rejoin by itself from the hash (and a remembered name) or show the landing page.
  const which = await Promise.race([
    Alice.page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 }).then(() => 'chat'),
    Alice.page.waitForSelector('#name-input', { state: 'visible', timeout: 10_000 }).then(() => 'landing'),
  ]);
  if (which === 'landing' && !(await Alice.page.isVisible('#chat'))) {
    await Alice.page.fill('#name-input', 'Alice');
    if (!(await Alice.page.inputValue('#room-input'))) await Alice.page.fill('#room-input', room);
    await Alice.page.click('#join-button');
    await Alice.page.waitForSelector('#chat', { state: 'visible' });
  }
  await eventually(async () => assert.equal(await isConnected(Alice.page), true));
  await eventually(async () => {
    const after = (await shownMessages(Alice.page)).filter((m) => m.seq).map((m) => [m.seq, m.text.trim()]);
    assert.deepEqual(after, before, 'the same history, in the same order');
  });
  await typeAndSend(Alice.page, 'Back after reloading');
  await confirmedMessage(Bob.page, 'Back after reloading');
  const mine = await confirmedMessage(Alice.page, 'Back after reloading');
  assert.equal(mine.seq, String(Number(before.at(-1)[0]) + 1));
  await eventually(async () => {
    assert.deepEqual((await shownUsers(Bob.page)).map((u) => u.name).sort(), ['Alice', 'Bob'], 'Alice is listed once');
  });
});

test('leaving returns to the landing page, which lists the room; the other page sees the user leave', async () => {
  const { Alice, Bob } = people;
  await Bob.page.screenshot({ path: path.join(ARTIFACTS, 'chat-bob-before-leave.png'), fullPage: true });
  await Alice.page.screenshot({ path: path.join(ARTIFACTS, 'chat-alice-before-leave.png'), fullPage: true });
  await Alice.page.click('#leave-button');
  await Alice.page.waitForSelector('#name-input', { state: 'visible' });
  await eventually(async () => {
    const rooms = await Alice.page.$$eval('#rooms-list li[data-room]', (els) => els.map((e) => e.getAttribute('data-room')));
    assert.ok(rooms.includes(room), `rooms list: ${JSON.stringify(rooms)}`);
  });
  await eventually(async () => {
    assert.deepEqual((await shownUsers(Bob.page)).map((u) => u.name), ['Bob']);
  });
});
