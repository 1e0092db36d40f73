// The shape of the web client (public/*.js): no import cycle between its modules, and no
// module over 450 lines. Reads the files' import lines only; runs in Node (node --test).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'public');
const MAX_LINES = 450;

const modules = readdirSync(PUBLIC).filter((file) => file.endsWith('.js')).sort();
const source = Object.fromEntries(modules.map((file) => [file, readFileSync(join(PUBLIC, file), 'utf8')]));

/** `import ... from './x.js'` (also over several lines, and `export ... from`). */
function importsOf(text) {
  return [...text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+['"]\.\/([^'"]+)['"]/gms)].map((m) => m[1]);
}

const graph = Object.fromEntries(modules.map((file) => [file, [...new Set(importsOf(source[file]))]]));

/** A cycle as a path (a.js → b.js → a.js), or null. */
function findCycle() {
  const done = new Set();
  const onPath = [];
  const visit = (file) => {
    if (onPath.includes(file)) return [...onPath.slice(onPath.indexOf(file)), file];
    if (done.has(file)) return null;
    onPath.push(file);
    for (const next of graph[file] ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    onPath.pop();
    done.add(file);
    return null;
  };
  for (const file of modules) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

test('every import of public/ names a module that exists', () => {
  for (const [file, imports] of Object.entries(graph)) {
    for (const target of imports) assert.ok(modules.includes(target), `${file} imports ./${target}, which is not there`);
  }
});

test('the modules of public/ import each other without a cycle', () => {
  const cycle = findCycle();
  assert.equal(cycle, null, `import cycle: ${cycle?.join(' → ')}`);
});

test(`no module of public/ is over ${MAX_LINES} lines`, () => {
  for (const file of modules) {
    const lines = source[file].split('\n').length - 1;
    assert.ok(lines <= MAX_LINES, `${file} has ${lines} lines`);
  }
});

test('no module is handed a deps bag (modules import what they need)', () => {
  for (const file of modules) assert.doesNotMatch(source[file], /\binit\w*\(\s*deps\b|\bdeps\s*\)/, file);
});

test('session.js, protocol.js and events.js stay free of the DOM and of timers', () => {
  for (const file of ['session.js', 'protocol.js', 'events.js']) {
    const code = source[file].replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.doesNotMatch(code, /\b(document|window|WebSocket|setTimeout|setInterval|localStorage|location)\b/, file);
  }
});

// For the README: who imports whom (node --test tests/unit/ --test-reporter=spec shows it).
test('import graph', (t) => {
  for (const file of modules) t.diagnostic(`${file} → ${graph[file].join(', ') || '(nothing)'}`);
});
