// What the browser tests share: Debian's Chromium with the flags this machine needs, a
// person (context + page + what the page logged), and helpers that read the chat UI.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startServer, GENEROUS_LIMITS } from './server.mjs';
import { sleep, closeOpenClients } from './client.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = path.join(REPO_ROOT, 'tests', 'artifacts');
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

async function openBrowserAndServer(ctx, serverOptions) {
  await mkdir(ARTIFACTS, { recursive: true });
  ctx.server = await startServer(serverOptions);
  ctx.browser = await launchBrowser();
}

async function closeBrowserAndServer(ctx) {
  await closeOpenClients();
  if (ctx.browser) await ctx.browser.close().catch(() => {});
  if (ctx.server) await ctx.server.stop();
}

/** One server and one browser for a test file: started before its tests, stopped after.
 *  The returned object gets `server` and `browser`. */
export function useBrowserAndServer(serverOptions = {}) {
  const ctx = { server: null, browser: null };
  before(() => openBrowserAndServer(ctx, serverOptions), { timeout: 120_000 });
  after(() => closeBrowserAndServer(ctx), { timeout: 60_000 });
  return ctx;
}

/**
 * For a test file with one server, one browser and one person: started before its tests,
 * stopped after them, with a screenshot of the page saved as tests/artifacts/<shot>.png.
 * `prepare(person)` runs before any test (e.g. to add an init script).
 * @returns {{ server, browser, person }} filled in once the tests run
 */
export function useBrowserPerson(shot, { vars = GENEROUS_LIMITS, prepare } = {}) {
  const ctx = { server: null, browser: null, person: null };
  before(async () => {
    await openBrowserAndServer(ctx, { vars });
    ctx.person = await newPerson(ctx.browser);
    if (prepare) await prepare(ctx.person);
  }, { timeout: 120_000 });
  after(async () => {
    await ctx.person?.page.screenshot({ path: path.join(ARTIFACTS, `${shot}.png`), fullPage: true }).catch(() => {});
    await closeBrowserAndServer(ctx);
  }, { timeout: 60_000 });
  return ctx;
}

/** A new browser context and page, recording dialogs, console lines and page errors. */
export async function newPerson(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const person = { context, page, dialogs: [], logs: [] };
  page.on('dialog', async (d) => { person.dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss().catch(() => {}); });
  page.on('console', (m) => person.logs.push(`[console.${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => person.logs.push(`[pageerror] ${e.message}`));
  return person;
}

/** Retries `fn` until it stops throwing (or the time runs out, rethrowing its last error). */
export async function eventually(fn, { timeout = 10_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(interval);
    }
  }
}

/** What the page shows in #messages. */
export function shownMessages(page) {
  return page.$$eval('#messages .message', (els) => els.map((el) => ({
    seq: el.getAttribute('data-seq'),
    clientId: el.getAttribute('data-client-id'),
    pending: el.classList.contains('pending'),
    failed: el.classList.contains('failed'),
    name: el.querySelector('.message-name')?.textContent?.trim() ?? null,
    time: el.querySelector('.message-time')?.textContent?.trim() ?? null,
    text: el.querySelector('.message-text')?.textContent ?? null,
  })));
}

/** Waits until the page shows a confirmed (not pending, with data-seq) message with exactly this text. */
export async function confirmedMessage(page, text, timeout = 10_000) {
  return eventually(async () => {
    const found = (await shownMessages(page)).filter((m) => m.text?.trim() === text);
    assert.equal(found.length, 1, `exactly one message ${JSON.stringify(text)} shown: ${JSON.stringify(found)}`);
    assert.equal(found[0].pending, false, 'not pending any more');
    assert.match(found[0].seq ?? '', /^\d+$/, 'has a data-seq');
    return found[0];
  }, { timeout });
}

/** The connection banner: whether it shows, and what it says. */
export function banner(page) {
  return page.$eval('#conn-banner', (el) => ({
    hiddenAttr: el.hasAttribute('hidden'),
    shown: !el.hidden && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().height > 0,
    text: el.textContent.replace(/\s+/g, ' ').trim(),
  }));
}

/** Joins `room` as `name` through the landing page and waits until connected. */
export async function join(page, server, room, name) {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#name-input', { state: 'visible' });
  await page.fill('#name-input', name);
  await page.fill('#room-input', room);
  await page.click('#join-button');
  await page.waitForSelector('#chat', { state: 'visible', timeout: 10_000 });
  await eventually(async () => {
    const b = await banner(page);
    assert.equal(b.shown, false, `the connection banner is hidden once connected: ${JSON.stringify(b)}`);
  });
}

export async function typeAndSend(page, text) {
  await page.click('#message-input');
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
}
