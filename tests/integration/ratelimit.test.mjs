// Rate limiting: a token bucket per claim in a room, shared by all its sockets there
// (RATE_LIMIT_BURST frames, refilled at RATE_LIMIT_PER_SEC per second). This file's
// server runs with burst 5 and 2/s. tests/integration/abuse.test.mjs has the reconnect
// and many-tabs cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http } from '../support/server.mjs';
import { connect, cid, roomId, sleep, closeAll } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

const BURST = 5;
const PER_SEC = 2;
const ctx = useServer({ vars: { RATE_LIMIT_BURST: String(BURST), RATE_LIMIT_PER_SEC: String(PER_SEC) } });
const srv = () => ctx.server;

/** Collects, for each sent client_id, either its ack or its error. */
async function outcomes(client, ids, timeout = 5000) {
  const out = new Map();
  await Promise.all(ids.map((id) => client.next(
    (f) => (f?.type === 'ack' || f?.type === 'error') && f.client_id === id,
    { timeout },
  ).then((f) => out.set(id, f))));
  return ids.map((id) => out.get(id));
}

test('a burst within the limit passes; a flood gets rate_limited, the same claim\'s other tab too, while other claims keep sending', async () => {
  const room = roomId('flood');
  const a = await connect(srv(), room, 'Flooder');
  const tab = await connect(srv(), room, 'flooder'); // the same user, another connection
  const b = await connect(srv(), room, 'Calm');
  try {
    // The burst: all accepted.
    const burst = Array.from({ length: BURST }, () => cid('burst'));
    for (const id of burst) a.send({ type: 'send', text: `burst ${id}`, client_id: id });
    const burstResults = await outcomes(a, burst);
    assert.deepEqual(burstResults.map((f) => f.type), Array(BURST).fill('ack'), JSON.stringify(burstResults));
    assert.deepEqual(burstResults.map((f) => f.seq), [1, 2, 3, 4, 5]);

    // The flood right after: most are refused.
    const flood = Array.from({ length: 12 }, () => cid('flood'));
    for (const id of flood) a.send({ type: 'send', text: `flood ${id}`, client_id: id });
    const floodResults = await outcomes(a, flood);
    const refused = floodResults.filter((f) => f.type === 'error');
    const accepted = floodResults.filter((f) => f.type === 'ack');
    assert.ok(refused.length >= 9, `at most a token or two refill during the flood; refused ${refused.length}/12: ${JSON.stringify(floodResults)}`);
    for (const e of refused) {
      expectErrorFrame(e, 'rate_limited');
      assert.ok(flood.includes(e.client_id), `client_id echoed: ${JSON.stringify(e)}`);
      assert.ok(Number.isInteger(e.retry_after_ms) && e.retry_after_ms > 0, `retry_after_ms > 0: ${JSON.stringify(e)}`);
      assert.ok(e.retry_after_ms <= 30_000, `retry_after_ms is sane: ${JSON.stringify(e)}`);
    }
    assert.ok(a.isOpen(), 'the flooder keeps its socket');

    // Only the accepted ones were broadcast.
    const refusedIds = new Set(refused.map((e) => e.client_id));
    await sleep(300);
    const bSaw = b.discard('message').map((f) => f.message.client_id);
    assert.deepEqual(bSaw, [...burst, ...accepted.map((f) => f.client_id)]);
    assert.ok(!bSaw.some((id) => refusedIds.has(id)));

    // The same claim's other tab shares the bucket: it is limited too.
    const tabId = cid('tab');
    tab.send({ type: 'send', text: 'from the other tab', client_id: tabId });
    expectErrorFrame(await tab.nextError(tabId), 'rate_limited', { client_id: tabId });

    // Other claims are not limited.
    for (let i = 0; i < BURST; i++) {
      const r = await b.say(`calm ${i}`);
      assert.equal(r.ack.type, 'ack');
    }

    // After waiting retry_after_ms, the refused client_id goes through and is stored.
    const last = refused.at(-1);
    await sleep(last.retry_after_ms + 50);
    a.send({ type: 'send', text: 'retried', client_id: last.client_id });
    const retried = await a.next((f) => (f?.type === 'ack' || f?.type === 'error') && f.client_id === last.client_id);
    assert.equal(retried.type, 'ack', `after retry_after_ms: ${JSON.stringify(retried)}`);
    const msg = await b.nextMessage(last.client_id);
    assert.equal(msg.message.seq, retried.seq);
    assert.equal(msg.message.text, 'retried');

    // The history holds exactly the accepted messages.
    const page = (await http(srv(), `/room/${room}/messages?limit=100`)).json;
    assert.equal(page.messages.length, BURST + accepted.length + BURST + 1);
    assert.ok(!page.messages.some((m) => refusedIds.has(m.client_id) && m.client_id !== last.client_id));
  } finally {
    await closeAll(a, tab, b);
  }
});

test('sending at the sustained rate is never limited', async () => {
  const room = roomId('sustained');
  const a = await connect(srv(), room, 'Steady');
  try {
    // Empty the bucket first.
    const drain = Array.from({ length: BURST }, () => cid('drain'));
    for (const id of drain) a.send({ type: 'send', text: 'drain', client_id: id });
    assert.ok((await outcomes(a, drain)).every((f) => f.type === 'ack'));
    // Then one message per 1.5 refill periods.
    const period = Math.ceil((1000 / PER_SEC) * 1.5);
    for (let i = 0; i < 4; i++) {
      await sleep(period);
      const id = cid('steady');
      a.send({ type: 'send', text: `steady ${i}`, client_id: id });
      const [f] = await outcomes(a, [id]);
      assert.equal(f.type, 'ack', `steady message ${i}: ${JSON.stringify(f)}`);
    }
  } finally {
    await closeAll(a);
  }
});

test('every frame counts against the bucket, except ping', async () => {
  const room = roomId('allframes');
  const a = await connect(srv(), room, 'Typer');
  const b = await connect(srv(), room, 'Sees');
  a.discard('user_joined');
  try {
    for (let i = 0; i < BURST + 6; i++) a.send({ type: 'typing', on: i % 2 === 0 });
    await sleep(800);
    const errors = a.discard('error');
    // A flood of frames without client_id is told the wait once per wait (500 ms here),
    // not once per frame.
    assert.ok(errors.length >= 1 && errors.length <= 2, `typing floods are limited too, told once per wait: ${JSON.stringify(errors)}`);
    for (const e of errors) {
      expectErrorFrame(e, 'rate_limited');
      assert.ok(e.retry_after_ms > 0);
    }
    // The bucket is empty now; pings are not counted and are answered.
    for (let i = 0; i < 20; i++) a.sendRaw('ping');
    for (let i = 0; i < 20; i++) await a.next('pong');
    await a.expectNoFrame('error', 300);
    // Once the bucket refilled, a send goes through.
    await sleep(Math.max(...errors.map((e) => e.retry_after_ms)) + 50);
    const { ack } = await a.say('typed enough');
    assert.equal(ack.seq, 1);
    assert.ok(a.isOpen());
  } finally {
    await closeAll(a, b);
  }
});
