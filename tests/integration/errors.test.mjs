// Refused frames: every bad input gets an `error` frame with the right code (and the
// client_id when the frame had one), the socket stays open and the room keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, cid, roomId, closeAll } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

/**
 * Sends `raw` (an object is JSON-encoded, a string or Buffer goes as is) and expects an
 * error frame with `code`. With `client_id`, expects it echoed; with `noClientId`,
 * expects none.
 */
async function expectRefused(client, raw, code, { client_id, noClientId = false, what } = {}) {
  const label = what ?? (typeof raw === 'object' && !Buffer.isBuffer(raw) ? JSON.stringify(raw) : String(raw).slice(0, 60));
  if (typeof raw === 'object' && !Buffer.isBuffer(raw)) client.send(raw);
  else client.sendRaw(raw);
  let frame;
  try {
    frame = await client.nextError(undefined, { timeout: 5000 });
  } catch (err) {
    err.message = `${label}: ${err.message}`;
    throw err;
  }
  try {
    expectErrorFrame(frame, code, client_id !== undefined ? { client_id } : {});
    if (noClientId) assert.ok(frame.client_id === undefined || frame.client_id === null, `no client_id expected: ${JSON.stringify(frame)}`);
    assert.ok(client.isOpen(), 'the socket stays open');
  } catch (err) {
    err.message = `${label}: ${err.message}`;
    throw err;
  }
  return frame;
}

/** After refusals: the offender's socket works and the room works for everyone. */
async function roomStillWorks(offender, other) {
  assert.equal(offender.closed, null, `offender's socket was closed: ${JSON.stringify(offender.closed)}`);
  offender.sendRaw('ping');
  await offender.next('pong');
  const mine = await offender.say('I am fine');
  assert.equal((await other.nextMessage(mine.client_id)).message.text, 'I am fine');
  const theirs = await other.say('me too');
  assert.equal((await offender.nextMessage(theirs.client_id)).message.text, 'me too');
  await other.expectNoFrame('error', 0); // errors go only to the sender of the bad frame
  await offender.expectNoFrame('error', 200); // and exactly one per refused frame
}

async function pair(prefix) {
  const room = roomId(prefix);
  const offender = await connect(srv(), room, 'Offender');
  const other = await connect(srv(), room, 'Other');
  offender.discard('user_joined');
  return { room, offender, other };
}

test('frames that are not a JSON object with a known type are bad_frame', async () => {
  const { offender, other } = await pair('malformed');
  try {
    for (const raw of ['not json', '{"type":"send",', 'null', '[]', '"send"', '42', 'true', '{}', 'PING', 'ping ']) {
      await expectRefused(offender, raw, 'bad_frame', { noClientId: true });
    }
    await expectRefused(offender, Buffer.from('{"type":"typing","on":true}'), 'bad_frame', { what: 'binary frame' });
    await expectRefused(offender, Buffer.from([0, 1, 2, 255]), 'bad_frame', { what: 'binary garbage' });
    await expectRefused(offender, { type: 'nope' }, 'bad_frame');
    await expectRefused(offender, { type: 5 }, 'bad_frame');
    await expectRefused(offender, { type: 'SEND', text: 'hi', client_id: 'upper' }, 'bad_frame', { client_id: 'upper' });
    await expectRefused(offender, { text: 'no type', client_id: 'nt' }, 'bad_frame', { client_id: 'nt' });
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('send with missing or mistyped fields is bad_frame, client_id echoed', async () => {
  const { room, offender, other } = await pair('send-fields');
  try {
    let id = cid();
    await expectRefused(offender, { type: 'send', client_id: id }, 'bad_frame', { client_id: id, what: 'missing text' });
    await expectRefused(offender, { type: 'send', text: 'no id' }, 'bad_frame', { noClientId: true, what: 'missing client_id' });
    id = cid();
    await expectRefused(offender, { type: 'send', text: 5, client_id: id }, 'bad_frame', { client_id: id });
    id = cid();
    await expectRefused(offender, { type: 'send', text: null, client_id: id }, 'bad_frame', { client_id: id });
    id = cid();
    await expectRefused(offender, { type: 'send', text: ['a'], client_id: id }, 'bad_frame', { client_id: id });
    id = cid();
    await expectRefused(offender, { type: 'send', text: 'hi', client_id: id, reply_to: '1' }, 'bad_frame', { client_id: id, what: 'reply_to as a string' });
    id = cid();
    await expectRefused(offender, { type: 'send', text: 'hi', client_id: id, reply_to: 1.5 }, 'bad_frame', { client_id: id, what: 'reply_to 1.5' });
    await expectRefused(offender, { type: 'send', text: 'hi', client_id: 123 }, 'bad_frame', { what: 'numeric client_id' });
    await expectRefused(offender, { type: 'send', text: 'hi', client_id: '' }, 'bad_frame', { what: 'client_id ""' });
    await expectRefused(offender, { type: 'send', text: 'hi', client_id: 'x'.repeat(65) }, 'bad_frame', { what: 'client_id of 65 chars' });
    // Nothing above was stored or broadcast.
    await other.expectNoFrame('message', 300);
    const page = await http(srv(), `/room/${room}/messages`);
    assert.deepEqual(page.json, { messages: [], has_more: false });
    // A client_id of exactly 64 chars is fine.
    const long = 'y'.repeat(64);
    const ok = await offender.say('sixty-four', { client_id: long });
    assert.equal(ok.ack.seq, 1);
    assert.equal(ok.message.client_id, long);
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('typing, status and history with bad fields are bad_frame', async () => {
  const { offender, other } = await pair('other-fields');
  try {
    await expectRefused(offender, { type: 'typing' }, 'bad_frame', { what: 'typing without on' });
    await expectRefused(offender, { type: 'typing', on: 'yes' }, 'bad_frame');
    await expectRefused(offender, { type: 'typing', on: 1 }, 'bad_frame');
    await expectRefused(offender, { type: 'status' }, 'bad_frame', { what: 'status without status' });
    await expectRefused(offender, { type: 'status', status: 'busy' }, 'bad_frame', { what: 'unknown status' });
    await expectRefused(offender, { type: 'status', status: 'ONLINE' }, 'bad_frame', { what: 'status in capitals' });
    await expectRefused(offender, { type: 'status', status: 3 }, 'bad_frame');
    await expectRefused(offender, { type: 'history', before: 10, limit: 0 }, 'bad_frame', { what: 'history limit 0' });
    await expectRefused(offender, { type: 'history', before: 10, limit: 101 }, 'bad_frame', { what: 'history limit 101' });
    await expectRefused(offender, { type: 'history', after: 0, limit: 101 }, 'bad_frame', { what: 'history after limit 101' });
    await expectRefused(offender, { type: 'history', before: 10, limit: '10' }, 'bad_frame', { what: 'limit as a string' });
    await expectRefused(offender, { type: 'history', before: 'x', limit: 10 }, 'bad_frame');
    await expectRefused(offender, { type: 'history', before: -1, limit: 10 }, 'bad_frame');
    await expectRefused(offender, { type: 'history', after: 1.5, limit: 10 }, 'bad_frame');
    // Nobody saw a status change or typing from any of that.
    await other.expectNoFrame((f) => f?.type === 'user_status' || f?.type === 'typing', 300);
    // The bounds themselves are fine.
    offender.send({ type: 'history', after: 0, limit: 1 });
    assert.deepEqual((await offender.next('history')).messages, []);
    offender.send({ type: 'history', after: 0, limit: 100 });
    assert.deepEqual((await offender.next('history')).messages, []);
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('a frame over 16 KiB is too_large, checked before anything else', async () => {
  const { room, offender, other } = await pair('too-large');
  try {
    await expectRefused(offender, 'x'.repeat(16385), 'too_large', { what: '16385 bytes of non-JSON' });
    // Exactly 16 KiB is not too large: it is just not JSON.
    await expectRefused(offender, 'x'.repeat(16384), 'bad_frame', { what: '16384 bytes of non-JSON' });
    // Bytes, not characters: 8193 "é" are 16386 bytes.
    await expectRefused(offender, '\u00e9'.repeat(8193), 'too_large', { what: '8193 two-byte chars' });
    await expectRefused(offender, '\u00e9'.repeat(8192), 'bad_frame', { what: '8192 two-byte chars (16384 bytes)' });
    // A well-formed send whose frame is over 16 KiB: too_large, not invalid_text.
    const big = JSON.stringify({ type: 'send', text: 'a'.repeat(17000), client_id: cid() });
    await expectRefused(offender, big, 'too_large', { what: 'send of 17000 chars' });
    await other.expectNoFrame('message', 300);
    assert.deepEqual((await http(srv(), `/room/${room}/messages`)).json.messages, []);
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('a binary frame over 16 KiB is too_large too (the size is checked first)', async () => {
  const { offender, other } = await pair('too-large-bin');
  try {
    await expectRefused(offender, Buffer.alloc(16385, 0x61), 'too_large', { what: '16385-byte binary frame' });
    await expectRefused(offender, Buffer.alloc(16384, 0x61), 'bad_frame', { what: '16384-byte binary frame' });
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('text empty after trimming or over 4000 code points is invalid_text; 4000 (even emoji) is fine', async () => {
  const { room, offender, other } = await pair('text-len');
  try {
    let id = cid();
    await expectRefused(offender, { type: 'send', text: '', client_id: id }, 'invalid_text', { client_id: id, what: 'empty text' });
    id = cid();
    await expectRefused(offender, { type: 'send', text: ' \n\t \r ', client_id: id }, 'invalid_text', { client_id: id, what: 'whitespace text' });
    id = cid();
    await expectRefused(offender, { type: 'send', text: 'a'.repeat(4001), client_id: id }, 'invalid_text', { client_id: id, what: '4001 chars' });
    id = cid();
    const emoji = '\u{1F389}';
    await expectRefused(offender, { type: 'send', text: emoji.repeat(4001), client_id: id }, 'invalid_text', { client_id: id, what: '4001 emoji' });
    await other.expectNoFrame('message', 300);

    const a4000 = await offender.say('a'.repeat(4000));
    assert.equal(a4000.message.text.length, 4000);
    const padded = await offender.say(`  ${'b'.repeat(4000)}  `);
    assert.equal(padded.message.text, 'b'.repeat(4000), 'trimmed to 4000: accepted');
    const e4000 = await offender.say(emoji.repeat(4000)); // 16000 bytes of text, 4000 code points
    assert.equal(e4000.message.text, emoji.repeat(4000));
    assert.deepEqual([a4000.ack.seq, padded.ack.seq, e4000.ack.seq], [1, 2, 3]);
    assert.equal((await other.nextMessage(e4000.client_id)).message.text, emoji.repeat(4000));

    const page = (await http(srv(), `/room/${room}/messages`)).json;
    assert.deepEqual(page.messages.map((m) => [...m.text].length), [4000, 4000, 4000]);
    assert.equal(page.messages[2].text, emoji.repeat(4000), 'emoji stored intact');
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});

test('many refused frames in a row never drop the socket and each gets exactly one error', async () => {
  const { offender, other } = await pair('burst-bad');
  try {
    const N = 30;
    for (let i = 0; i < N; i++) offender.sendRaw(i % 2 ? `garbage ${i}` : JSON.stringify({ type: 'send', text: '', client_id: `e${i}` }));
    for (let i = 0; i < N; i++) {
      const f = await offender.nextError();
      if (i % 2) expectErrorFrame(f, 'bad_frame');
      else expectErrorFrame(f, 'invalid_text', { client_id: `e${i}` });
    }
    await roomStillWorks(offender, other);
  } finally {
    await closeAll(offender, other);
  }
});
