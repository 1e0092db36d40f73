// Starts and stops `wrangler dev` against the prebuilt Worker (build/index.js) for the
// integration and browser tests. Each server gets its own persisted state directory
// (local D1 + Durable Object storage), its own wrangler config home, and runs in its own
// process group so that stopping it also stops workerd.
import { spawn, execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, access, cp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after, beforeEach, afterEach } from 'node:test';
import { closeOpenClients } from './client.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_CONFIG = path.join(REPO_ROOT, 'tests', 'wrangler.test.toml');
const WRANGLER = path.join(REPO_ROOT, 'node_modules', '.bin', 'wrangler');
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const VERBOSE = process.env.EDGECHAT_TEST_VERBOSE === '1';

/** Rate limits generous enough that only the rate-limit tests ever meet them. */
export const GENEROUS_LIMITS = Object.freeze({ RATE_LIMIT_BURST: '1000', RATE_LIMIT_PER_SEC: '1000' });

// Every process group started here, so that none survives this test process, and the
// temp directories to remove if the process ends before a server's stop().
const liveGroups = new Set();
const tempDirs = new Set();
let exitHooksInstalled = false;

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const pid of liveGroups) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    liveGroups.clear();
    if (!process.env.EDGECHAT_KEEP_STATE) {
      for (const dir of tempDirs) {
        try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ }
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -\/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
export const stripAnsi = (s) => s.replace(ANSI, '');

function wranglerEnv(configHome) {
  return {
    ...process.env,
    CI: 'true',
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    XDG_CONFIG_HOME: configHome,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
}

function run(cmd, args, { env, timeout = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO_ROOT, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n--- stdout ---\n${stripAnsi(stdout)}\n--- stderr ---\n${stripAnsi(stderr)}`;
        reject(err);
      } else {
        resolve({ stdout: stripAnsi(stdout), stderr: stripAnsi(stderr) });
      }
    });
  });
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What `wrangler dev` (or workerd) says when the port it was given is taken. */
const PORT_BUSY = /EADDRINUSE|address already in use|port \d+ is (already )?in use/i;

/**
 * With EDGECHAT_TEST_SNAPSHOT=1, servers run from a copy of build/ and public/ taken once
 * per test process, through a copy of tests/wrangler.test.toml pointing at it, so that a
 * rebuild while the tests run (which makes `wrangler dev` reload and drop every socket)
 * cannot disturb them. Off by default: the tests then use tests/wrangler.test.toml as is.
 */
let snapshotPromise = null;
function snapshotConfig() {
  snapshotPromise ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'edgechat-snapshot-'));
    await cp(path.join(REPO_ROOT, 'build'), path.join(dir, 'build'), { recursive: true });
    await cp(path.join(REPO_ROOT, 'public'), path.join(dir, 'public'), { recursive: true });
    let toml = await readFile(TEST_CONFIG, 'utf8');
    toml = toml.replace(/"\.\.\/(build|public)(\/[^"]*)?"/g, (_, top, rest = '') => JSON.stringify(path.join(dir, top) + rest));
    toml = toml.replace(/"\.\.\/([^"]*)"/g, (_, rel) => JSON.stringify(path.join(REPO_ROOT, rel)));
    const config = path.join(dir, 'wrangler.test.toml');
    await writeFile(config, toml);
    tempDirs.add(dir);
    process.on('exit', () => { try { rmSync(dir, { recursive: true, force: true }); } catch { /* ignore */ } });
    return config;
  })();
  return snapshotPromise;
}

/**
 * A copy of `config` whose `[[ratelimits]]` bindings named in `limits` (binding name ->
 * requests per period) have those limits instead; relative paths in it are made absolute,
 * so the copy works from its own directory. The per-minute limits are binding settings,
 * not `[vars]`, so this is how a test lowers (or the bench raises) them.
 */
async function configWithRatelimits(config, limits) {
  let toml = await readFile(config, 'utf8');
  const base = path.dirname(config);
  toml = toml.replace(/^(\s*(?:main|directory|migrations_dir)\s*=\s*)"([^"]*)"/gm,
    (_, key, rel) => `${key}${JSON.stringify(path.resolve(base, rel))}`);
  for (const [name, limit] of Object.entries(limits)) {
    if (!Number.isInteger(Number(limit)) || Number(limit) < 1) throw new Error(`ratelimits.${name}: ${limit} is not a positive integer`);
    const block = new RegExp(`(name\\s*=\\s*"${name}"[^\\[]*?limit\\s*=\\s*)\\d+`);
    if (!block.test(toml)) throw new Error(`${config} has no [[ratelimits]] binding ${name}`);
    toml = toml.replace(block, `$1${Number(limit)}`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'edgechat-ratelimits-'));
  tempDirs.add(dir);
  const copy = path.join(dir, 'wrangler.test.toml');
  await writeFile(copy, toml);
  return { copy, dir };
}

/**
 * Starts `wrangler dev` on a free port.
 * `migrations: false` skips applying the D1 migrations, for a config without D1 (such as
 * the benchmark's ceiling, bench/ceiling/wrangler.toml).
 * `ratelimits: { CONNECT_LIMITER: 5 }` runs a copy of the config with those per-minute
 * limits (the `[[ratelimits]]` bindings' `limit`).
 * @param {{vars?: Record<string,string|number>, ratelimits?: Record<string,number>, stateDir?: string, config?: string, migrations?: boolean}} [opts]
 */
export async function startServer({ vars = {}, ratelimits, stateDir, config = TEST_CONFIG, migrations = true } = {}) {
  installExitHooks();
  if (config === TEST_CONFIG) {
    await access(path.resolve(REPO_ROOT, 'build', 'index.js')).catch(() => {
      throw new Error('build/index.js is missing: build the Worker first (npm run build)');
    });
    if (process.env.EDGECHAT_TEST_SNAPSHOT === '1') config = await snapshotConfig();
  }
  let limitsDir = null;
  if (ratelimits && Object.keys(ratelimits).length > 0) {
    ({ copy: config, dir: limitsDir } = await configWithRatelimits(config, ratelimits));
  }
  const ownsState = !stateDir;
  if (!stateDir) stateDir = await mkdtemp(path.join(tmpdir(), 'edgechat-state-'));
  const configHome = await mkdtemp(path.join(tmpdir(), 'edgechat-xdg-'));
  tempDirs.add(configHome);
  if (ownsState) tempDirs.add(stateDir);
  const env = wranglerEnv(configHome);

  const server = {
    url: '',
    wsUrl: '',
    port: 0,
    stateDir,
    // DM ids are derived with a server secret, passes signed with another; each test
    // server has its own.
    vars: {
      DM_SECRET: randomBytes(32).toString('hex'),
      CLAIM_PASS_KEY: randomBytes(32).toString('hex'),
      ...vars,
    },
    /** The config it runs (a copy when `ratelimits` was given). */
    config,
    output: '',
    child: null,
    /** Output since the given offset (see `output.length`). */
    outputSince(offset = 0) {
      return server.output.slice(offset);
    },
    stop,
    restart,
    d1,
  };

  const log = (chunk) => {
    const text = stripAnsi(chunk.toString());
    server.output += text;
    if (VERBOSE) process.stderr.write(text.replace(/^/gm, '[wrangler] '));
  };

  async function applyMigrations() {
    const { stdout, stderr } = await run(
      WRANGLER,
      ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir, '-c', config],
      { env },
    );
    log(`$ wrangler d1 migrations apply\n${stdout}${stderr}`);
  }

  /** Starts `wrangler dev` on `port` (0: a free one). */
  async function launch({ port: wantedPort = 0 } = {}) {
    const args = [
      'dev', '-c', config,
      '--ip', '127.0.0.1', '--port', String(wantedPort),
      // A fixed inspector port for profiling (bench/profile.mjs); 0 picks a free one.
      '--inspector-port', process.env.EDGECHAT_INSPECTOR_PORT ?? '0',
      '--persist-to', stateDir,
      '--show-interactive-dev-session=false',
    ];
    for (const [k, v] of Object.entries(server.vars)) args.push('--var', `${k}:${v}`);
    log(`$ wrangler ${args.join(' ')}\n`);
    const child = spawn(WRANGLER, args, {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.child = child;
    liveGroups.add(child.pid);
    child.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        child.exited = { code, signal };
        log(`[wrangler exited: code=${code} signal=${signal}]\n`);
        resolve(child.exited);
      });
    });

    const port = await new Promise((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`wrangler dev was not ready after ${READY_TIMEOUT_MS / 1000} s\n--- output ---\n${server.output}`));
      }, READY_TIMEOUT_MS);
      const onData = (chunk) => {
        seen += stripAnsi(chunk.toString());
        const m = seen.match(/Ready on https?:\/\/[^\s/]+:(\d+)/);
        if (m) {
          cleanup();
          resolve(Number(m[1]));
        }
      };
      const onExit = (code, signal) => {
        cleanup();
        // Let the remaining output arrive before reporting it.
        setTimeout(() => reject(new Error(
          `wrangler dev exited before it was ready (code=${code} signal=${signal})\n--- output ---\n${server.output}`,
        )), 50);
      };
      const cleanup = () => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.off('exit', onExit);
      };
      child.stdout.on('data', log);
      child.stderr.on('data', log);
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', onExit);
    }).catch(async (err) => {
      await killGroup(child);
      throw err;
    });
    if (!port) {
      await killGroup(child);
      throw new Error(`wrangler dev reported port 0\n--- output ---\n${server.output}`);
    }
    if (wantedPort && port !== wantedPort) {
      await killGroup(child);
      const err = new Error(`wrangler dev was asked for port ${wantedPort} but is ready on ${port}`);
      err.portBusy = true;
      throw err;
    }
    server.port = port;
    server.url = `http://127.0.0.1:${port}`;
    server.wsUrl = `ws://127.0.0.1:${port}`;
    // "Ready" is printed when the socket listens; make sure the Worker answers too.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const res = await fetch(`${server.url}/api/rooms`);
        await res.arrayBuffer();
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          await killGroup(child);
          throw new Error(`wrangler dev said ready but ${server.url} does not answer: ${err.message}\n--- output ---\n${server.output}`);
        }
        await sleep(100);
      }
    }
  }

  async function killGroup(child, signal = 'SIGTERM') {
    if (!child) return;
    const pid = child.pid;
    if (groupAlive(pid)) {
      try { process.kill(-pid, signal); } catch { /* gone */ }
    }
    const deadline = Date.now() + STOP_GRACE_MS;
    // Wait for wrangler itself and for every other member of its group (workerd).
    while (Date.now() < deadline && (!child.exited || groupAlive(pid))) await sleep(50);
    if (groupAlive(pid)) {
      log(`[process group ${pid} still alive after ${STOP_GRACE_MS} ms: SIGKILL]\n`);
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      const hardDeadline = Date.now() + STOP_GRACE_MS;
      while (Date.now() < hardDeadline && groupAlive(pid)) await sleep(50);
    }
    if (!child.exited) await Promise.race([child.exitPromise, sleep(1000)]);
    liveGroups.delete(pid);
    if (server.child === child) server.child = null;
  }

  /** Stops the server. Unless keepState, removes the temp directories it created. */
  async function stop({ keepState = false } = {}) {
    await killGroup(server.child);
    if (!keepState) {
      await rm(configHome, { recursive: true, force: true }).catch(() => {});
      tempDirs.delete(configHome);
      if (limitsDir) {
        await rm(limitsDir, { recursive: true, force: true }).catch(() => {});
        tempDirs.delete(limitsDir);
      }
      if (ownsState && !process.env.EDGECHAT_KEEP_STATE) {
        await rm(stateDir, { recursive: true, force: true }).catch(() => {});
        tempDirs.delete(stateDir);
      }
    }
  }

  /**
   * Stops and starts again on the same state directory; url/wsUrl/port may change,
   * unless `samePort` is set, which starts again on the port it had (so that clients such
   * as a browser page, which reconnect to the address they know, find it again). The
   * port may be busy for a moment after the stop: the start is then retried.
   * `signal: 'SIGKILL'` simulates a crash instead of a clean stop. `whileDown`, if given,
   * is awaited after the stop and before the start (the server is down meanwhile).
   */
  async function restart({ signal = 'SIGTERM', samePort = false, whileDown } = {}) {
    const port = server.port;
    await killGroup(server.child, signal);
    if (whileDown) await whileDown();
    if (!samePort) {
      await launch();
      return server;
    }
    const attempts = 6;
    for (let attempt = 1; ; attempt++) {
      const offset = server.output.length;
      try {
        await launch({ port });
        return server;
      } catch (err) {
        const busy = err.portBusy || PORT_BUSY.test(server.outputSince(offset));
        if (!busy || attempt >= attempts) throw err;
        log(`[port ${port} is busy (attempt ${attempt}/${attempts}): retrying]\n`);
        await sleep(500 * attempt);
      }
    }
  }

  /** Runs SQL against the local D1 database through `wrangler d1 execute`; returns the rows. */
  async function d1(sql) {
    // The running server may hold the database's write lock for a moment (a room's batch
    // write): a second process then gets SQLITE_BUSY, and simply tries again.
    let stdout;
    for (let attempt = 1; ; attempt++) {
      try {
        ({ stdout } = await run(
          WRANGLER,
          ['d1', 'execute', 'DB', '--local', '--persist-to', stateDir, '-c', config, '--command', sql, '--json'],
          { env },
        ));
        break;
      } catch (err) {
        if (attempt >= 4 || !/SQLITE_BUSY/.test(String(err.message))) throw err;
        await sleep(300 * attempt);
      }
    }
    const start = stdout.indexOf('[');
    if (start < 0) throw new Error(`unexpected output of wrangler d1 execute:\n${stdout}`);
    const parsed = JSON.parse(stdout.slice(start));
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!first || first.success === false) throw new Error(`d1 execute failed: ${stdout}`);
    return first.results;
  }

  try {
    if (migrations) await applyMigrations();
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return server;
}

/**
 * Registers before/after hooks for one server shared by a test file and returns a
 * holder whose `server` property is set once it runs. When a test fails (or with
 * EDGECHAT_TEST_VERBOSE=1), the server output produced during that test is printed.
 */
export function useServer(opts = {}) {
  const holder = { server: null };
  let offset = 0;
  before(async () => {
    holder.server = await startServer(opts);
  }, { timeout: 120_000 });
  after(async () => {
    if (holder.server) await holder.server.stop();
  }, { timeout: 30_000 });
  beforeEach(() => {
    offset = holder.server ? holder.server.output.length : 0;
  });
  afterEach(async (t) => {
    await closeOpenClients();
    if (!holder.server) return;
    if (!t.passed && !VERBOSE) {
      const out = holder.server.outputSince(offset);
      if (/Reloading local server/.test(out)) {
        process.stderr.write('\nNOTE: wrangler reloaded the Worker during this test (build/ changed under it), ' +
          'which drops every socket: rerun once nobody is rebuilding.\n');
      }
      const lines = out.split('\n');
      const tail = lines.slice(-200).join('\n');
      process.stderr.write(
        `\n----- server output during failed test "${t.name}" (${lines.length > 200 ? 'last 200 lines' : 'all'}) -----\n` +
        `${tail}\n----- end of server output -----\n`,
      );
    }
  });
  return holder;
}

// ---------------------------------------------------------------- HTTP helpers

/** GET (or another method) a path; returns { status, headers, text, json }. */
export async function http(server, pathAndQuery, init = {}) {
  const res = await fetch(server.url + pathAndQuery, { redirect: 'manual', ...init });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
