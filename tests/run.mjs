#!/usr/bin/env node
// Runs edgechat's integration and browser tests against the prebuilt Worker.
//
//   node tests/run.mjs                      every suite (integration, then browser)
//   node tests/run.mjs integration          only tests/integration
//   node tests/run.mjs browser              only tests/browser
//   node tests/run.mjs tests/integration/http.test.mjs ...   these files
//
// Equivalent to: node --test --test-concurrency=1 tests/integration tests/browser
// Files run one at a time (each starts its own `wrangler dev`). Environment:
//   EDGECHAT_TEST_VERBOSE=1   stream the servers' output (otherwise it is printed for failed tests)
//   EDGECHAT_TEST_SNAPSHOT=1  run servers from a copy of build/ and public/, so that a rebuild
//                             during the run (which makes wrangler reload) cannot disturb it
//   EDGECHAT_KEEP_STATE=1     keep the servers' state directories (D1, Durable Objects)
//   EDGECHAT_SKIP_BROWSER=1   skip the browser tests when Chromium is missing
//   CHROMIUM_PATH             another Chromium than /usr/bin/chromium
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

if (!existsSync(path.join(root, 'build', 'index.js'))) {
  console.error('build/index.js is missing: build the Worker first (npm run build).');
  process.exit(2);
}

const args = process.argv.slice(2);
const reporterArgs = args.filter((a) => a.startsWith('--'));
let targets = args.filter((a) => !a.startsWith('--')).map((a) => {
  if (a === 'integration' || a === 'browser') return path.join('tests', a);
  return a;
});
if (targets.length === 0) targets = [path.join('tests', 'integration'), path.join('tests', 'browser')];

if (targets.some((t) => t.includes('browser')) && !existsSync(chromium)) {
  console.error(`${chromium} is missing: the browser tests need Chromium (scripts/setup.sh --browser).`);
  if (process.env.EDGECHAT_SKIP_BROWSER !== '1') {
    console.error('Set EDGECHAT_SKIP_BROWSER=1 to run the other tests without them.');
    process.exit(2);
  }
  console.error('EDGECHAT_SKIP_BROWSER=1: skipping the browser tests.');
  targets = targets.filter((t) => !t.includes('browser'));
  if (targets.length === 0) process.exit(2);
}

const child = spawn(process.execPath, [
  '--test',
  '--test-concurrency=1',
  '--test-timeout=300000',
  ...reporterArgs,
  ...targets,
], { cwd: root, stdio: 'inherit' });

const forward = (sig) => () => child.kill(sig);
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
