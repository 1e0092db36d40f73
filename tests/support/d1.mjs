// A local D1 outside `wrangler dev`, for tests and the bench that look at the database
// itself: the migrations applied by `wrangler d1 migrations apply` to a fresh state
// directory, then the same database opened through Miniflare (the runtime wrangler runs),
// so statements run with bound parameters and answer D1's own `meta`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { REPO_ROOT } from './server.mjs';
import { migrate } from '../../scripts/seed.mjs';

/** The database id the test config gives D1 (its local file is named after it). */
const DATABASE_ID = '00000000-0000-0000-0000-000000000000';

/** Every SQL text the Worker sends to D1: `[{name, sql}]` (see src/storage/queries.rs). */
export function d1Queries() {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'tests', 'integration', 'd1-queries.json'), 'utf8'));
}

/** The number of parameters a statement binds: its highest `?N`. */
export function parameterCount(sql) {
  return Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
}

/**
 * Opens the local D1 of `stateDir` (migrated first unless `migrated`), or of a fresh
 * state directory removed again by `close()`. Resolves to { db, close }.
 */
export async function openD1({ stateDir, migrated = false } = {}) {
  const own = !stateDir;
  if (own) stateDir = mkdtempSync(path.join(tmpdir(), 'edgechat-d1-'));
  if (!migrated) await migrate(stateDir);
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }); } }',
    d1Databases: { DB: DATABASE_ID },
    d1Persist: path.join(stateDir, 'v3', 'd1'),
  });
  const db = await mf.getD1Database('DB');
  return {
    db,
    stateDir,
    async close() {
      await mf.dispose();
      if (own) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A message as a room's batch carries it to D1 (src/storage/message.rs `Row`). */
export const row = (seq, { text = 'hello there, general kenobi', reply_to = null, reply_count = 0, rev = seq } = {}) => ({
  seq, name: 'Ann', text, ts: 1_700_000_000_000 + seq, client_id: `c${seq}`, reply_to,
  edited_ts: null, deleted: 0, reactions: null, reply_count, rev, attachment: null,
});

/**
 * The D1 rows written by the batch a room writes for these changed messages: the
 * upsert of the JSON array, then the room's summary row (src/storage/room_writes.rs).
 */
export async function rowsWritten(db, room, rows) {
  const sql = Object.fromEntries(d1Queries().map((q) => [q.name, q.sql]));
  const last = rows.reduce((a, b) => (b.seq > a.seq ? b : a));
  const results = await db.batch([
    db.prepare(sql['message::UPSERT_FROM_JSON']).bind(room, JSON.stringify(rows)),
    db.prepare(sql['room_writes::ROOM_SUMMARY']).bind(room, last.seq, last.ts, last.name, last.text.slice(0, 100), 1),
  ]);
  return results.map((r) => r.meta.rows_written);
}

