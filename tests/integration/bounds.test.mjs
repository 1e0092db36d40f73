// Bounded frames and storage that cleans itself (issue 10): reactions keep an exact
// count and list at most REACTION_NAMES_MAX names; welcome, history and REST pages stay
// within FRAME_BUDGET_BYTES and page the rest; uploads never attached are swept after
// UNATTACHED_UPLOAD_TTL_SECS; an upload body over 10 MiB is refused as it streams.
// Every abuse runs while another member of the room keeps chatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, cid, sleep, bearer } from '../support/client.mjs';

// The stated bound of one message on the wire (crates/protocol, MESSAGE_MAX_BYTES) and
// the default frame budget.
const MESSAGE_MAX_BYTES = 54_196;
const BUDGET = 262_144;
const NAMES_MAX = 10;

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;
// A second server whose uploads live two seconds unattached.
const swept = useServer({ vars: { ...GENEROUS_LIMITS, UNATTACHED_UPLOAD_TTL_SECS: '2' } });

const bytes = (frame) => Buffer.byteLength(JSON.stringify(frame));
const EMOJI = Array.from({ length: 20 }, (_, i) => String.fromCodePoint(0x1F600 + i));
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

/** Sends `n` messages from `client`, each acked, while `other` receives every one in order. */
async function chat(client, other, n, label) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = cid(label);
    ids.push(id);
    client.send({ type: 'send', text: `${label} ${i}`, client_id: id });
    await client.nextAck(id, { timeout: 10_000 });
  }
  const got = [];
  for (const id of ids) got.push((await other.next((f) => f?.type === 'message' && f.message.client_id === id, { timeout: 10_000 })).message);
  for (let i = 1; i < got.length; i++) assert.ok(got[i].seq > got[i - 1].seq, 'in seq order');
  return got;
}

test('reaction spam: 30 names x 20 emoji leave the message bounded, its page fast, counts exact, own removal working', async () => {
  const room = roomId('spam');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const first = cid('m');
  ann.send({ type: 'send', text: 'react to me', client_id: first });
  const seq = (await ann.nextAck(first)).seq;
  bo.send({ type: 'react', seq, emoji: EMOJI[0], on: true });
  await bo.next((f) => f?.type === 'update' && f.reaction?.name === 'Bo');

  const spammers = [];
  for (let i = 0; i < 30; i++) spammers.push(await connect(srv(), room, `spam${String(i).padStart(2, '0')}`));
  // Every spammer toggles on all 20 emoji at once, while Ann and Bo keep chatting.
  for (const s of spammers) for (const emoji of EMOJI) s.send({ type: 'react', seq, emoji, on: true });
  const talk = chat(ann, bo, 10, 'during-spam');
  const done = (f) => f?.type === 'update' && f.message.seq === seq && f.message.reactions?.length === 20
    && f.message.reactions.every((r, i) => r.count === (i === 0 ? 31 : 30));
  const last = await ann.next(done, { timeout: 60_000 });
  await talk;

  const m = last.message;
  assert.ok(bytes(m) <= MESSAGE_MAX_BYTES, `the message is ${bytes(m)} bytes`);
  assert.ok(bytes(m) < 4096, `30 names x 20 emoji make a ${bytes(m)}-byte message`);
  for (const r of m.reactions) assert.ok(r.names.length <= NAMES_MAX, `${r.emoji}: ${r.names.length} names`);
  // The names are the first who reacted; Bo was first on the first emoji.
  assert.equal(m.reactions[0].names[0], 'Bo');
  assert.equal(m.reactions[0].names.length, NAMES_MAX);

  // The history page is small and fast: over the socket and over HTTP (D1 trails a little).
  const started = Date.now();
  bo.send({ type: 'history', limit: 50 });
  const page = await bo.next('history', { timeout: 5000 });
  const took = Date.now() - started;
  assert.ok(took < 1000, `the history frame took ${took} ms`);
  assert.ok(bytes(page) < 64 * 1024, `the history frame is ${bytes(page)} bytes`);
  const mine = page.messages.find((x) => x.seq === seq).reactions;
  assert.deepEqual(mine.map((r) => r.count), [31, ...Array(19).fill(30)]);
  // Bo's own reaction is marked for Bo, and for nobody else.
  assert.equal(mine[0].mine, true);
  assert.ok(mine.slice(1).every((r) => r.mine === undefined));
  ann.send({ type: 'history', limit: 50 });
  const annPage = await ann.next('history');
  assert.ok(annPage.messages.find((x) => x.seq === seq).reactions.every((r) => r.mine === undefined));
  let rest;
  for (let i = 0; i < 50; i++) {
    const t0 = Date.now();
    rest = await http(srv(), `/room/${room}/messages?limit=100`);
    assert.ok(Date.now() - t0 < 1000, 'the HTTP page took over a second');
    const r = rest.json.messages.find((x) => x.seq === seq)?.reactions;
    if (r?.length === 20 && r.every((x, j) => x.count === (j === 0 ? 31 : 30))) break;
    await sleep(100);
  }
  assert.ok(bytes(rest.json) < 64 * 1024);
  assert.deepEqual(rest.json.messages.find((x) => x.seq === seq).reactions.map((r) => r.count), [31, ...Array(19).fill(30)]);

  // Removing one's own reaction still works, listed or not: Bo was listed, spam29 was not.
  bo.send({ type: 'react', seq, emoji: EMOJI[0], on: false });
  const gone = await ann.next((f) => f?.type === 'update' && f.reaction?.name === 'Bo' && f.reaction.on === false);
  assert.equal(gone.message.reactions[0].count, 30);
  assert.ok(!gone.message.reactions[0].names.includes('Bo'));
  assert.equal(gone.message.reactions[0].names.length, NAMES_MAX);
  const late = spammers[29];
  assert.ok(!gone.message.reactions[5].names.includes(late.name), 'spam29 is not listed');
  late.send({ type: 'react', seq, emoji: EMOJI[5], on: false });
  const taken = await ann.next((f) => f?.type === 'update' && f.reaction?.name === late.name && f.reaction.on === false);
  assert.equal(taken.message.reactions[5].count, 29);
  // A newcomer's welcome marks what it reacted with: spam00 still has all 20.
  const again = await connect(srv(), room, 'spam00');
  const w = again.welcome.messages.find((x) => x.seq === seq);
  assert.ok(w.reactions.every((r) => r.mine === true));
  // The room carries on.
  await chat(bo, ann, 3, 'after-spam');
  await closeAll(ann, bo, again, ...spammers);
});

test('welcome, history and REST pages of large messages stay within the frame budget and page every message once', async () => {
  const room = roomId('big');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const text = '€'.repeat(4000); // 12,000 bytes: the longest text within a 16 KiB frame
  const n = 70;
  for (let i = 0; i < n; i++) {
    const id = cid('big');
    ann.send({ type: 'send', text, client_id: id });
    await ann.nextAck(id, { timeout: 10_000 });
  }
  // Many reactions on the newest messages.
  for (let s = n - 5; s <= n; s++) for (const emoji of EMOJI) bo.send({ type: 'react', seq: s, emoji });
  await ann.next((f) => f?.type === 'update' && f.message.seq === n && f.message.reactions?.length === 20, { timeout: 20_000 });
  // Ann keeps chatting with Bo meanwhile.
  await chat(ann, bo, 2, 'normal');
  const total = n + 2;

  // A fresh welcome: the newest that fit, has_more, within the budget.
  const cy = await connect(srv(), room, 'Cy');
  const w = cy.welcome;
  assert.ok(bytes(w) <= BUDGET, `the welcome is ${bytes(w)} bytes`);
  assert.ok(w.messages.length > 0 && w.messages.length < 50, `${w.messages.length} messages`);
  assert.equal(w.messages[w.messages.length - 1].seq, total);
  assert.equal(w.has_more, true);
  // Scrolling back pages every message exactly once, each frame within the budget.
  const seen = w.messages.map((m) => m.seq);
  let before = w.messages[0].seq;
  for (;;) {
    cy.send({ type: 'history', before, limit: 100 });
    const page = await cy.next('history');
    assert.ok(bytes(page) <= BUDGET, `a history frame is ${bytes(page)} bytes`);
    assert.ok(page.messages.length > 0);
    seen.push(...page.messages.map((m) => m.seq));
    before = page.messages[0].seq;
    if (!page.has_more) break;
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1));

  // A resume from the start: the oldest missed that fit, has_more, then `history after`.
  const dee = await connect(srv(), room, 'Dee', { since: 0 });
  assert.ok(bytes(dee.welcome) <= BUDGET);
  assert.equal(dee.welcome.messages[0].seq, 1);
  assert.equal(dee.welcome.has_more, true);
  const resumed = dee.welcome.messages.map((m) => m.seq);
  let after = resumed[resumed.length - 1];
  for (;;) {
    dee.send({ type: 'history', after, limit: 100 });
    const page = await dee.next('history');
    assert.ok(bytes(page) <= BUDGET);
    resumed.push(...page.messages.map((m) => m.seq));
    if (!page.has_more) break;
    after = page.messages[page.messages.length - 1].seq;
  }
  assert.deepEqual(resumed, Array.from({ length: total }, (_, i) => i + 1));

  // Over HTTP (from D1) the same, once D1 has everything.
  for (let i = 0; i < 50; i++) {
    const newest = await http(srv(), `/room/${room}/messages?limit=1`);
    if (newest.json.messages[0]?.seq === total) break;
    await sleep(100);
  }
  const viaHttp = [];
  let cursor = '';
  for (;;) {
    const res = await http(srv(), `/room/${room}/messages?limit=100${cursor}`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.byteLength(res.text) <= BUDGET, `an HTTP page is ${Buffer.byteLength(res.text)} bytes`);
    assert.ok(res.json.messages.length > 0);
    viaHttp.unshift(...res.json.messages.map((m) => m.seq));
    if (!res.json.has_more) break;
    cursor = `&before=${res.json.messages[0].seq}`;
  }
  assert.deepEqual(viaHttp, Array.from({ length: total }, (_, i) => i + 1));
  await chat(bo, ann, 2, 'still');
  await closeAll(ann, bo, cy, dee);
});

function upload(server, room, name, body) {
  return http(server, `/room/${room}/files?filename=dot.png`, {
    method: 'POST', body, headers: { 'content-type': 'image/png', ...bearer(server, name) },
  });
}

test('an upload never attached is deleted after its lifetime; an attached one stays; the room chats on', async () => {
  const server = swept.server;
  const room = roomId('sweep');
  const ann = await connect(server, room, 'Ann');
  const bo = await connect(server, room, 'Bo');
  const kept = await upload(server, room, 'Ann', PNG);
  const lost = await upload(server, room, 'Ann', PNG);
  assert.equal(kept.status, 201, kept.text);
  assert.equal(lost.status, 201, lost.text);
  const id = cid('f');
  ann.send({ type: 'send', text: 'a dot', client_id: id, attachment: kept.json.attachment.id });
  await ann.nextAck(id);
  assert.equal((await fetch(server.url + lost.json.url)).status, 200, 'not swept before its time');
  // The alarm runs two seconds after the upload; chat meanwhile.
  await chat(bo, ann, 3, 'while-waiting');
  let status;
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    status = (await fetch(server.url + lost.json.url)).status;
    if (status === 404) break;
  }
  assert.equal(status, 404, 'the unattached upload is gone');
  const res = await fetch(server.url + kept.json.url);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);
  // The swept file can no longer be attached.
  const late = cid('late');
  ann.send({ type: 'send', text: 'too late', client_id: late, attachment: lost.json.attachment.id });
  const refusal = await ann.next((f) => f?.type === 'error' && f.client_id === late);
  assert.equal(refusal.code, 'not_found');
  await chat(ann, bo, 3, 'after-sweep');
  await closeAll(ann, bo);
});

/** How many objects the local R2 bucket holds (files under the state's r2 directory). */
async function r2Objects(server) {
  const dir = path.join(server.stateDir, 'v3', 'r2');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !e.name.endsWith('.sqlite') && !e.name.includes('sqlite-')).length;
}

/** POSTs `total` bytes in 1 MiB chunks with chunked transfer (no content-length). */
function chunkedUpload(server, room, name, total) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${server.url}/room/${room}/files?filename=big.txt`);
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', ...bearer(server, name) },
    });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, sent, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', (e) => (answered ? undefined : reject(e)));
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

test('an upload body over 10 MiB without content-length is refused as it streams; nothing is stored', async () => {
  const room = roomId('stream');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const stored = await r2Objects(srv());
  const talk = chat(bo, ann, 5, 'during-upload');
  const res = await chunkedUpload(srv(), room, 'Ann', 12 * 1024 * 1024);
  assert.equal(res.status, 413);
  assert.equal(res.json.error.code, 'too_large');
  await talk;
  // With a content-length over the cap it is refused unread.
  const declared = await http(srv(), `/room/${room}/files?filename=x.txt`, {
    method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x61), headers: { 'content-type': 'text/plain', ...bearer(srv(), 'Ann') },
  });
  assert.equal(declared.status, 413);
  assert.equal(declared.json.error.code, 'too_large');
  const empty = await chunkedUpload(srv(), room, 'Ann', 0);
  assert.equal(empty.status, 400, 'an empty body is refused');
  // Nothing was stored; a small upload still works and is.
  assert.equal(await r2Objects(srv()), stored, 'no object was written');
  const ok = await upload(srv(), room, 'Ann', PNG);
  assert.equal(ok.status, 201);
  assert.equal(await r2Objects(srv()), stored + 1, 'an accepted upload is an object');
  await chat(ann, bo, 3, 'after-upload');
  await closeAll(ann, bo);
});
