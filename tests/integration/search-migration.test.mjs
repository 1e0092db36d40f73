// migrations/0014_search_room.sql makes the search index again with each row's room as a
// token: the messages stored before it must be found as before, in one room (SEARCH_ROOM,
// which asks the index for the room's token) and in every listed room (SEARCH), and the
// triggers it makes again must keep indexing new, edited and deleted messages. The
// migrations up to 0013 are applied to a fresh local D1, messages are written the way the
// rooms write them (UPSERT_FROM_JSON), then 0014 is applied and the search queries run
// with their bound parameters, as the Worker sends them (tests/integration/d1-queries.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate } from '../../scripts/seed.mjs';
import { openD1, d1Queries, row } from '../support/d1.mjs';
import { REPO_ROOT } from '../support/server.mjs';

const MIGRATIONS = path.join(REPO_ROOT, 'migrations');
const THE_MIGRATION = '0014_search_room.sql';

/** A config like tests/wrangler.test.toml whose D1 migrations are those in `dir`. */
function configFor(dir) {
  const text = readFileSync(path.join(REPO_ROOT, 'tests', 'wrangler.test.toml'), 'utf8')
    .replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(dir)}`);
  assert.ok(text.includes(`migrations_dir = ${JSON.stringify(dir)}`), text);
  const file = path.join(dir, '..', 'wrangler.toml');
  writeFileSync(file, text);
  return file;
}

test('messages stored before 0014 are searched after it, in one room and in all, and the triggers still follow them', async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'edgechat-search-migration-'));
  const stateDir = path.join(work, 'state');
  const dir = path.join(work, 'migrations');
  try {
    // Every migration but 0014: those before it, and the later ones that only add
    // columns (0015's `pinned`), which the rooms' upsert of today writes.
    const all = readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort();
    assert.ok(all.includes(THE_MIGRATION), all.join(' '));
    mkdirSync(dir);
    for (const f of all.filter((f) => f !== THE_MIGRATION)) copyFileSync(path.join(MIGRATIONS, f), path.join(dir, f));
    const config = configFor(dir);
    await migrate(stateDir, config);

    const sql = Object.fromEntries(d1Queries().map((q) => [q.name, q.sql]));
    let d1 = await openD1({ stateDir, migrated: true });
    const write = (room, rows) => d1.db.prepare(sql['message::UPSERT_FROM_JSON']).bind(room, JSON.stringify(rows)).run();
    await write('old-room', [row(1, { text: 'an oldword here' }), row(2, { text: 'oldword oldword twice' }), row(3, { text: 'nothing' })]);
    await write('other_room', [row(1, { text: 'oldword elsewhere' })]);
    await d1.db.prepare("INSERT INTO rooms (id, message_count, last_seq, last_activity) VALUES ('old-room', 3, 3, 1), ('other_room', 1, 1, 1)").run();
    await d1.close();

    copyFileSync(path.join(MIGRATIONS, THE_MIGRATION), path.join(dir, THE_MIGRATION));
    await migrate(stateDir, config);
    d1 = await openD1({ stateDir, migrated: true });
    try {
      const inRoom = async (fts, room) => (await d1.db.prepare(sql['history::SEARCH_ROOM']).bind(fts, 21, 0, room).all())
        .results.map((r) => `${r.room}/${r.seq}`);
      const everywhere = async (fts) => (await d1.db.prepare(sql['history::SEARCH']).bind(fts, 21, 0).all())
        .results.map((r) => `${r.room}/${r.seq}`);

      assert.deepEqual(await inRoom('"oldword"*', 'old-room'), ['old-room/2', 'old-room/1'], 'more hits first');
      assert.deepEqual(await inRoom('"oldword"*', 'other_room'), ['other_room/1']);
      assert.deepEqual(await inRoom('"oldword"*', 'no-room'), []);
      assert.deepEqual((await everywhere('"oldword"*')).sort(), ['old-room/1', 'old-room/2', 'other_room/1']);
      const { results } = await d1.db.prepare(sql['history::SEARCH_ROOM']).bind('"oldword"', 21, 0, 'old-room').all();
      assert.equal(results[0].snippet, '\u0002oldword\u0003 \u0002oldword\u0003 twice');

      // The triggers made again: a new message, an edit and a delete.
      await write('old-room', [row(4, { text: 'newword at last' }), row(3, { text: 'nothing but a newword', rev: 5 })]);
      assert.deepEqual(await inRoom('"newword"', 'old-room'), ['old-room/4', 'old-room/3']);
      await d1.db.prepare("UPDATE messages SET text = '' WHERE room = 'old-room' AND seq = 4").run();
      await d1.db.prepare("DELETE FROM messages WHERE room = 'other_room' AND seq = 1").run();
      assert.deepEqual(await inRoom('"newword"', 'old-room'), ['old-room/3']);
      assert.deepEqual(await inRoom('"oldword"', 'other_room'), []);
      assert.deepEqual((await everywhere('"oldword"')).sort(), ['old-room/1', 'old-room/2']);
    } finally {
      await d1.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
