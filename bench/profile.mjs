#!/usr/bin/env node
// Samples the CPU of a Worker under `wrangler dev` through its inspector while a command
// runs, then prints where the time went: self time per function, heaviest first.
//
//   node bench/profile.mjs --inspector 9229 [--top 40] [--inclusive 60] -- target/release/edgechat bench throughput --url ...
//
// Start `wrangler dev` with `--inspector-port 9229` first. Function names of the wasm
// module appear when it keeps its name section (the dev build does; wasm-opt strips it).
import { spawn } from 'node:child_process';
import WebSocket from 'ws';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const opts = args.slice(0, split < 0 ? args.length : split);
const command = split < 0 ? [] : args.slice(split + 1);
const opt = (name, dflt) => {
  const i = opts.indexOf(`--${name}`);
  return i >= 0 ? opts[i + 1] : dflt;
};
const port = opt('inspector', '9229');
const top = Number(opt('top', '40'));
if (command.length === 0) {
  console.error('usage: node bench/profile.mjs --inspector PORT [--top N] -- COMMAND...');
  process.exit(2);
}

const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
let nextId = 1;
const waiting = new Map();
ws.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  if (msg.id && waiting.has(msg.id)) {
    waiting.get(msg.id)(msg);
    waiting.delete(msg.id);
  }
});
const call = (method, params = {}) => new Promise((resolve) => {
  const id = nextId++;
  waiting.set(id, resolve);
  ws.send(JSON.stringify({ id, method, params }));
});

await call('Profiler.enable');
await call('Profiler.setSamplingInterval', { interval: 200 });
await call('Profiler.start');
const code = await new Promise((resolve) => {
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  child.on('exit', (c) => resolve(c ?? 1));
});
const { result } = await call('Profiler.stop');
ws.close();

const { nodes, samples, timeDeltas } = result.profile;
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
for (let i = 0; i < samples.length; i++) {
  const node = byId.get(samples[i]);
  const dt = timeDeltas[i] ?? 0;
  const f = node.callFrame;
  const where = f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
}
const busy = [...self.entries()].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)'));
const busyTotal = busy.reduce((s, [, v]) => s + v, 0);
console.log(`\nprofile: ${(total / 1e3).toFixed(0)} ms sampled, ${(busyTotal / 1e3).toFixed(0)} ms busy in JS/wasm`);
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(v / 1e3).toFixed(1).padStart(9)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}
// With --inclusive N: the N functions with the most time on the stack (self and callees),
// each sample counted once per function: where a handler's time goes, top-down.
const inclusiveTop = Number(opt('inclusive', '0'));
if (inclusiveTop > 0) {
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (node) => {
    const f = node.callFrame;
    const where = f.url ? `${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}` : '';
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const inclusive = new Map();
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i] ?? 0;
    const seen = new Set();
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const key = keyOf(byId.get(id));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  console.log('\ninclusive (on the stack):');
  const skip = (k) => k.startsWith('(root)') || k.startsWith('(idle)') || k.startsWith('(program)');
  for (const [k, v] of [...inclusive.entries()].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, inclusiveTop)) {
    console.log(`${(v / 1e3).toFixed(1).padStart(9)} ms ${((100 * v) / busyTotal).toFixed(1).padStart(5)}% of busy  ${k}`);
  }
}
process.exit(code);
