// The service worker's shell list (public/sw-cache.js) must name every file the page needs to
// start offline: each module, the stylesheet and the icon of public/. A module added to the app
// but missing here would load online and break the first offline reload; this catches it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

/** The quoted entries of `const SHELL_FILES = [...]`, read as text (the file is a worker script). */
function shellFiles() {
  const source = readFileSync(`${PUBLIC}sw-cache.js`, 'utf8');
  const start = source.indexOf('const SHELL_FILES = [');
  assert.ok(start >= 0, 'sw-cache.js declares SHELL_FILES');
  const list = source.slice(start, source.indexOf('];', start));
  return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

test('the shell list names every module, stylesheet and icon of public/, and nothing else', () => {
  const onDisk = readdirSync(PUBLIC)
    .filter((f) => /\.(js|css|svg)$/.test(f) && !f.startsWith('sw'))
    .map((f) => `/${f}`)
    .sort();
  const listed = shellFiles().filter((f) => f !== '/').sort();
  assert.deepEqual(listed, onDisk);
  assert.ok(shellFiles().includes('/'), 'the page itself is in the shell');
});

test('the shell never names a route of the rooms or the API', () => {
  for (const f of shellFiles()) assert.doesNotMatch(f, /^\/(room|api)\//);
});

test('requests the worker keeps: shell files and navigations only, never /room/, /api/, other origins or writes', async () => {
  const vm = await import('node:vm');
  const sandbox = { self: { location: { origin: 'https://chat.example' }, addEventListener() {} }, URL };
  vm.createContext(sandbox);
  vm.runInContext(readFileSync(`${PUBLIC}sw-cache.js`, 'utf8'), sandbox);
  const key = (url, { method = 'GET', mode = 'cors' } = {}) => sandbox.shellKey({ url, method, mode });
  assert.equal(key('https://chat.example/app.js'), '/app.js');
  assert.equal(key('https://chat.example/#general', { mode: 'navigate' }), '/');
  assert.equal(key('https://chat.example/room/general/messages?limit=50'), null);
  assert.equal(key('https://chat.example/room/general/files/abc'), null);
  assert.equal(key('https://chat.example/api/rooms', { mode: 'navigate' }), null);
  assert.equal(key('https://chat.example/app.js', { method: 'POST' }), null);
  assert.equal(key('https://evil.example/app.js'), null);
  assert.equal(key('https://chat.example/app.js?v=1'), '/app.js');
  assert.equal(key('https://chat.example/not-a-shell-file.js'), null);
});
