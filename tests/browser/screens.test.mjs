// Every screen at a phone's width (360 x 740, touch, no hover), and the room list and rail
// on a desktop: what a person must see is on screen and uncovered. Saves the screenshots
// under docs/screenshots/ (committed, so a change to the layout shows in review):
// the landing page, a room with messages and reactions, the tapped message's actions, a
// thread, search, the people drawer, a direct message, the release dialog, and the desktop
// (the create-room form and the room edit dialog are checked, not saved).
//
// Asserted, not only shown: no horizontal scroll on any screen; the header's room name has
// width, lies inside the viewport, is not cut and is not covered; a message's action bar
// overlaps no message text; the day divider comes before the first system line; the UI's
// icons are <svg> elements and no button shows an icon glyph from a font.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, roomId, cid } from '../support/client.mjs';
import { useBrowserAndServer, newPerson, eventually, confirmedMessage, typeAndSend } from '../support/browser.mjs';

const SHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const PHONE = { viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 };

const ctx = useBrowserAndServer();

async function phonePerson() {
  const person = await newPerson(ctx.browser); // for its dialog and log recording
  await person.context.close();
  person.context = await ctx.browser.newContext(PHONE);
  person.page = await person.context.newPage();
  person.page.on('pageerror', (e) => person.logs.push(`[pageerror] ${e.message}`));
  return person;
}

async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.waitForTimeout(150); // let a transition or a late layout settle
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Nothing wider than the viewport: the page never scrolls sideways. On a phone a page too
 *  wide also widens the layout viewport (innerWidth grows past the screen's 360 px), so the
 *  widths are held against the screen's own. */
async function assertNoSideScroll(page, where) {
  const screen = page.viewportSize().width;
  const m = await page.evaluate(() => ({
    doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth,
    // Boxes that scroll on their own must not scroll sideways either.
    inner: ['.chat-header', '#scroller', '#thread-list', '#search-results', '#users-panel', '#rooms-list', '.composer']
      .map((s) => document.querySelector(s)).filter((e) => e && e.offsetParent)
      .map((e) => ({ id: e.id || e.className, over: e.scrollWidth - e.clientWidth })).filter((e) => e.over > 0),
  }));
  assert.ok(m.view === screen && m.doc <= screen && m.body <= screen, `${where}: no horizontal scroll on a ${screen} px screen (${JSON.stringify(m)})`);
  assert.deepEqual(m.inner, [], `${where}: no box scrolls sideways`);
}

/** Every button's icon is an <svg>: no glyph (arrow, cross, emoji) from a font in a button,
 *  reactions and the emoji picker aside (those are the emoji people picked). */
async function assertSvgIcons(page, where) {
  const bad = await page.evaluate(() => [...document.querySelectorAll('button')]
    .filter((b) => !b.closest('.reactions, .reaction-picker, .message-text, .search-snippet, .thread-parent'))
    .map((b) => ({ id: b.id || b.className, text: b.textContent }))
    .filter((b) => /[\p{So}\u00D7\u2190-\u21FF\u2300-\u23FF]/u.test(b.text)));
  assert.deepEqual(bad, [], `${where}: buttons with a font glyph for an icon`);
  const iconButtons = await page.$$eval(
    '#leave-button, #search-toggle, #release-button, #attach-button, #rooms-refresh, #thread-close, #search-close, #reply-cancel, #users-close',
    (buttons) => buttons.map((b) => ({ id: b.id, svg: Boolean(b.querySelector('svg')) })),
  );
  for (const b of iconButtons) assert.ok(b.svg, `${where}: #${b.id} has an <svg> icon`);
}

/** The header's room name: visible, inside the viewport, not cut short, not covered. */
async function assertRoomNameShown(page, expected) {
  const r = await page.evaluate(() => {
    const title = document.getElementById('room-title');
    const heading = title.closest('h1');
    const box = title.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return {
      text: title.textContent, left: box.left, right: box.right, width: box.width, height: box.height,
      view: window.innerWidth, cut: heading.scrollWidth > heading.clientWidth + 1, uncovered: heading.contains(hit),
    };
  });
  assert.equal(r.text, expected);
  assert.equal(r.view, page.viewportSize().width, `the page is as wide as the screen: ${JSON.stringify(r)}`);
  assert.ok(r.width > 0 && r.height > 0, `the room name has a size: ${JSON.stringify(r)}`);
  assert.ok(r.left >= 0 && r.right <= r.view, `the room name lies inside the viewport: ${JSON.stringify(r)}`);
  assert.equal(r.cut, false, `the room name is not cut: ${JSON.stringify(r)}`);
  assert.equal(r.uncovered, true, `nothing lies over the room name: ${JSON.stringify(r)}`);
}

/** The shown action bar of the message `seq` overlaps no message's text. */
async function assertActionsClearOfText(page, seq, where) {
  const r = await page.evaluate((s) => {
    const node = document.querySelector(`#messages .message[data-seq="${s}"]`);
    const bar = node.querySelector('.message-actions');
    const b = bar.getBoundingClientRect();
    const overlaps = [...document.querySelectorAll('#messages .message-text')].map((t) => {
      const r = t.getBoundingClientRect();
      return { seq: t.closest('.message').dataset.seq, hit: b.left < r.right && r.left < b.right && b.top < r.bottom && r.top < b.bottom };
    }).filter((o) => o.hit);
    return { shown: getComputedStyle(bar).display !== 'none' && b.width > 0, right: b.right, view: window.innerWidth, overlaps };
  }, seq);
  assert.equal(r.shown, true, `${where}: the action bar is shown`);
  assert.ok(r.right <= r.view, `${where}: the action bar is inside the viewport: ${JSON.stringify(r)}`);
  assert.deepEqual(r.overlaps, [], `${where}: the action bar covers no message text`);
}

test('every screen at 360 px: landing, room, actions, thread, search, people, DM, dialog', { timeout: 240_000 }, async () => {
  // Rooms whose addresses differ only at their ends, as a team's do.
  const alpha = roomId('browser-team-alpha');
  const beta = roomId('browser-team-beta');
  for (const room of [alpha, beta]) {
    const c = await connect(ctx.server, room, 'Cy');
    await c.say(`hello in ${room}`);
    await c.close();
  }

  const ann = await phonePerson();
  const { page } = ann;
  const hover = await page.evaluate(() => matchMedia('(hover: hover)').matches);
  assert.equal(hover, false, 'the phone context has no hover: the touch path is the one tested');

  // Landing.
  await page.goto(`${ctx.server.url}/`);
  await page.waitForSelector('#name-input', { state: 'visible' });
  await page.fill('#name-input', 'Ann');
  await eventually(async () => {
    const ids = await page.$$eval('#rooms-list li', (lis) => lis.map((li) => li.dataset.room));
    assert.ok(ids.includes(alpha) && ids.includes(beta), JSON.stringify(ids));
  });
  const names = await page.$$eval('#rooms-list .room-name', (els) => els.map((e) => ({
    text: e.firstChild.textContent, title: e.title, cut: e.scrollWidth > e.clientWidth + 1,
  })));
  for (const room of [alpha, beta]) {
    const n = names.find((x) => x.text === room);
    assert.ok(n, `${room} is listed by its whole address`);
    assert.equal(n.cut, false, `${room} is not cut`);
    assert.equal(n.title, `#${room}`, 'its full name on hover');
  }
  await assertNoSideScroll(page, 'landing');
  await assertSvgIcons(page, 'landing');
  await shot(page, 'landing-360');
  await page.tap('.create-room summary'); // the form for a room with a title
  await page.waitForSelector('#create-form', { state: 'visible' });
  await assertNoSideScroll(page, 'create a room');
  await page.tap('.create-room summary');

  // A new room: Ann first, then Bo joins and talks; a reaction; Ann answers.
  const room = roomId('ui-shots');
  await page.fill('#room-input', room);
  await page.click('#join-button');
  await page.waitForSelector('#chat', { state: 'visible' });
  await eventually(async () => assert.equal(await page.isVisible('#conn-banner'), false));
  const bo = await connect(ctx.server, room, 'Bo');
  await eventually(async () => assert.ok(await page.$('#messages .system-line')));
  const first = await bo.say('Morning! Has anyone looked at the deploy from last night? The edge logs show a spike around 02:00 UTC.');
  await bo.say('Looks like it was the cache warm-up. 🙂');
  await bo.say('I will write it down in the runbook so that the next person on call knows what to expect.');
  bo.send({ type: 'react', seq: first.ack.seq, emoji: '👍', on: true, client_id: cid('r') });
  bo.send({ type: 'react', seq: first.ack.seq, emoji: '🎉', on: true, client_id: cid('r') });
  await typeAndSend(page, 'Thanks Bo, that matches what I saw 👍');
  await confirmedMessage(page, 'Thanks Bo, that matches what I saw 👍');
  await eventually(async () => assert.equal(await page.$$eval(`#messages .message[data-seq="${first.ack.seq}"] .reaction`, (r) => r.length), 2));
  await page.evaluate(() => document.activeElement?.blur());

  // The day divider comes first, before the "Bo joined" line.
  const order = await page.$$eval('#messages > li', (lis) => lis.map((li) => ({
    system: li.classList.contains('system-line'), day: li.classList.contains('day-start'),
    divider: getComputedStyle(li, '::before').content,
  })));
  const firstSystem = order.findIndex((x) => x.system);
  const firstDay = order.findIndex((x) => x.day);
  assert.ok(firstSystem >= 0 && firstDay >= 0, JSON.stringify(order));
  assert.ok(firstDay <= firstSystem, `the day divider precedes the first system line: ${JSON.stringify(order)}`);
  assert.equal(order[firstDay].divider, '"Today"');
  assert.equal(order.filter((x) => x.day).length, 1, 'one day, one divider');

  await assertRoomNameShown(page, room);
  await assertNoSideScroll(page, 'room');
  await assertSvgIcons(page, 'room');
  await shot(page, 'room-360');
  for (const width of [320, 600]) { // a smaller phone, and a large one whose header has one line
    await page.setViewportSize({ width, height: 740 });
    await assertRoomNameShown(page, room);
    await assertNoSideScroll(page, `room at ${width} px`);
  }
  await page.setViewportSize(PHONE.viewport);

  // A tap on a message shows its actions (no hover here), clear of every text.
  const seq = first.ack.seq + 1; // Bo's second message, between two others
  assert.equal(await page.isVisible(`#messages .message[data-seq="${seq}"] .message-actions`), false, 'actions are not in the way until asked for');
  await page.tap(`#messages .message[data-seq="${seq}"] .message-text`);
  await assertActionsClearOfText(page, seq, 'phone');
  const glyphs = await page.$$eval(`#messages .message[data-seq="${seq}"] .message-actions button`, (bs) => bs.map((b) => b.querySelector('svg') !== null));
  assert.ok(glyphs.length >= 3 && glyphs.every(Boolean), 'every action is an <svg> icon');
  await assertNoSideScroll(page, 'actions');
  await shot(page, 'actions-360');
  await page.tap(`#messages .message[data-seq="${seq}"] .message-actions button[aria-label="Add reaction"]`);
  await page.waitForSelector('.reaction-picker', { state: 'visible' });
  await assertNoSideScroll(page, 'reaction picker');
  const picker = await page.$eval('.reaction-picker', (p) => { const r = p.getBoundingClientRect(); return { left: r.left, right: r.right, view: innerWidth }; });
  assert.ok(picker.left >= 0 && picker.right <= picker.view, `the picker is on screen: ${JSON.stringify(picker)}`);
  await shot(page, 'reaction-picker-360');
  await page.tap('.reaction-picker button[aria-label="React with 🎉"]');
  await eventually(async () => assert.equal(await page.$$eval(`#messages .message[data-seq="${seq}"] .reaction`, (r) => r.length), 1));

  // A thread, opened from the tapped message's actions.
  await bo.say('Yes, the 02:00 one.', { reply_to: first.ack.seq });
  await bo.say('It settled after five minutes.', { reply_to: first.ack.seq });
  await page.tap(`#messages .message[data-seq="${first.ack.seq}"] .message-text`);
  await page.tap(`#messages .message[data-seq="${first.ack.seq}"] .message-actions button[aria-label="Open thread"]`);
  await page.waitForSelector('#thread-panel', { state: 'visible' });
  await eventually(async () => assert.equal(await page.$$eval('#thread-list .thread-message', (l) => l.length), 2));
  await assertNoSideScroll(page, 'thread');
  const panel = await page.$eval('#thread-panel', (p) => { const r = p.getBoundingClientRect(); return { left: r.left, right: r.right, view: innerWidth }; });
  assert.ok(panel.left >= 0 && panel.right <= panel.view, `the thread panel fits: ${JSON.stringify(panel)}`);
  await shot(page, 'thread-360');
  await page.tap('#thread-close');

  // Search.
  await page.tap('#search-toggle');
  await page.fill('#search-input', 'runbook');
  await page.press('#search-input', 'Enter');
  await eventually(async () => assert.equal(await page.$$eval('#search-results li', (l) => l.length), 1));
  await assertNoSideScroll(page, 'search');
  await assertSvgIcons(page, 'search');
  await shot(page, 'search-360');
  await page.tap('#search-close');

  // The owner's dialog for the room's title and description.
  await page.tap('#room-edit-button');
  await page.waitForSelector('#room-edit-dialog[open]');
  await assertNoSideScroll(page, 'room edit dialog');
  const edit = await page.$eval('#room-edit-dialog', (d) => { const r = d.getBoundingClientRect(); return { left: r.left, right: r.right, view: innerWidth }; });
  assert.ok(edit.left >= 0 && edit.right <= edit.view, `the edit dialog fits: ${JSON.stringify(edit)}`);
  await page.tap('#room-edit-cancel');

  // The people drawer, then a direct message with Bo from it.
  await page.tap('#users-toggle');
  await page.waitForSelector('#users-panel.open');
  await eventually(async () => assert.ok(await page.isVisible('#users .user-dm')));
  await assertNoSideScroll(page, 'people');
  await shot(page, 'people-360');
  await page.tap('#users .user-dm');
  await eventually(async () => assert.match(await page.textContent('#room-title'), /Bo/));
  await eventually(async () => assert.equal(await page.isVisible('#conn-banner'), false));
  await typeAndSend(page, 'A word in private, Bo.');
  await confirmedMessage(page, 'A word in private, Bo.');
  await page.evaluate(() => document.activeElement?.blur());
  await assertRoomNameShown(page, await page.textContent('#room-title'));
  await assertNoSideScroll(page, 'direct message');
  await shot(page, 'dm-360');

  // The release dialog (the name's "settings").
  await page.tap('#release-button');
  await page.waitForSelector('#release-dialog[open]');
  const dialog = await page.$eval('#release-dialog', (d) => { const r = d.getBoundingClientRect(); return { left: r.left, right: r.right, view: innerWidth }; });
  assert.ok(dialog.left >= 0 && dialog.right <= dialog.view, `the dialog fits: ${JSON.stringify(dialog)}`);
  await assertNoSideScroll(page, 'release dialog');
  await shot(page, 'release-dialog-360');
  await page.tap('#release-cancel');

  // Back to the landing page: the DM is listed, and nothing scrolls sideways.
  await page.tap('#leave-button');
  await page.waitForSelector('#landing', { state: 'visible' });
  await eventually(async () => assert.ok(await page.isVisible('#dms-list li')));
  await assertNoSideScroll(page, 'landing with DMs');
  assert.deepEqual(ann.logs.filter((l) => l.startsWith('[pageerror]')), []);
  await bo.close();
  await ann.context.close();
});

test('desktop: the action bar never covers text, and the rail and the room list show whole names', { timeout: 120_000 }, async () => {
  const alpha = roomId('browser-team-alpha');
  const beta = roomId('browser-team-beta');
  const ann = await newPerson(ctx.browser);
  const { page } = ann;
  const cy = await connect(ctx.server, alpha, 'Cy');
  await cy.say('alpha is listed too');
  await cy.close();
  const bo = await connect(ctx.server, beta, 'Bo');
  await bo.say('one');
  await bo.say('two, a longer line that runs on for a while so that it reaches the right end of the column where the actions used to sit on top of it');
  await bo.say('three');
  await page.goto(`${ctx.server.url}/`);
  await page.fill('#name-input', 'Dee'); // Ann's name is claimed by the phone's browser
  await eventually(async () => assert.ok(await page.$(`#rooms-list li[data-room="${alpha}"]`) && await page.$(`#rooms-list li[data-room="${beta}"]`)));
  const listed = await page.$$eval('#rooms-list .room-name', (els) => els.map((e) => ({
    text: e.firstChild.textContent, cut: e.scrollWidth > e.clientWidth + 1 })));
  for (const room of [alpha, beta]) {
    assert.deepEqual(listed.find((x) => x.text === room), { text: room, cut: false }, `${room} whole in the desktop list`);
  }
  await page.screenshot({ path: path.join(SHOTS, 'desktop-landing.png') });
  for (const room of [alpha, beta]) {
    await page.fill('#room-input', room);
    await page.click('#join-button');
    await page.waitForSelector('#chat', { state: 'visible' });
    await eventually(async () => assert.equal(await page.isVisible('#conn-banner'), false));
    if (room === alpha) await page.click('#leave-button');
  }
  // The rail: both rooms by their whole address, the full name on hover too.
  await eventually(async () => assert.equal(await page.$$eval('#open-rooms-list li', (l) => l.length), 2));
  const rail = await page.$$eval('#open-rooms-list .rail-name', (els) => els.map((e) => ({
    text: e.textContent, cut: e.scrollWidth > e.clientWidth + 1, title: e.closest('button').title,
  })));
  for (const room of [alpha, beta]) {
    const r = rail.find((x) => x.text === `#${room}`);
    assert.ok(r, `${room} in the rail: ${JSON.stringify(rail)}`);
    assert.equal(r.cut, false, `${room} is not cut in the rail`);
    assert.equal(r.title, `#${room}`);
  }
  // Hover the long grouped message: its actions lie under it, on no text.
  await eventually(async () => assert.equal(await page.$$eval('#messages .message', (l) => l.length), 3));
  await page.hover('#messages .message[data-seq="2"] .message-text');
  await assertActionsClearOfText(page, 2, 'desktop');
  await assertNoSideScroll(page, 'desktop room');
  await page.screenshot({ path: path.join(SHOTS, 'desktop-room.png') });
  await bo.close();
  await ann.context.close();
});
