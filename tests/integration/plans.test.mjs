// Every D1 query the Worker runs uses an index: `EXPLAIN QUERY PLAN` of each SQL text in
// src/storage/queries.rs (its checked-in copy d1-queries.json, kept in step by a cargo
// test), on a fresh local D1 with every migration applied, has no `SCAN` of a table.
// The only scans allowed are of tiny lists a statement is given: `json_each` over the
// JSON array of a room's batch (at most MAX_JSON_BYTES of changes), and FTS5's own
// MATCH index (a `VIRTUAL TABLE INDEX` with a match constraint, which is the full-text
// index), and the search's own steps `hit` and `best` (at most SEARCH_WINDOW rows, see
// src/storage/history.rs). Also the D1 rows written per message, from D1's own `meta`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openD1, d1Queries, parameterCount, row, rowsWritten } from '../support/d1.mjs';
import { REPO_ROOT } from '../support/server.mjs';

/** The most D1 rows one message may write (see docs: where each comes from). */
const ROWS_PER_MESSAGE = 6;

let d1;
before(async () => { d1 = await openD1(); });
after(async () => { await d1?.close(); });

/** The plan of `sql` as its detail lines (every parameter bound to NULL). */
async function plan(db, sql) {
  const nulls = Array.from({ length: parameterCount(sql) }, () => null);
  const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...nulls).all();
  return results.map((r) => r.detail);
}

/** The detail lines of a plan that scan a table (see the header for the exceptions). */
const ALLOWED_SCAN = /^SCAN (json_each VIRTUAL TABLE|messages_fts VIRTUAL TABLE INDEX \d+:=?M|CONSTANT ROW|hit$|best$)/;
const badScans = (details) => details.filter((d) => /^SCAN /.test(d) && !ALLOWED_SCAN.test(d));

const PLANS = path.join(REPO_ROOT, 'tests', 'integration', 'd1-plans.json');

/** Every listed query's plan: { name: [detail, ...] }. */
async function allPlans(db) {
  const plans = {};
  for (const { name, sql } of d1Queries()) plans[name] = await plan(db, sql);
  return plans;
}

test('every D1 query of the Worker uses an index', async () => {
  const queries = d1Queries();
  assert.ok(queries.length >= 30, `only ${queries.length} queries listed`);
  const plans = await allPlans(d1.db);
  const failures = queries
    .map(({ name, sql }) => ({ name, sql, bad: badScans(plans[name]) }))
    .filter((q) => q.bad.length)
    .map((q) => `${q.name}: ${q.bad.join('; ')}\n  ${q.sql}`);
  assert.deepEqual(failures, [], `queries whose plan scans a table:\n${failures.join('\n')}`);
});

// The plans as they were checked: a query that loses its index (or a new one) shows
// here. EDGECHAT_WRITE_PLANS=1 rewrites d1-plans.json after a deliberate change.
test('every plan is the one checked in (tests/integration/d1-plans.json)', async () => {
  const plans = await allPlans(d1.db);
  if (process.env.EDGECHAT_WRITE_PLANS === '1') writeFileSync(PLANS, `${JSON.stringify(plans, null, 2)}\n`);
  const expected = JSON.parse(readFileSync(PLANS, 'utf8'));
  assert.deepEqual(plans, expected, 'a query plan changed: check it, then EDGECHAT_WRITE_PLANS=1');
});

test('the check fails for real: a query that loses its index is caught', async () => {
  const expected = JSON.parse(readFileSync(PLANS, 'utf8'));
  const replies = d1Queries().find((q) => q.name === 'message::D1_REPLIES');
  assert.ok(replies && expected[replies.name].some((d) => /messages_replies/.test(d)));
  await d1.db.prepare('DROP INDEX messages_replies').run();
  try {
    // The thread query names its index: without it, it fails (or at least plans otherwise).
    const lost = await plan(d1.db, replies.sql).catch((err) => [String(err)]);
    assert.notDeepEqual(lost, expected[replies.name]);
  } finally {
    await d1.db.prepare(
      'CREATE INDEX messages_replies ON messages (room, reply_to, seq) WHERE reply_to IS NOT NULL',
    ).run();
  }
  assert.deepEqual(await plan(d1.db, replies.sql), expected[replies.name]);
  // And a scan of a table is refused by the first test's rule.
  assert.deepEqual(badScans(await plan(d1.db, 'SELECT name FROM messages WHERE text = ?1')), ['SCAN messages']);
});

test('D1 rows written per message (from D1\'s meta)', async (t) => {
  const first = await rowsWritten(d1.db, 'rows-room', [row(1)]);
  const next = await rowsWritten(d1.db, 'rows-room', [row(2)]);
  // A reply changes its parent too (its reply count), in the same batch.
  const reply = await rowsWritten(d1.db, 'rows-room', [row(1, { reply_count: 1, rev: 4 }), row(3, { reply_to: 1 })]);
  const ten = await rowsWritten(d1.db, 'rows-room', Array.from({ length: 10 }, (_, i) => row(10 + i)));
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  const report = { first: first, next, reply, ten_in_one_batch: ten };
  t.diagnostic(`rows written [messages upsert, room summary]: ${JSON.stringify(report)}`);
  console.log(`D1 rows written per message: ${JSON.stringify(report)}`);
  assert.ok(sum(next) <= ROWS_PER_MESSAGE, `a message wrote ${sum(next)} rows: ${JSON.stringify(next)}`);
});
