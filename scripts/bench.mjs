#!/usr/bin/env node
// Benchmarks edgechat against the "ceiling" (bench/ceiling: a bare relay Durable Object on
// the same runtime) and writes bench/RESULTS.md and bench/results.json. See bench/README.md.
//
//   npm run bench                          build, then every scenario once
//   npm run bench -- --no-build            use the existing build/ and CLI binary
//   npm run bench -- --rounds 3            3 interleaved rounds, medians reported
//   npm run bench -- --scenarios fanout,join
//   npm run bench -- --quick               small and short: a smoke run, not figures
//   npm run bench -- --state tmpfs         only with the servers' state in /dev/shm (default: disk,tmpfs)
//   npm run bench -- --fanout "--receivers 100 --rate 50"   change a scenario's flags
//
// Other options: --timeout SECONDS (per bench run, default 900), --out DIR (where the
// results go, default bench/). EDGECHAT_BENCH_BIN runs another load generator than
// target/release/edgechat (it must accept the same arguments and print the same JSON).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, mkdirSync, writeFileSync, mkdtempSync, rmSync, accessSync, constants as fsConstants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, REPO_ROOT } from '../tests/support/server.mjs';
import { dataScale, DATA_SCALE_QUERIES } from '../bench/data-scale.mjs';

// Run edgechat from a copy of build/ (see tests/support/server.mjs), so that a rebuild
// during the bench cannot make wrangler reload the Worker under it.
process.env.EDGECHAT_TEST_SNAPSHOT ??= '1';

const CEILING_CONFIG = path.join(REPO_ROOT, 'bench', 'ceiling', 'wrangler.toml');
const RAISED_LIMITS = Object.freeze({ RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SEC: '1000000' });
// The abuse limits (issue 10) the scenarios would trip from one address: every join is a
// fresh claim and a connect, and the rooms scenario makes rooms. Raised, and said so.
const RAISED_QUOTAS = Object.freeze({
  ROOMS_PER_CLAIM_PER_HOUR: '1000000',
  ROOMS_PER_ADDRESS_PER_HOUR: '1000000',
  UPLOADS_PER_CLAIM_PER_HOUR: '1000000',
  UPLOAD_BYTES_PER_CLAIM_PER_HOUR: '1000000000000',
});
const RAISED_RATELIMITS = Object.freeze({ CONNECT_LIMITER: 1000000, CLAIM_LIMITER: 1000000, SEARCH_LIMITER: 1000000 });
/**
 * The [vars] of wrangler.toml: the limits as they ship. The abuse scenario's server runs
 * with these (the test config raises some of them for the other tests). Only the simple
 * `KEY = "value"` lines of the [vars] table are read, which is all that table holds.
 */
/** The `[[ratelimits]]` limits of wrangler.toml: { NAME: limit }. */
function shippedRatelimits() {
  const limits = {};
  let name = null;
  for (const line of readFileSync(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8').split('\n')) {
    const t = line.trim();
    if (t.startsWith('[')) name = null;
    const n = t.match(/^name\s*=\s*"([A-Z0-9_]+)"$/);
    if (n) name = n[1];
    const l = name && t.match(/limit\s*=\s*(\d+)/);
    if (l) limits[name] = Number(l[1]);
  }
  return limits;
}

function shippedVars() {
  const vars = {};
  let inVars = false;
  for (const line of readFileSync(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8').split('\n')) {
    const t = line.trim();
    if (t.startsWith('[')) inVars = t === '[vars]';
    const m = inVars && t.match(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"$/);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}
const TARGETS = ['edgechat', 'ceiling'];
/**
 * Where the servers keep their state (Durable Object SQLite files, local D1): on disk every
 * storage commit is a disk flush, in tmpfs it is not. Each state is a run of its own, with
 * its own servers; the table shows both side by side.
 */
const STATES = ['disk', 'tmpfs'];
const SCENARIOS = ['fanout', 'throughput', 'join', 'rooms', 'capacity', 'idle', 'abuse', 'data-scale'];
/** Scenarios that only mean something against edgechat, on a server of their own. */
const EDGECHAT_ONLY = new Set(['abuse', 'data-scale']);
/** Scenarios run here in Node (bench/), not by the load generator, each on servers of its own. */
const IN_NODE = new Set(['data-scale']);

/** Each scenario's flags: the issue's targets, and a small version for --quick. */
const SCENARIO_FLAGS = {
  fanout: { full: '--receivers 50 --rate 20 --duration 10', quick: '--receivers 10 --rate 10 --duration 3' },
  throughput: { full: '--senders 10 --window 10 --duration 10', quick: '--senders 4 --window 5 --duration 3' },
  join: { full: '--history 100 --joins 100', quick: '--history 100 --joins 20' },
  rooms: { full: '--rooms 200 --clients 5', quick: '--rooms 20 --clients 3' },
  // One room of 2,000: its clients opt into presence 2 (edgechat; the ceiling has none).
  capacity: { full: '--first 1000 --second 1000 --parallel 50 --presence2', quick: '--first 100 --second 100 --parallel 20 --presence2' },
  // A room must stay idle long enough to hibernate (about 10 s under wrangler dev).
  idle: { full: '--connections 10 --idle 15 --rounds 3', quick: '--connections 3 --idle 12 --rounds 1' },
  // Against edgechat with its default room limits: the attack is what they are for.
  // 1/100 of the data and all of it, each seeded fresh (bench/data-scale.mjs).
  'data-scale': { full: '--small 1000:10000 --full 100000:1000000 --reps 60', quick: '--small 100:1000 --full 1000:10000 --reps 10' },
  abuse: { full: '--members 5 --rate 2 --duration 10 --attackers 8 --sockets 10 --attack-rate 50', quick: '--members 3 --rate 2 --duration 3 --attackers 4 --sockets 3 --attack-rate 20' },
};

// ------------------------------------------------------------------ command line

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  console.error('usage: node scripts/bench.mjs [--no-build] [--rounds N] [--scenarios a,b] [--quick] [--state disk|tmpfs|disk,tmpfs]\n' +
    `       [--timeout SECONDS] [--out DIR] [--<scenario> "FLAGS"]   (scenarios: ${SCENARIOS.join(', ')})`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { build: true, states: [...STATES], rounds: 1, scenarios: [...SCENARIOS], quick: false, timeout: 900, out: path.join(REPO_ROOT, 'bench'), extra: {} };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    const take = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    const name = arg.replace(/^--/, '');
    if (arg === '--no-build') opts.build = false;
    else if (arg === '--quick') opts.quick = true;
    else if (arg === '--state-on-disk') opts.states = ['disk']; // the flag before --state
    else if (arg === '--state') {
      const states = take().split(',').map((s) => s.trim()).filter(Boolean);
      if (!states.length || states.some((s) => !STATES.includes(s))) usage(`--state wants disk, tmpfs or both (disk,tmpfs), not ${JSON.stringify(states.join(','))}`);
      opts.states = STATES.filter((s) => states.includes(s));
    }
    else if (arg === '--rounds') opts.rounds = positiveInt(arg, take());
    else if (arg === '--timeout') opts.timeout = positiveInt(arg, take());
    else if (arg === '--out') opts.out = path.resolve(take());
    else if (arg === '--scenarios') {
      opts.scenarios = take().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = opts.scenarios.filter((s) => !SCENARIOS.includes(s));
      if (unknown.length || !opts.scenarios.length) usage(`unknown scenario(s): ${unknown.join(', ') || '(none given)'}`);
      opts.scenarios = SCENARIOS.filter((s) => opts.scenarios.includes(s)); // always in the canonical order
    } else if (SCENARIOS.includes(name) && arg.startsWith('--')) opts.extra[name] = take();
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return opts;
}

function positiveInt(flag, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usage(`${flag} wants a positive integer, not ${JSON.stringify(text)}`);
  return n;
}

/** "--a 1 --b --c 3" -> [['--a','1'], ['--b',null], ['--c','3']] */
function flagPairs(text) {
  const tokens = text.split(/\s+/).filter(Boolean);
  const pairs = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!tokens[i].startsWith('--')) throw new Error(`cannot read flags ${JSON.stringify(text)} at ${tokens[i]}`);
    const hasValue = i + 1 < tokens.length && !tokens[i + 1].startsWith('--');
    pairs.push([tokens[i], hasValue ? tokens[++i] : null]);
  }
  return pairs;
}

/** The scenario's default flags, each overridden (or extended) by the user's. */
function scenarioFlags(scenario, opts) {
  const merged = new Map(flagPairs(SCENARIO_FLAGS[scenario][opts.quick ? 'quick' : 'full']));
  for (const [flag, value] of flagPairs(opts.extra[scenario] ?? '')) merged.set(flag, value);
  return [...merged].flatMap(([flag, value]) => (value === null ? [flag] : [flag, value]));
}

// ------------------------------------------------------------------ processes

/** A path as the reports show it: relative inside the repository, absolute outside. */
function shownPath(file) {
  const rel = path.relative(REPO_ROOT, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tag = process.stderr.isTTY ? '\x1b[1;34m[bench]\x1b[0m' : '[bench]';
const note = (text) => process.stderr.write(`${tag} ${text}\n`);

const cargoBin = path.join(process.env.CARGO_HOME || path.join(os.homedir(), '.cargo'), 'bin');
const childEnv = { ...process.env, PATH: `${cargoBin}${path.delimiter}${process.env.PATH ?? ''}` };

/** The bench process running now, killed if this script exits first. */
let running = null;
process.on('exit', () => {
  if (running && running.exitCode === null && running.signalCode === null) {
    try { running.kill('SIGKILL'); } catch { /* gone */ }
  }
});

function runInherited(cmd, args) {
  note(`$ ${[cmd, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: childEnv, stdio: 'inherit' });
    running = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running = null;
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (code=${code} signal=${signal})`));
    });
  });
}

function benchBinary() {
  if (process.env.EDGECHAT_BENCH_BIN) return path.resolve(process.env.EDGECHAT_BENCH_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR) : path.join(REPO_ROOT, 'target');
  return path.join(targetDir, 'release', 'edgechat');
}

/** Every process descending from rootPid whose name is `workerd`, nearest first. */
function workerdDescendants(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; } // gone meanwhile
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const queue = [rootPid];
  const found = [];
  while (queue.length) {
    const pid = queue.shift();
    for (const child of children.get(pid) ?? []) {
      let comm = '';
      try { comm = readFileSync(`/proc/${child}/comm`, 'utf8').trim(); } catch { continue; }
      if (comm === 'workerd') found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The inodes of the sockets listening on 127.0.0.1/0.0.0.0:port (from /proc/net/tcp). */
function listeningInodes(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const line of readText('/proc/net/tcp').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]);
  }
  return inodes;
}

function ownsSocket(pid, inodes) {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try { return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/)?.[1]); } catch { return false; }
    });
  } catch {
    return false;
  }
}

/**
 * The `workerd` process that runs the server's Worker and Durable Objects, or null.
 * wrangler 4 starts two under `wrangler dev` (wrangler -> node -> workerd, twice): a proxy
 * that listens on the public port and forwards to the other, the runtime. The runtime is
 * the one that does not listen on the public port.
 */
function findWorkerd(server) {
  const all = workerdDescendants(server.child.pid);
  if (all.length <= 1) return all[0] ?? null;
  const publicSockets = listeningInodes(server.port);
  const runtimes = all.filter((pid) => !ownsSocket(pid, publicSockets));
  if (runtimes.length === 1) return runtimes[0];
  note(`cannot tell which workerd runs the Worker among ${all.join(', ')}: using ${runtimes[0] ?? all[0]}`);
  return runtimes[0] ?? all[0];
}

/** Runs one bench; resolves to { argv, ms, json } or { argv, ms, error }. */
function runBench(bin, scenario, target, server, opts) {
  const pid = findWorkerd(server);
  if (!pid) note(`no workerd process found under wrangler (pid ${server.child.pid}): running without --pid`);
  const args = ['bench', scenario, '--url', server.url, '--target', target, ...(pid ? ['--pid', String(pid)] : []), '--json', ...scenarioFlags(scenario, opts)];
  const argv = [shownPath(bin), ...args];
  note(`$ ${argv.join(' ')}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    running = child;
    let stdout = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeout * 1000);
    const done = (result) => {
      clearTimeout(timer);
      running = null;
      resolve({ argv, pid, ms: Date.now() - started, ...result });
    };
    child.once('error', (err) => done({ error: `could not run ${bin}: ${err.message}` }));
    child.once('close', (code, signal) => {
      if (timedOut) return done({ error: `timed out after ${opts.timeout} s` });
      const last = stdout.trimEnd().split('\n').pop() ?? '';
      let json;
      try { json = JSON.parse(last); } catch { /* reported below */ }
      if (code !== 0) return done({ error: `exited with code=${code} signal=${signal}`, json });
      if (!json || typeof json !== 'object' || !json.results) {
        return done({ error: `the last line of its output is not the expected JSON object: ${JSON.stringify(last.slice(0, 300))}` });
      }
      if (json.scenario !== scenario || json.target !== target) {
        return done({ error: `it reported scenario=${json.scenario} target=${json.target}`, json });
      }
      done({ json });
    });
  });
}

// ------------------------------------------------------------------ the table

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const dig = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

function median(values) {
  const v = values.filter(isNum).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function fmtNum(x) {
  if (!isNum(x)) return '—';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
const fmtInt = (x) => (isNum(x) ? Math.round(x).toLocaleString('en-US') : '—');
const fmtBool = (x) => (x === true ? 'yes' : x === false ? 'no' : '—');

// Cell builders: each takes the results of every round of one target and gives
// { value, text }. Figures are medians over the rounds; correctness counts are summed
// over the rounds and flags must hold in every round.
const med = (get, fmt = fmtNum) => (rounds) => {
  const value = median(rounds.map(get));
  return { value, text: fmt(value) };
};
const ms = (dotted) => med((r) => dig(r, dotted));
const count = (dotted) => (rounds) => {
  const v = rounds.map((r) => dig(r, dotted));
  const value = v.length && v.every(isNum) ? v.reduce((a, b) => a + b, 0) : null;
  return { value, text: fmtInt(value) };
};
const fraction = (num, den) => (rounds) => {
  const n = rounds.map((r) => dig(r, num));
  const d = rounds.map((r) => dig(r, den));
  if (!rounds.length || ![...n, ...d].every(isNum)) return { value: null, text: '—' };
  const [a, b] = [n.reduce((x, y) => x + y, 0), d.reduce((x, y) => x + y, 0)];
  const value = b ? a / b : null;
  return { value, text: `${fmtInt(a)} / ${fmtInt(b)}${isNum(value) ? ` (${(100 * value).toFixed(value === 1 ? 0 : 2)}%)` : ''}` };
};
const flag = (dotted) => (rounds) => {
  const v = rounds.map((r) => dig(r, dotted));
  const value = v.length && v.every((x) => typeof x === 'boolean') ? v.every(Boolean) : null;
  return { value, text: fmtBool(value) };
};
const kib = (dotted) => (r) => (isNum(dig(r, dotted)) ? dig(r, dotted) / 1024 : null);
const rssGrowth = (r) => {
  const [before, after] = [dig(r, 'rss_before_kib'), dig(r, 'rss_after_kib')];
  return isNum(before) && isNum(after) ? (after - before) / 1024 : null;
};

// Targets: `ratio` compares edgechat/ceiling, `edgechat` checks edgechat's own value.
const atMost = (x) => ({ text: `≤ ${x}×`, check: (e, c, ratio) => (isNum(ratio) ? ratio <= x : null) });
const atLeast = (x) => ({ text: `≥ ${x}×`, check: (e, c, ratio) => (isNum(ratio) ? ratio >= x : null) });
const below = (x, unit) => ({ text: `edgechat < ${x} ${unit}`, check: (e) => (isNum(e) ? e < x : null) });
const equals = (x, text) => ({ text: `edgechat ${text}`, check: (e) => (e === null ? null : e === x) });

const ROWS = [
  { scenario: 'fanout', label: 'fanout p50 latency (ms)', cell: ms('latency_ms.p50'), ratio: true },
  { scenario: 'fanout', label: 'fanout p99 latency (ms)', cell: ms('latency_ms.p99'), ratio: true, target: atMost(1.3) },
  { scenario: 'fanout', label: 'fanout delivered / expected', cell: fraction('received', 'expected'), target: equals(1, 'complete') },
  { scenario: 'fanout', label: 'fanout duplicates', cell: count('duplicates'), target: equals(0, '0') },
  { scenario: 'fanout', label: 'fanout out-of-order', cell: count('out_of_order'), target: equals(0, '0') },
  { scenario: 'throughput', label: 'throughput accepted (msgs/s)', cell: med((r) => r.accepted_per_sec, fmtInt), ratio: true, target: { disk: atLeast(0.5), tmpfs: atLeast(0.7) } },
  { scenario: 'throughput', label: 'throughput deliveries (msgs/s)', cell: med((r) => r.deliveries_per_sec, fmtInt), ratio: true },
  { scenario: 'throughput', label: 'throughput p99 latency (ms)', cell: ms('latency_ms.p99'), ratio: true },
  { scenario: 'throughput', label: 'throughput accepted / sent', cell: fraction('accepted', 'sent') },
  { scenario: 'throughput', label: 'throughput errors', cell: count('errors') },
  { scenario: 'throughput', label: 'throughput ordered', cell: flag('ordered'), target: equals(true, 'yes') },
  { scenario: 'throughput', label: 'throughput gapless', cell: flag('gapless'), target: equals(true, 'yes') },
  { scenario: 'throughput', label: 'throughput accepted = durable in D1', cell: flag('durable') },
  { scenario: 'join', label: 'join p50, 100 messages of history (ms)', cell: ms('latency_ms.p50'), ratio: true, target: atMost(1.5) },
  { scenario: 'join', label: 'join p99 (ms)', cell: ms('latency_ms.p99'), ratio: true },
  { scenario: 'join', label: 'join with the token checked in D1 (no pass yet), p50 (ms)', cell: ms('token_checked_ms.p50'), ratio: true },
  { scenario: 'join', label: 'first visit (claims the name), p50 (ms)', cell: ms('first_visit_ms.p50'), ratio: true },
  { scenario: 'rooms', label: 'rooms connect-all (ms)', cell: ms('connect_all_ms'), ratio: true, target: atMost(1.2) },
  { scenario: 'rooms', label: 'rooms runtime RSS growth (MiB)', cell: med(rssGrowth), ratio: true, target: atMost(1.3) },
  { scenario: 'rooms', label: 'rooms runtime RSS after (MiB)', cell: med(kib('rss_after_kib')), ratio: true },
  { scenario: 'rooms', label: 'rooms delivered / expected', cell: fraction('received', 'expected') },
  { scenario: 'capacity', label: 'capacity: connect clients 0 -> 1,000 (ms)', cell: ms('first_connect_ms'), ratio: true },
  { scenario: 'capacity', label: 'capacity: connect clients 1,000 -> 2,000 (ms)', cell: ms('second_connect_ms'), ratio: true, target: atMost(1.2) },
  { scenario: 'capacity', label: 'capacity: frames each of the first 1,000 got while the second joined', cell: ms('frames_per_first_client_during_second') },
  { scenario: 'capacity', label: 'capacity: one message, last of 2,000 deliveries (ms)', cell: ms('last_delivery_ms'), ratio: true, target: atMost(1.5) },
  { scenario: 'capacity', label: 'capacity: delivered / expected', cell: fraction('received', 'expected'), target: equals(1, 'complete') },
  { scenario: 'capacity', label: 'capacity: runtime RSS growth (MiB)', cell: med(rssGrowth), ratio: true, target: atMost(1.3) },
  { scenario: 'idle', label: 'idle wake p50 (ms)', cell: ms('wake_ms.p50'), ratio: true, target: below(20, 'ms') },
  { scenario: 'idle', label: 'idle wake p99 (ms)', cell: ms('wake_ms.p99'), ratio: true },
  { scenario: 'idle', label: 'idle CPU during the idle period (ms)', cell: med((r) => r.idle_cpu_ms), ratio: true, target: equals(0, '0 ms') },
  { scenario: 'idle', label: 'idle wake-ups missing', cell: count('missing') },
  { scenario: 'abuse', label: 'abuse: members\' delivery p50, quiet (ms)', cell: ms('quiet_latency_ms.p50') },
  { scenario: 'abuse', label: 'abuse: members\' delivery p50, under attack (ms)', cell: ms('attack_latency_ms.p50') },
  { scenario: 'abuse', label: 'abuse: members\' delivery p99, quiet (ms)', cell: ms('quiet_latency_ms.p99') },
  { scenario: 'abuse', label: 'abuse: members\' delivery p99, under attack (ms)', cell: ms('attack_latency_ms.p99') },
  { scenario: 'abuse', label: 'abuse: deliveries lost', cell: count('lost'), target: equals(0, '0') },
  { scenario: 'abuse', label: 'abuse: duplicates', cell: count('duplicates'), target: equals(0, '0') },
  { scenario: 'abuse', label: 'abuse: members\' error frames', cell: count('member_errors'), target: equals(0, '0') },
  { scenario: 'abuse', label: 'abuse: other frames per member per s, quiet', cell: ms('member_other_frames_per_sec.quiet') },
  { scenario: 'abuse', label: 'abuse: other frames per member per s, under attack', cell: ms('member_other_frames_per_sec.attack') },
  { scenario: 'abuse', label: 'abuse: attack frames sent', cell: count('attack_frames_sent') },
  { scenario: 'abuse', label: 'abuse: attack frames answered with an error', cell: count('attack_frames_answered') },
  { scenario: 'abuse', label: 'abuse: attack sockets closed 1008', cell: count('attack_policy_closes') },
  { scenario: 'abuse', label: 'abuse: attack connects refused', cell: count('attack_connects_refused') },
  ...dataScaleRows(),
];

/**
 * The data-scale rows: edgechat only (the ceiling stores nothing). Each query's cell is
 * its p50 on 1/100 of the data and on all of it, and the ratio full / small, the figure
 * the target is about.
 */
function dataScaleRows() {
  const scenario = 'data-scale';
  const ratioCell = (key) => (rounds) => {
    const value = median(rounds.map((r) => dig(r, `ratio.${key}`)));
    const [a, b] = [median(rounds.map((r) => dig(r, `small.latency_ms.${key}.p50`))), median(rounds.map((r) => dig(r, `full.latency_ms.${key}.p50`)))];
    return { value, text: isNum(value) ? `${fmtNum(a)} → ${fmtNum(b)} ms (${value.toFixed(2)}×)` : '—' };
  };
  const ratioAtMost = (x) => ({ text: `full/small ≤ ${x}×`, check: (e) => (isNum(e) ? e <= x : null) });
  return [
    ...DATA_SCALE_QUERIES.map((q) => ({ scenario, label: `data-scale: ${q.label}, p50 1/100 → full (edgechat only)`, cell: ratioCell(q.key), target: ratioAtMost(1.5) })),
    ...DATA_SCALE_QUERIES.map((q) => ({ scenario, label: `data-scale: ${q.label}, p99 full (ms)`, cell: ms(`full.latency_ms.${q.key}.p99`) })),
    { scenario, label: 'data-scale: seeding 1/100 (s)', cell: ms('small.seed_s') },
    { scenario, label: 'data-scale: seeding full (s)', cell: ms('full.seed_s') },
    { scenario, label: 'data-scale: D1 rows written per message (D1 meta)', cell: ms('rows_written.message') },
    { scenario, label: 'data-scale: D1 rows written per reply (with its parent\'s count)', cell: ms('rows_written.reply') },
    { scenario, label: 'data-scale: D1 rows written, 10 messages in one batch', cell: ms('rows_written.ten_in_one_batch') },
    { scenario, label: 'data-scale: failed queries', cell: (rounds) => { const value = rounds.reduce((n, r) => n + (r.errors?.length ?? 0), 0); return { value, text: fmtInt(value) }; }, target: equals(0, '0') },
  ];
}

/** Runs a scenario of IN_NODE; resolves like runBench. */
async function runInNode(scenario, opts, stateRoot) {
  const flags = Object.fromEntries(flagPairs(scenarioFlags(scenario, opts).join(' ')).map(([f, v]) => [f.replace(/^--/, ''), v]));
  const started = Date.now();
  const argv = ['node', 'bench/data-scale.mjs', ...scenarioFlags(scenario, opts)];
  note(`$ ${argv.join(' ')} (in this process)`);
  try {
    const json = await dataScale({
      ...flags,
      stateRoot,
      vars: { ...RAISED_LIMITS, ...RAISED_QUOTAS },
      ratelimits: RAISED_RATELIMITS,
      note,
    });
    return { argv, ms: Date.now() - started, json };
  } catch (err) {
    return { argv, ms: Date.now() - started, error: err.stack || String(err) };
  }
}

/** A row's target in one state: rows may set one per state, `{ disk: ..., tmpfs: ... }`. */
function targetIn(row, state) {
  return row.target && !row.target.check ? row.target[state] : row.target;
}

/** A row's target as the table says it. */
function targetText(row) {
  if (!row.target) return null;
  if (row.target.check) return row.target.text;
  return Object.entries(row.target).map(([state, t]) => `${t.text} ${state}`).join(', ');
}

/** One row's cells in one state: each target's figure, the ratio, whether the target is met. */
function stateCells(row, runs, state) {
  const cells = {};
  for (const target of TARGETS) {
    const mine = runs.filter((r) => r.scenario === row.scenario && r.target === target && r.state === state);
    const ok = mine.filter((r) => r.json && !r.error);
    const failed = mine.some((r) => r.error);
    const cell = ok.length ? row.cell(ok.map((r) => r.json.results)) : { value: null, text: '—' };
    if (failed) cell.text += ok.length ? ' (a round failed)' : ' (failed)';
    cells[target] = cell;
  }
  const [e, c] = [cells.edgechat.value, cells.ceiling.value];
  // A ratio over a ceiling figure of (about) zero says nothing.
  const ratio = row.ratio && isNum(e) && isNum(c) && c > 0 ? e / c : null;
  const target = targetIn(row, state);
  const met = target ? target.check(e, c, ratio) : undefined;
  return {
    edgechat: cells.edgechat,
    ceiling: cells.ceiling,
    ratio,
    met: met ?? null,
    display: {
      ratio: isNum(ratio) ? `${ratio.toFixed(2)}×` : '—',
      met: met === undefined ? '' : met === null ? 'n/a' : met ? 'yes' : '**NO**',
    },
  };
}

function buildRows(runs, opts) {
  return ROWS.filter((row) => opts.scenarios.includes(row.scenario)).map((row) => {
    const states = Object.fromEntries(opts.states.map((state) => [state, stateCells(row, runs, state)]));
    const verdicts = Object.values(states).map((s) => s.met);
    // Met only where every state met it; unknown where some state could not tell.
    const met = !row.target ? null : verdicts.includes(false) ? false : verdicts.every((m) => m === true) ? true : null;
    return { metric: row.label, scenario: row.scenario, target: targetText(row), met, states };
  });
}

// ------------------------------------------------------------------ the report

function readText(file) {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

function tryRun(cmd, args) {
  try { return execFileSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim(); } catch { return null; }
}

function packageVersion(name) {
  try { return JSON.parse(readFileSync(path.join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; }
}

function machineInfo() {
  const cpu = readText('/proc/cpuinfo').match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const memKib = Number(readText('/proc/meminfo').match(/^MemTotal:\s*(\d+)/m)?.[1]);
  const memory = isNum(memKib) && memKib > 0 ? `${(memKib / 1024 / 1024).toFixed(1)} GiB` : `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return {
    cores: Number(tryRun('nproc', [])) || os.availableParallelism?.() || os.cpus().length,
    cpu,
    memory,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function versionInfo(bin) {
  const commit = tryRun('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['status', '--porcelain', '--untracked-files=no']);
  return {
    node: process.version,
    wrangler: packageVersion('wrangler'),
    workerd: packageVersion('workerd') ?? tryRun(path.join(REPO_ROOT, 'node_modules', '.bin', 'workerd'), ['--version']),
    load_generator: tryRun(bin, ['--version']),
    commit: commit ? `${commit}${dirty ? ' (with uncommitted changes)' : ''}` : null,
  };
}

function commandLine() {
  const args = process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;
  return `node ${path.relative(REPO_ROOT, process.argv[1])}${args.length ? ` ${args.join(' ')}` : ''}`;
}

/** align: one of 'l', 'r', 'c' per column. */
function markdownTable(header, align, rows) {
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  const rule = { l: ':---', r: '---:', c: ':---:' };
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${align.map((a) => rule[a]).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function writable(dir) {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function renderReport(report) {
  const { machine: m, versions: v } = report;
  const lines = [
    '# edgechat benchmark results',
    '',
    '<!-- Written by scripts/bench.mjs (npm run bench); every run overwrites this file. -->',
    '',
  ];
  if (report.quick) lines.push('> **Quick smoke run** (`--quick`): small sizes and short durations; not figures to quote.', '');
  lines.push(
    `- Date: ${report.date} (UTC)`,
    `- Machine: ${m.cores} cores, ${m.cpu}, ${m.memory} RAM, ${m.kernel}`,
    `- Versions: node ${v.node}, wrangler ${v.wrangler ?? '?'}, workerd ${v.workerd ?? '?'}` +
      `${v.load_generator ? `, load generator ${v.load_generator}` : ''}${v.commit ? `, edgechat ${v.commit}` : ''}`,
    `- Command: \`${report.command}\``,
    `- Rounds: ${report.rounds}${report.rounds > 1 ? ' (edgechat and the ceiling interleaved; figures are medians over the rounds, ' +
      'correctness counts are summed over them, flags must hold in every round)' : ''}`,
    `- edgechat ran with \`RATE_LIMIT_BURST\` and \`RATE_LIMIT_PER_SEC\` raised to 1,000,000 (the defaults, 20 and 5/s, ` +
      'would throttle the load generator), the hourly quotas and the per-address limits per minute raised (every bench ' +
      'client comes from one address), and the test config\'s generous socket caps; the ceiling has no limits.' +
      (report.scenarios.includes('abuse') ? ' The abuse scenario ran on a third server with every `[vars]` limit and the ' +
        'per-address connect limit as `wrangler.toml` ships them (members and attackers share this machine\'s address; ' +
        'the members connect first), only the claim limit raised; only edgechat: the ceiling has no defences to measure.' : ''),
    `- State: ${report.opts.states.map((st) => (st === 'tmpfs' ? `tmpfs (${report.opts.stateRoots[st]}): storage commits are not disk flushes` : `disk (${report.opts.stateRoots[st]}): every storage commit is a disk flush`)).join('; ')}. Each state is a run of its own with its own servers.`,
    '- Both ran under `wrangler dev` on this machine, side by side, each with a fresh state directory; ' +
      'RSS and CPU are those of the `workerd` process running each one\'s Worker (not wrangler\'s proxy in front of it).',
    '',
    markdownTable(
      ['metric', ...report.opts.states.flatMap((st) => [`${st}: edgechat`, `${st}: ceiling`, `${st}: ratio`]), 'target', 'met?'],
      ['l', ...report.opts.states.flatMap(() => ['r', 'r', 'r']), 'l', 'c'],
      report.table.map((r) => [
        r.metric,
        ...report.opts.states.flatMap((st) => [r.states[st].edgechat.text, r.states[st].ceiling.text, r.states[st].display.ratio]),
        r.target ?? '',
        r.target ? report.opts.states.map((st) => r.states[st].display.met).join(' / ') : '',
      ]),
    ),
    '',
  );
  const verdicts = report.table.filter((r) => r.target);
  const met = verdicts.filter((r) => r.met === true).length;
  const missed = verdicts.filter((r) => r.met === false).map((r) => r.metric);
  lines.push(`Targets met: ${met} of ${verdicts.length}${missed.length ? `; missed: ${missed.join(', ')}` : ''}.`, '');

  lines.push('## Parameters', '');
  for (const scenario of report.scenarios) {
    const run = report.runs.find((r) => r.scenario === scenario && r.json?.params);
    const flags = scenarioFlags(scenario, report.opts).join(' ');
    const params = run ? ` — as the load generator reported them: \`${JSON.stringify(run.json.params)}\`` : '';
    lines.push(`- ${scenario}: \`${flags}\`${params}`);
  }
  lines.push('');

  const failures = report.runs.filter((r) => r.error);
  if (failures.length) {
    lines.push('## Failures', '');
    for (const f of failures) lines.push(`- ${f.scenario} on ${f.target}, state ${f.state}, round ${f.round}: ${f.error} (\`${f.argv.join(' ')}\`)`);
    if (report.logs.length) lines.push('', `Server output: ${report.logs.map((l) => `\`${l}\``).join(', ')}`);
    lines.push('');
  }
  lines.push('Raw results of every run: [results.json](results.json). How to read and reproduce: [README.md](README.md).', '');
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const s of opts.scenarios) {
    try { scenarioFlags(s, opts); } catch (err) { usage(`--${s}: ${err.message}`); }
  }
  const bin = benchBinary();
  if (opts.build) {
    await runInherited('bash', ['scripts/setup.sh']);
    await runInherited('bash', ['scripts/build.sh']);
    await runInherited('cargo', ['build', '--release', '-p', 'edgechat-cli']);
  }
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build it (cargo build --release -p edgechat-cli) or drop --no-build`);

  const started = new Date();
  const runs = [];
  const logs = [];
  const processes = {};
  const stateDirs = [];
  process.on('exit', () => {
    for (const dir of stateDirs) {
      try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
    }
  });
  opts.stateRoots = {};
  let failed = false;
  try {
    for (const state of opts.states) {
      const root = stateRoot(state);
      opts.stateRoots[state] = root;
      note(`state ${state}: the servers keep it under ${root}`);
      const result = await runState({ state, root, opts, bin, runs, logs, stateDirs });
      processes[state] = result.processes;
      failed ||= result.failed;
    }
  } finally {
    if (runs.length) writeResults({ opts, bin, started, runs, logs, processes });
  }
  return failed ? 1 : 0;
}

/** The directory the servers of `state` keep their state under. */
function stateRoot(state) {
  if (state === 'disk') {
    const tmp = os.tmpdir();
    // tmpfs under /tmp would make "disk" a lie: then use the repository's filesystem.
    return readText('/proc/mounts').split('\n').some((l) => l.split(' ')[1] === tmp && l.split(' ')[2] === 'tmpfs')
      ? REPO_ROOT : tmp;
  }
  if (!writable('/dev/shm')) throw new Error('--state tmpfs needs a writable /dev/shm');
  return '/dev/shm';
}

/**
 * Every scenario of one state: starts its servers (fresh state directories under `root`),
 * runs each scenario's rounds, edgechat and the ceiling interleaved, and stops them.
 */
async function runState({ state, root, opts, bin, runs, logs, stateDirs }) {
  const servers = {};
  const processes = {};
  const logsDir = path.join(opts.out, 'logs');
  const saveLogs = () => {
    mkdirSync(logsDir, { recursive: true });
    for (const [target, server] of Object.entries(servers)) {
      const file = path.join(logsDir, `${target}-${state}.log`);
      writeFileSync(file, server.output);
      if (!logs.includes(file)) logs.push(file);
    }
  };
  let failed = false;
  try {
    for (const target of TARGETS) {
      note(`starting ${target === 'edgechat' ? 'edgechat (raised rate limits)' : 'the ceiling'} under wrangler dev`);
      if (target === 'edgechat') {
        note(`raised for the bench: ${Object.entries({ ...RAISED_LIMITS, ...RAISED_QUOTAS }).map(([k, v]) => `${k}=${v}`).join(', ')}; ` +
          `per-address limits per minute: ${Object.entries(RAISED_RATELIMITS).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      }
      const stateDir = mkdtempSync(path.join(root, `edgechat-bench-${target}-`));
      stateDirs.push(stateDir);
      servers[target] = target === 'edgechat'
        ? await startServer({ vars: { ...RAISED_LIMITS, ...RAISED_QUOTAS }, ratelimits: RAISED_RATELIMITS, stateDir })
        : await startServer({ config: CEILING_CONFIG, migrations: false, stateDir });
      const server = servers[target];
      processes[target] = { url: server.url, wrangler_pid: server.child.pid, workerd_pids: workerdDescendants(server.child.pid), runtime_pid: findWorkerd(server) };
      note(`${target}: ${server.url} (workerd ${processes[target].runtime_pid ?? '?'} runs the Worker; all workerd: ${processes[target].workerd_pids.join(', ')})`);
    }

    // The abuse scenario's own server starts only when that scenario comes (it is the
    // last), so that an idle third server costs the other scenarios nothing.
    const startDefaults = async () => {
      note('starting edgechat with its shipped limits, for the abuse scenario');
      const stateDir = mkdtempSync(path.join(root, 'edgechat-bench-defaults-'));
      stateDirs.push(stateDir);
      const shipped = shippedVars();
      // The attackers and the members all come from this machine's one address. The
      // connect limit stays as shipped (the members connect before the attack, so it is
      // the attackers' reconnects it meets); the claim limit is raised, as the scenario
      // claims more names (members and attackers) than one address may in a minute.
      const ratelimits = { ...shippedRatelimits(), CLAIM_LIMITER: RAISED_RATELIMITS.CLAIM_LIMITER };
      note(`abuse server: every [vars] limit as wrangler.toml ships it (${Object.entries(shipped).map(([k, v]) => `${k}=${v}`).join(', ')}); ` +
        `per address and minute: ${Object.entries(ratelimits).map(([k, v]) => `${k}=${v}`).join(', ')}`);
      servers.defaults = await startServer({ vars: shipped, ratelimits, stateDir });
      processes.defaults = { url: servers.defaults.url, wrangler_pid: servers.defaults.child.pid, runtime_pid: findWorkerd(servers.defaults), ratelimits };
    };

    for (const scenario of opts.scenarios) {
      const needsDefaults = EDGECHAT_ONLY.has(scenario) && !IN_NODE.has(scenario);
      for (let round = 1; round <= opts.rounds; round++) {
        // Each round of the abuse scenario gets a fresh server: the shipped per-address
        // connect limit the last round's attackers used up would refuse this round's members.
        if (needsDefaults && servers.defaults && round > 1) {
          await servers.defaults.stop().catch(() => {});
          saveLogs();
          delete servers.defaults;
        }
        if (needsDefaults && !servers.defaults) await startDefaults();
        for (const target of EDGECHAT_ONLY.has(scenario) ? ['edgechat'] : TARGETS) {
          note(`${scenario} on ${target}, state ${state}${opts.rounds > 1 ? `, round ${round}/${opts.rounds}` : ''}`);
          const server = EDGECHAT_ONLY.has(scenario) ? servers.defaults : servers[target];
          let run;
          if (IN_NODE.has(scenario)) {
            run = await runInNode(scenario, opts, root);
          } else if (!server.child || server.child.exited) {
            run = { argv: [], ms: 0, error: `the ${target} server is not running (it exited: ${JSON.stringify(server.child?.exited ?? null)})` };
          } else {
            run = await runBench(bin, scenario, target, server, opts);
          }
          if (run.error) {
            failed = true;
            note(`FAILED: ${run.error}`);
          }
          runs.push({ scenario, target, state, round, ...run });
          await sleep(500); // let the previous run's sockets close before the next one
        }
      }
    }
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    if (Object.keys(servers).length) {
      saveLogs();
      if (failed) note(`server output: ${logs.map(shownPath).join(', ')}`);
    }
    for (const server of Object.values(servers)) await server.stop().catch(() => {});
  }
  return { processes, failed };
}

function writeResults({ opts, bin, started, runs, logs, processes }) {
  const report = {
    date: started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
    machine: machineInfo(),
    versions: versionInfo(bin),
    command: commandLine(),
    rounds: opts.rounds,
    quick: opts.quick,
    scenarios: opts.scenarios,
    rate_limits: RAISED_LIMITS,
    raised_quotas: RAISED_QUOTAS,
    raised_ratelimits: RAISED_RATELIMITS,
    servers: processes,
    opts,
    runs,
    logs: logs.map(shownPath),
  };
  report.table = buildRows(runs, opts);
  mkdirSync(opts.out, { recursive: true });
  const markdown = renderReport(report);
  writeFileSync(path.join(opts.out, 'RESULTS.md'), markdown);
  const { opts: _opts, ...raw } = report;
  raw.state_roots = opts.stateRoots;
  raw.scenario_flags = Object.fromEntries(opts.scenarios.map((s) => [s, scenarioFlags(s, opts)]));
  writeFileSync(path.join(opts.out, 'results.json'), `${JSON.stringify(raw, null, 2)}\n`);
  process.stdout.write(`\n${markdown}\n`);
  note(`wrote ${shownPath(path.join(opts.out, 'RESULTS.md'))} and results.json`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench: ${err.stack || err.message}`);
    process.exit(1);
  },
);
