// The `data-scale` bench scenario (issue 12, "a million messages"): the same queries,
// through the Worker's real HTTP routes, on a small local D1 and on one 100 times
// bigger, each seeded fresh by scripts/seed.mjs in its own state directory. Reports each
// query's p50/p99 on both and the ratio big / small (the target: at most 1.5x), the
// seeding time, and the D1 rows a message writes (from D1's own `meta`).
//
// It runs against edgechat only: the ceiling stores nothing, so it has no query to time.
// Only D1 is seeded (see scripts/seed.mjs): every route timed here reads D1 alone.
//
//   node bench/data-scale.mjs [--small 1000:10000] [--full 100000:1000000] [--reps 60]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, http } from '../tests/support/server.mjs';
import { seed, SEED_TOKEN, LOBBY, COMMON_WORD, RARE_WORD } from '../scripts/seed.mjs';
import { openD1, row, rowsWritten } from '../tests/support/d1.mjs';

/** The queries timed: the room list, a history page, a thread, search, unread counts. */
const QUERIES = [
  { key: 'room_list', label: 'room list (first page of 50)', path: '/api/rooms?limit=50' },
  { key: 'history_page', label: 'a room\'s history page (50 before seq 900)', path: `/room/${LOBBY}/messages?before=900&limit=50` },
  { key: 'history_newest', label: 'a room\'s newest page (50)', path: `/room/${LOBBY}/messages?limit=50` },
  { key: 'thread', label: 'a thread (100 replies)', path: `/room/${LOBBY}/thread/1?limit=100` },
  { key: 'search_common', label: `search, a common word (${COMMON_WORD})`, path: `/api/search?q=${COMMON_WORD}` },
  { key: 'search_rare', label: `search, a rare word (${RARE_WORD})`, path: `/api/search?q=${RARE_WORD}` },
  { key: 'search_room', label: `search one room, a common word`, path: `/api/search?q=${COMMON_WORD}&room=${LOBBY}` },
  { key: 'unread', label: 'unread counts of a name in 50 rooms', path: '/api/rooms?limit=50', token: true },
];

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Times every query `reps` times, interleaved (one of each per round), after a warm-up. */
async function timeQueries(server, reps) {
  const times = Object.fromEntries(QUERIES.map((q) => [q.key, []]));
  const errors = [];
  for (let round = -3; round < reps; round++) {
    for (const q of QUERIES) {
      const headers = q.token ? { authorization: `Bearer ${SEED_TOKEN}` } : {};
      const t0 = process.hrtime.bigint();
      const res = await http(server, q.path, { headers });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.status !== 200) {
        errors.push(`${q.path}: ${res.status} ${res.text.slice(0, 200)}`);
        continue;
      }
      if (q.token && !(res.json.rooms ?? []).some((r) => typeof r.unread === 'number' && r.unread > 0)) {
        errors.push(`${q.path}: no unread counts for the seeded reader`);
      }
      if (round >= 0) times[q.key].push(ms);
    }
  }
  const out = {};
  for (const q of QUERIES) {
    const v = times[q.key].sort((a, b) => a - b);
    out[q.key] = { p50: percentile(v, 50), p99: percentile(v, 99), n: v.length };
  }
  return { latency_ms: out, errors };
}

/** Seeds one size in a fresh state directory, starts the Worker on it and times it. */
async function oneSize({ rooms, messages }, { stateRoot, reps, vars, ratelimits, note }) {
  const stateDir = mkdtempSync(path.join(stateRoot, 'edgechat-bench-data-'));
  try {
    note(`data-scale: seeding ${rooms.toLocaleString('en-US')} rooms, ${messages.toLocaleString('en-US')} messages`);
    const seeded = await seed({ stateDir, rooms, messages });
    note(`data-scale: seeded in ${seeded.seed_s.toFixed(1)} s (migrations ${seeded.migrate_s.toFixed(1)} s)`);
    const server = await startServer({ vars, ratelimits, stateDir });
    try {
      return { ...seeded, ...(await timeQueries(server, reps)) };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The D1 rows written by the batches of a message, a reply and ten messages at once. */
async function messageRows() {
  const d1 = await openD1();
  try {
    const sum = (a) => a.reduce((x, y) => x + y, 0);
    const first = await rowsWritten(d1.db, 'rows', [row(1)]);
    const next = await rowsWritten(d1.db, 'rows', [row(2)]);
    const reply = await rowsWritten(d1.db, 'rows', [row(1, { reply_count: 1, rev: 4 }), row(3, { reply_to: 1 })]);
    const ten = await rowsWritten(d1.db, 'rows', Array.from({ length: 10 }, (_, i) => row(10 + i)));
    return { first: sum(first), message: sum(next), reply: sum(reply), ten_in_one_batch: sum(ten), per_statement: { message: next, reply } };
  } finally {
    await d1.close();
  }
}

const SIZE = (text) => {
  const [rooms, messages] = text.split(':').map(Number);
  if (!(rooms > 0 && messages >= rooms)) throw new Error(`a size is ROOMS:MESSAGES, not ${text}`);
  return { rooms, messages };
};

/**
 * Runs the scenario; resolves to the JSON shape of the CLI's scenarios:
 * { scenario, target, results }.
 */
export async function dataScale({ small = '1000:10000', full = '100000:1000000', reps = 60, stateRoot = tmpdir(), vars = {}, ratelimits, note = console.error } = {}) {
  const opts = { stateRoot, reps: Number(reps), vars, ratelimits, note };
  const sizes = { small: SIZE(small), full: SIZE(full) };
  const results = { sizes, rows_written: await messageRows() };
  results.small = await oneSize(sizes.small, opts);
  results.full = await oneSize(sizes.full, opts);
  results.ratio = {};
  for (const q of QUERIES) {
    const [a, b] = [results.small.latency_ms[q.key].p50, results.full.latency_ms[q.key].p50];
    results.ratio[q.key] = a > 0 && b != null ? b / a : null;
  }
  results.errors = [...results.small.errors, ...results.full.errors];
  return { scenario: 'data-scale', target: 'edgechat', results };
}

export const DATA_SCALE_QUERIES = QUERIES;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const out = await dataScale({ small: arg('small'), full: arg('full'), reps: arg('reps', 60), stateRoot: arg('state-root', tmpdir()),
    vars: { RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SEC: '1000000' }, ratelimits: { SEARCH_LIMITER: 1000000 } });
  const r = out.results;
  console.error(`seeding: small ${r.small.seed_s.toFixed(1)} s, full ${r.full.seed_s.toFixed(1)} s`);
  for (const q of QUERIES) {
    const [s, f] = [r.small.latency_ms[q.key], r.full.latency_ms[q.key]];
    console.error(`${q.label.padEnd(44)} p50 ${s.p50?.toFixed(2)} / ${f.p50?.toFixed(2)} ms  p99 ${s.p99?.toFixed(2)} / ${f.p99?.toFixed(2)} ms  ratio ${r.ratio[q.key]?.toFixed(2)}x`);
  }
  console.error(`D1 rows written: ${JSON.stringify(r.rows_written)}`);
  if (r.errors.length) console.error(`errors:\n${r.errors.slice(0, 10).join('\n')}`);
  console.log(JSON.stringify(out));
}
