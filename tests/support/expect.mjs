// Assertions on the shapes of the wire contract (docs/PROTOCOL.md).
import assert from 'node:assert/strict';

/** Asserts an HTTP answer is a JSON error `{"error":{"code","message"}}` with that status. */
export function expectHttpError(res, status, code, what = '') {
  const ctx = `${what} -> HTTP ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, `status: ${ctx}`);
  assert.match(res.headers.get('content-type') || '', /application\/json/i, `content-type: ${ctx}`);
  assert.ok(res.json && typeof res.json === 'object', `JSON body: ${ctx}`);
  assert.ok(res.json.error && typeof res.json.error === 'object', `body.error: ${ctx}`);
  assert.equal(res.json.error.code, code, `error code: ${ctx}`);
  assert.equal(typeof res.json.error.message, 'string', `error message: ${ctx}`);
  assert.ok(res.json.error.message.length > 0, `error message is empty: ${ctx}`);
}

/** Same, for a refused WebSocket upgrade (see client.expectRefused). */
export function expectRefusal(refusal, status, code, what = '') {
  const ctx = `${what} -> HTTP ${refusal.status} ${refusal.text}`;
  assert.equal(refusal.status, status, `status: ${ctx}`);
  assert.match(refusal.headers['content-type'] || '', /application\/json/i, `content-type: ${ctx}`);
  assert.ok(refusal.body && typeof refusal.body === 'object' && refusal.body.error, `JSON error body: ${ctx}`);
  assert.equal(refusal.body.error.code, code, `error code: ${ctx}`);
  assert.equal(typeof refusal.body.error.message, 'string', `error message: ${ctx}`);
  assert.ok(refusal.body.error.message.length > 0, `error message is empty: ${ctx}`);
}

/** Asserts `m` has the Message shape, and the given fields when given. */
export function expectMessage(m, fields = {}) {
  const ctx = JSON.stringify(m);
  assert.ok(m && typeof m === 'object', `message object: ${ctx}`);
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `seq: ${ctx}`);
  assert.equal(typeof m.room, 'string', `room: ${ctx}`);
  assert.equal(typeof m.name, 'string', `name: ${ctx}`);
  assert.equal(typeof m.text, 'string', `text: ${ctx}`);
  assert.ok(Number.isInteger(m.ts) && m.ts > 1.5e12 && m.ts < 5e12, `ts (ms since epoch): ${ctx}`);
  assert.ok('client_id' in m && (m.client_id === null || typeof m.client_id === 'string'), `client_id: ${ctx}`);
  assert.ok('reply_to' in m && (m.reply_to === null || Number.isInteger(m.reply_to)), `reply_to: ${ctx}`);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(m[k], v, `${k} of ${ctx}`);
}

/** Asserts a User shape. */
export function expectUser(u, fields = {}) {
  const ctx = JSON.stringify(u);
  assert.ok(u && typeof u === 'object', `user object: ${ctx}`);
  assert.equal(typeof u.name, 'string', `name: ${ctx}`);
  assert.ok(['online', 'away', 'dnd'].includes(u.status), `status: ${ctx}`);
  for (const [k, v] of Object.entries(fields)) assert.deepEqual(u[k], v, `${k} of ${ctx}`);
}

/** Users as sorted "name:status" strings, for order-independent comparison. */
export const userSet = (users) => users.map((u) => `${u.name}:${u.status}`).sort();

/** A room list entry's v1 fields (later extensions add more: who is online, the newest message). */
export const roomV1 = ({ id, message_count, last_activity }) => ({ id, message_count, last_activity });

/** The seqs of a list of messages. */
export const seqs = (messages) => messages.map((m) => m.seq);

/** [from, from+1, ..., to]. */
export const range = (from, to) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Asserts an `error` frame with the given code (and client_id, when given). */
export function expectErrorFrame(frame, code, { client_id } = {}) {
  const ctx = JSON.stringify(frame);
  assert.equal(frame?.type, 'error', `error frame: ${ctx}`);
  assert.equal(frame.code, code, `error code: ${ctx}`);
  assert.equal(typeof frame.message, 'string', `error message: ${ctx}`);
  if (client_id !== undefined) assert.equal(frame.client_id, client_id, `client_id echoed: ${ctx}`);
}
