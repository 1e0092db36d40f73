#!/usr/bin/env node
// Fills the local D1 of a state directory with many rooms and messages, for the
// `data-scale` bench scenario (and by hand):
//
//   node scripts/seed.mjs --state DIR [--rooms 100000] [--messages 1000000]
//
// Every row is made inside SQLite by recursive CTEs (one `wrangler d1 execute --file`),
// so a million messages take seconds, not the hours a row-by-row load would. What the
// routes read is what is made, consistently:
//
// - `messages`: `--messages / --rooms` per room (`room-000001`...), 1 s apart, names
//   `user1`..`user500`, six words each from 3,000 words `w1z`..`w3000z` drawn so that
//   low ranks are far commoner (a Zipf-like skew: `w1z` is in about 1 message in 20);
//   seq 1 of each room is a thread and every third message replies to it. The FTS index
//   (`search_docs`, `messages_fts`) is filled by migration 0004's triggers as for any
//   message.
// - `lobby`, the newest room, the same in every size: 1,000 messages, a thread of 100
//   replies to seq 1, and the rare word `zephyrine` in 5 of them.
// - `rooms`: each room's catalog row (count, last seq and time, preview), as the rooms
//   write it; every 100th room private.
// - a claim `reader` (token `SEED_TOKEN` below) with read positions in 50 public rooms:
//   the lobby and the 49 newest other rooms, the first page of the room list.
//
// Only D1 is seeded: the rooms' Durable Objects know nothing of these messages, so a
// seeded room must not be connected to and written (its log would start again at seq 1).
// The history page, thread, search and room list routes all read D1 alone.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WRANGLER = path.join(ROOT, 'node_modules', '.bin', 'wrangler');
const CONFIG = path.join(ROOT, 'tests', 'wrangler.test.toml');

/** The seeded reader's token (a bench fixture, not a secret) and its claim. */
export const SEED_TOKEN = 'seed-reader-token-0123456789abcdef';
export const SEED_CLAIM = 'seedreader000000000000000';
export const LOBBY = 'lobby';
export const COMMON_WORD = 'w1z';
export const RARE_WORD = 'zephyrine';

const WORDS = 3000;
const NAMES = 500;
const LOBBY_MESSAGES = 1000;
const PREVIEW_CHARS = 100;

/** One word, a rank drawn with a skew toward 1 (three nested uniform draws). */
const WORD = `'w' || (1 + abs(random()) % (1 + abs(random()) % (1 + abs(random()) % ${WORDS}))) || 'z'`;
const TEXT = Array.from({ length: 6 }, () => WORD).join(" || ' ' || ");

/** The SQL that seeds `rooms` rooms of `perRoom` messages each, and the lobby. */
export function seedSql({ rooms, perRoom, now = Date.now() }) {
  const start = now - (rooms * perRoom + LOBBY_MESSAGES + 1) * 1000;
  const tokenHash = createHash('sha256').update(SEED_TOKEN).digest('hex');
  const threadReplies = Math.floor(perRoom / 3);
  const lobbyStart = start + rooms * perRoom * 1000;
  return `
INSERT INTO messages (room, seq, name, text, ts, reply_to, reply_count, rev)
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < ${rooms}),
     s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < ${perRoom})
SELECT printf('room-%06d', n), k, 'user' || (1 + abs(random()) % ${NAMES}), ${TEXT},
       ${start} + ((n - 1) * ${perRoom} + k) * 1000,
       CASE WHEN k > 1 AND k % 3 = 0 THEN 1 END,
       CASE WHEN k = 1 THEN ${threadReplies} ELSE 0 END, 1
FROM r, s ORDER BY n, k;

INSERT INTO messages (room, seq, name, text, ts, reply_to, reply_count, rev)
WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < ${LOBBY_MESSAGES})
SELECT '${LOBBY}', k, 'user' || (1 + abs(random()) % ${NAMES}),
       CASE WHEN k % 100 = 0 AND k <= 500 THEN '${RARE_WORD} ' ELSE '' END || ${TEXT},
       ${lobbyStart} + k * 1000,
       CASE WHEN k % 10 = 0 THEN 1 END,
       CASE WHEN k = 1 THEN ${LOBBY_MESSAGES / 10} ELSE 0 END, 1
FROM s;

INSERT INTO rooms (id, message_count, last_seq, last_activity, title, description, visibility,
                   online, last_name, last_text)
SELECT m.room, m.seq, m.seq, m.ts, 'Room ' || m.room, 'seeded', 
       CASE WHEN m.room LIKE '%50' THEN 'private' ELSE 'public' END, 0,
       m.name, substr(m.text, 1, ${PREVIEW_CHARS})
FROM messages m
WHERE (m.room LIKE 'room-%' AND m.seq = ${perRoom}) OR (m.room = '${LOBBY}' AND m.seq = ${LOBBY_MESSAGES});

INSERT INTO names (name_key, name, token_hash, claimed_at, last_used, claim_id, confirmed,
                   skeleton, key_skeleton)
VALUES ('reader', 'reader', '${tokenHash}', ${now}, ${now}, '${SEED_CLAIM}', 1, 'reader', 'reader');

INSERT INTO reads (claim, room, seq)
SELECT '${SEED_CLAIM}', id, last_seq / 2 FROM rooms
WHERE visibility = 'public' ORDER BY last_activity DESC LIMIT 50;
`;
}

function wrangler(args, { timeout = 900_000 } = {}) {
  const configHome = mkdtempSync(path.join(tmpdir(), 'edgechat-seed-xdg-'));
  const env = {
    ...process.env, CI: 'true', NO_COLOR: '1', XDG_CONFIG_HOME: configHome,
    WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  };
  return new Promise((resolve, reject) => {
    execFile(WRANGLER, args, { cwd: ROOT, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(configHome, { recursive: true, force: true });
      if (err) reject(new Error(`wrangler ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Applies the migrations to the state directory's local D1. */
export async function migrate(stateDir, config = CONFIG) {
  await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir, '-c', config]);
}

/** Runs SQL text against the state directory's local D1; its `--json` answer. */
export async function execute(stateDir, sql, config = CONFIG) {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgechat-seed-sql-'));
  try {
    const file = path.join(dir, 'seed.sql');
    writeFileSync(file, sql);
    const out = await wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', stateDir, '-c', config, '--file', file, '--json']);
    return JSON.parse(out.slice(out.indexOf('[')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Migrates and seeds; the seconds each step took. */
export async function seed({ stateDir, rooms, messages, config = CONFIG }) {
  const perRoom = Math.max(1, Math.round(messages / rooms));
  const t0 = Date.now();
  await migrate(stateDir, config);
  const t1 = Date.now();
  await execute(stateDir, seedSql({ rooms, perRoom }), config);
  const t2 = Date.now();
  return {
    rooms: rooms + 1,
    messages: rooms * perRoom + LOBBY_MESSAGES,
    migrate_s: (t1 - t0) / 1000,
    seed_s: (t2 - t1) / 1000,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const stateDir = arg('state');
  if (!stateDir) {
    console.error('usage: node scripts/seed.mjs --state DIR [--rooms N] [--messages M]');
    process.exit(2);
  }
  const done = await seed({ stateDir, rooms: Number(arg('rooms', 100000)), messages: Number(arg('messages', 1000000)) });
  console.log(JSON.stringify(done));
}
