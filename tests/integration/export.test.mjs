// Room export (GET /room/:id/export?format=jsonl|md): the owner takes the room's whole
// history, in seq order, as JSON lines (the protocol's message objects, edits, deletes,
// replies and reactions as they stand) or as Markdown. The body is streamed: the Worker
// reads D1 one page at a time as the client reads, so a room of 100,000 messages is
// never held whole. Every attack below is refused with a JSON error before a byte of
// history is read, and the owner's export is unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, sleep, bearer, tokenJar } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const exportOf = (room, { format, headers = {}, query } = {}) => {
  const q = query ?? (format ? `?format=${format}` : '');
  return http(srv(), `/room/${room}/export${q}`, { headers });
};

/** The room's history through the HTTP API, every page: what the export must equal. */
async function history(room) {
  const all = [];
  for (let after = 0; ;) {
    const page = await http(srv(), `/room/${room}/messages?after=${after}&limit=100`);
    assert.equal(page.status, 200, page.text);
    all.push(...page.json.messages);
    if (!page.json.has_more) return all;
    after = all.at(-1).seq;
  }
}

/** Waits until D1's copy of message `seq` passes `check` (changes reach D1 a batch later). */
async function inD1(room, seq, check, headers = {}) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const page = await http(srv(), `/room/${room}/messages?after=${seq - 1}&limit=1`, { headers });
    const m = page.json?.messages?.[0];
    if (m && check(m)) return m;
    if (Date.now() > deadline) assert.fail(`message ${seq} never reached D1 as expected: ${JSON.stringify(m)}`);
    await sleep(100);
  }
}

function assertJsonError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, what);
  assert.equal(res.json?.error?.code, code, `${what}: ${res.text}`);
  assert.equal(res.headers.get('content-disposition'), null, `${what}: no file`);
}

const COUNT = 2000;
let big;

/** A room of COUNT messages sent through the socket, with an edit, a delete, a reply and a reaction. */
async function seededRoom() {
  if (big) return big;
  const room = roomId('export');
  const ann = await connect(srv(), room, 'Ann');
  const texts = Array.from({ length: COUNT - 1 }, (_, i) => `message ${i + 1} *of* the export`);
  await ann.sayMany(texts, { batch: 100, timeout: 60_000 });
  const reply = await ann.say('a reply to the first', { reply_to: 1 });
  assert.equal(reply.ack.seq, COUNT);
  ann.send({ type: 'edit', seq: 5, text: 'five, edited' });
  ann.send({ type: 'delete', seq: 10 });
  ann.send({ type: 'react', seq: 7, emoji: '👍' });
  await inD1(room, 5, (m) => m.edited_ts);
  await inD1(room, 10, (m) => m.deleted);
  await inD1(room, 7, (m) => m.reactions?.length === 1);
  await inD1(room, 1, (m) => m.reply_count === 1);
  await closeAll(ann);
  big = { room };
  return big;
}

test('the owner exports every message in order as JSON lines, changes as they stand', { timeout: 180_000 }, async () => {
  const { room } = await seededRoom();
  const res = await exportOf(room, { format: 'jsonl', headers: bearer(srv(), 'Ann') });
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="edgechat-${room}.jsonl"`);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.ok(res.text.endsWith('\n'));
  const lines = res.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, COUNT);
  assert.deepEqual(lines.map((m) => m.seq), Array.from({ length: COUNT }, (_, i) => i + 1), 'complete and in order');
  // Exactly the protocol's message objects, as the history API shows them now.
  assert.deepEqual(lines, await history(room));
  assert.equal(lines[4].text, 'five, edited');
  assert.ok(lines[4].edited_ts > 0);
  assert.equal(lines[9].deleted, true);
  assert.equal(lines[9].text, '');
  assert.deepEqual(lines[6].reactions.map((r) => [r.emoji, r.count]), [['👍', 1]]);
  assert.equal(lines[6].reactions[0].mine, undefined, 'an export is nobody\'s view: no mine');
  assert.equal(lines[COUNT - 1].reply_to, 1);
  assert.equal(lines[0].reply_count, 1);
  // No format asked: JSON lines.
  const plain = await exportOf(room, { headers: bearer(srv(), 'Ann') });
  assert.equal(plain.text, res.text);
});

test('the owner exports the same history as Markdown', { timeout: 180_000 }, async () => {
  const { room } = await seededRoom();
  const res = await exportOf(room, { format: 'md', headers: bearer(srv(), 'Ann') });
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.equal(res.headers.get('content-type'), 'text/markdown; charset=utf-8');
  assert.equal(res.headers.get('content-disposition'), `attachment; filename="edgechat-${room}.md"`);
  assert.ok(res.text.startsWith(`# Room ${room}\n\n`));
  const heads = [...res.text.matchAll(/^\*\*Ann\*\* · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · #(\d+)(.*)$/gm)];
  assert.equal(heads.length, COUNT);
  assert.deepEqual(heads.map((h) => Number(h[1])), Array.from({ length: COUNT }, (_, i) => i + 1));
  const block = (seq) => res.text.split(/\n\n(?=\*\*)/).find((b) => b.includes(` · #${seq}`) && new RegExp(` · #${seq}( |\\n)`).test(b));
  assert.match(block(5), / · edited \d{4}-/);
  assert.match(block(5), /\n> five, edited$/);
  assert.match(block(10), /\n> \*\(deleted\)\*/);
  assert.doesNotMatch(block(10), /message 10/);
  assert.match(block(7), /> 👍 1/);
  assert.match(block(COUNT), / · reply to #1\n/);
  assert.match(block(1), /> message 1 \*of\* the export\n> \(1 reply\)/);
});

test('attacks are refused with JSON errors; the owner\'s export is unaffected', { timeout: 180_000 }, async () => {
  const { room } = await seededRoom();
  // (Each test's sockets close after it: the owner connects again.)
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const cy = await connect(srv(), room, 'Cy');
  ann.send({ type: 'appoint', name: 'Cy' });
  await cy.next((f) => f.type === 'roles' && f.moderators.includes('Cy'));
  const annToken = tokenJar(srv()).get('ann');

  // A real pass of the owner's: passes open sockets, not HTTP routes.
  const again = await connect(srv(), roomId('pass'), 'Ann');
  const { pass } = await again.next('pass');
  const [, claim, , mac] = pass.match(/^v1\.([0-9a-f]+)\.(\d+)\.([0-9a-f]{64})$/);

  const attacks = [
    ['no credential', {}, 401, 'unauthorized'],
    ['a made-up token', { headers: { authorization: 'Bearer nope' } }, 403, 'name_taken'],
    ["another claim's token", { headers: bearer(srv(), 'Bo') }, 403, 'forbidden'],
    ['a moderator who is not the owner', { headers: bearer(srv(), 'Cy') }, 403, 'forbidden'],
    ["the owner's pass as a bearer", { headers: { authorization: `Bearer ${pass}` } }, 403, 'name_taken'],
    ['a forged pass', { headers: { authorization: `Bearer v1.${claim}.${Date.now() + 600_000}.${'0'.repeat(64)}` } }, 403, 'name_taken'],
    ['an expired pass', { headers: { authorization: `Bearer v1.${claim}.${Date.now() - 1000}.${mac}` } }, 403, 'name_taken'],
    ['a pass as a subprotocol', { headers: { 'sec-websocket-protocol': `edgechat, edgechat.pass.${pass}` } }, 401, 'unauthorized'],
    ["the owner's token in the URL", { query: `?token=${annToken}` }, 400, 'bad_request'],
    ["the owner's token in the URL beside the header", { query: `?format=md&token=${annToken}`, headers: bearer(srv(), 'Ann') }, 400, 'bad_request'],
    ['a pass in the URL', { query: `?pass=${pass}`, headers: bearer(srv(), 'Ann') }, 400, 'bad_request'],
    ['a bogus format', { format: 'csv', headers: bearer(srv(), 'Ann') }, 400, 'bad_request'],
    ['a format in another case', { format: 'MD', headers: bearer(srv(), 'Ann') }, 400, 'bad_request'],
  ];
  for (const [what, opts, status, code] of attacks) {
    assertJsonError(await exportOf(room, opts), status, code, what);
  }
  const token = await exportOf(room, { query: `?token=${annToken}` });
  assert.match(token.json.error.message, /Authorization/);
  assert.doesNotMatch(token.text, new RegExp(annToken), 'the token is not echoed');
  const huge = await http(srv(), `/room/${'a'.repeat(5000)}/export`, { headers: bearer(srv(), 'Ann') });
  assertJsonError(huge, 400, 'invalid_room', 'a huge room id');
  const posted = await http(srv(), `/room/${room}/export`, { method: 'POST', headers: bearer(srv(), 'Ann') });
  assertJsonError(posted, 405, 'bad_request', 'another method');
  const nobody = await exportOf(roomId('never'), { headers: bearer(srv(), 'Ann') });
  assertJsonError(nobody, 403, 'forbidden', 'a room that has no owner yet');

  // Nothing above changed the room: the owner's export is whole, and everyone still chats.
  const res = await exportOf(room, { headers: bearer(srv(), 'Ann') });
  assert.equal(res.status, 200);
  assert.equal(res.text.trimEnd().split('\n').length, COUNT);
  const said = await bo.say('still here');
  assert.equal(said.ack.seq, COUNT + 1);
  assert.equal(cy.welcome.owner, 'Ann');
  await closeAll(ann, bo, cy, again);
});

test('a private room exports to its owner only; a direct message to either party, to nobody else', { timeout: 60_000 }, async () => {
  const lobby = roomId('lobby');
  for (const name of ['Dee', 'Eve', 'Fay']) await closeAll(await connect(srv(), lobby, name));
  const made = await http(srv(), '/api/rooms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(srv(), 'Dee') },
    body: JSON.stringify({ title: 'Secret', visibility: 'private' }),
  });
  assert.equal(made.status, 201, made.text);
  const priv = made.json.room.id;
  const dee = await connect(srv(), priv, 'Dee');
  const eve = await connect(srv(), priv, 'Eve');
  await eve.say('eve was here');
  await dee.say('dee too');
  await inD1(priv, 2, () => true);
  const own = await exportOf(priv, { headers: bearer(srv(), 'Dee') });
  assert.equal(own.status, 200, own.text);
  assert.deepEqual(own.text.trimEnd().split('\n').map((l) => JSON.parse(l).text), ['eve was here', 'dee too']);
  assertJsonError(await exportOf(priv, { headers: bearer(srv(), 'Eve') }), 403, 'forbidden', 'a private room\'s member');

  const dm = await http(srv(), '/api/dms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(srv(), 'Dee') },
    body: JSON.stringify({ with: 'Eve' }),
  });
  assert.equal(dm.status, 200, dm.text);
  const dmRoom = dm.json.room;
  const d = await connect(srv(), dmRoom, 'Dee');
  await d.say('just us');
  await d.say('<img src=x onerror=alert(1)> `<kept>`');
  await inD1(dmRoom, 2, () => true, bearer(srv(), 'Dee'));
  for (const party of ['Dee', 'Eve']) {
    const res = await exportOf(dmRoom, { format: 'md', headers: bearer(srv(), party) });
    assert.equal(res.status, 200, `${party}: ${res.text}`);
    assert.match(res.text, /\*\*Dee\*\* · .* · #1\n> just us\n/);
    // Markup in a message stays text for a Markdown viewer (outside code spans, which show it as is).
    assert.match(res.text, /· #2\n> \\<img src=x onerror=alert\(1\)> `<kept>`\n/);
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="edgechat-${dmRoom}.md"`);
  }
  for (const [what, headers] of [['a stranger', bearer(srv(), 'Fay')], ['no credential', {}], ['a made-up token', { authorization: 'Bearer nope' }]]) {
    const res = await exportOf(dmRoom, { headers });
    assertJsonError(res, 404, 'not_found', `a direct message to ${what}`);
    assert.match(res.json.error.message, /no such direct messages/);
  }
  assertJsonError(await exportOf(dmRoom, { query: `?token=${tokenJar(srv()).get('dee')}` }), 400, 'bad_request', 'a party\'s token in the URL');
  await closeAll(dee, eve, d);
});

test('after a restart the owner still exports the whole room, and a moderator is still refused', { timeout: 180_000 }, async () => {
  const { room } = await seededRoom();
  const before = await exportOf(room, { format: 'md', headers: bearer(srv(), 'Ann') });
  await srv().restart();
  const after = await exportOf(room, { format: 'md', headers: bearer(srv(), 'Ann') });
  assert.equal(after.status, 200, after.text.slice(0, 300));
  assert.equal(after.text, before.text, 'the same history, byte for byte: roles and rows live in storage');
  assertJsonError(await exportOf(room, { headers: bearer(srv(), 'Cy') }), 403, 'forbidden', 'the moderator, after the restart');
});

test('a room of 100,000 messages streams: the first bytes come before the last page is read, the Worker reads as the client reads', { timeout: 300_000 }, async () => {
  const lobby = roomId('lobby');
  await closeAll(await connect(srv(), lobby, 'Gus'));
  const room = roomId('huge');
  const made = await http(srv(), '/api/rooms', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(srv(), 'Gus') },
    body: JSON.stringify({ id: room, title: 'Huge' }),
  });
  assert.equal(made.status, 201, made.text);
  // 100,000 rows written straight into D1 (the export's source) in one statement: a
  // room's own path would take minutes to send them.
  const N = 100_000;
  await srv().d1(
    'INSERT INTO messages (room, seq, name, text, ts, client_id, reply_to, edited_ts, deleted, reactions, reply_count, rev, attachment) ' +
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N}) ` +
    `SELECT '${room}', i, 'Gus', 'line ' || i || ' ' || substr(hex(randomblob(60)), 1, 120), 1700000000000 + i, 'g' || i, NULL, NULL, 0, NULL, 0, i, NULL FROM n`,
  );
  const offset = srv().output.length;
  const done = new RegExp(`export of ${room} done: (\\d+) messages in (\\d+) pages`);
  const t0 = Date.now();
  const res = await fetch(`${srv().url}/room/${room}/export`, { headers: bearer(srv(), 'Gus') });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), null, 'streamed, not sized up front');
  const reader = res.body.getReader();
  const first = await reader.read();
  const firstAt = Date.now() - t0;
  assert.ok(!first.done && first.value.length > 0);
  assert.doesNotMatch(srv().outputSince(offset), done, 'the first bytes arrived before the last page was read');
  // The client stops reading: the Worker stops reading D1 too (it pulls only as the body
  // is consumed), so it has not finished either after a pause.
  await sleep(2000);
  assert.doesNotMatch(srv().outputSince(offset), done, 'no page is read ahead of the client without bound');
  const decoder = new TextDecoder();
  let text = decoder.decode(first.value, { stream: true });
  let chunks = 1;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    chunks += 1;
    text += decoder.decode(value, { stream: true });
  }
  text += decoder.decode();
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, N);
  let seq = 0;
  for (const line of lines) {
    const m = JSON.parse(line);
    assert.equal(m.seq, ++seq);
  }
  assert.ok(chunks > 10, `the body came in many chunks (${chunks})`);
  // The D1 page counter: the log line the export writes when its last page is read.
  const deadline = Date.now() + 5000;
  let counted;
  while (!(counted = srv().outputSince(offset).match(done)) && Date.now() < deadline) await sleep(100);
  assert.ok(counted, 'the export logged its pages');
  assert.equal(Number(counted[1]), N);
  assert.equal(Number(counted[2]), N / 200 + 1, 'pages of 200, and one that came back short');
  process.stderr.write(`# export of ${N} messages: first bytes after ${firstAt} ms, all after ${Date.now() - t0} ms, ${chunks} chunks\n`);
});

test('an export flood from one address is refused past EXPORT_LIMITER; other addresses and the room go on', { timeout: 120_000 }, async () => {
  // A server of its own, with the per-minute limit lowered.
  const limited = await startServer({ vars: GENEROUS_LIMITS, ratelimits: { EXPORT_LIMITER: 3 } });
  try {
    const room = roomId('flood');
    const hal = await connect(limited, room, 'Hal');
    await hal.say('before the flood');
    const from = (address, headers = {}) => http(limited, `/room/${room}/export`, { headers: { 'cf-connecting-ip': address, ...headers } });
    // Refused attempts count too: guessing tokens is slowed like exporting.
    assert.equal((await from('198.51.100.7')).status, 401);
    assert.equal((await from('198.51.100.7', bearer(limited, 'Hal'))).status, 200);
    assert.equal((await from('198.51.100.7', bearer(limited, 'Hal'))).status, 200);
    const over = await from('198.51.100.7', bearer(limited, 'Hal'));
    assertJsonError(over, 429, 'rate_limited', 'the fourth export of the minute');
    assert.match(over.json.error.message, /exports/);
    assert.equal(over.headers.get('retry-after'), '60');
    // Another address is not held back, and the room chats on.
    const other = await from('203.0.113.9', bearer(limited, 'Hal'));
    assert.equal(other.status, 200);
    assert.equal(JSON.parse(other.text.trimEnd()).text, 'before the flood');
    assert.equal((await hal.say('after the flood')).ack.seq, 2);
    await closeAll(hal);
  } finally {
    await limited.stop();
  }
});
