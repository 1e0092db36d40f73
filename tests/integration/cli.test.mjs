// The `edgechat` command-line client against the real Worker: the script commands
// (send, tail), the line view of `chat` fed from a pipe, and the full-screen view of
// `chat` driven through a pseudo-terminal, as a person would use it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useServer, http, GENEROUS_LIMITS, REPO_ROOT, stripAnsi } from '../support/server.mjs';
import { connect, roomId, sleep, closeAll } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

const BIN = process.env.EDGECHAT_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(REPO_ROOT, 'target'), 'debug', 'edgechat');

// The CLI keeps the tokens of the names it claims in $EDGECHAT_CONFIG_DIR/names.json:
// a directory of this test file's own, never the user's.
const CONFIG_DIR = mkdtempSync(path.join(tmpdir(), 'edgechat-cli-config-'));
after(() => rmSync(CONFIG_DIR, { recursive: true, force: true }));
const cliEnv = (configDir = CONFIG_DIR, extra = {}) => {
  const env = { ...process.env, EDGECHAT_CONFIG_DIR: configDir, ...extra };
  if (!('EDGECHAT_TOKEN' in extra)) delete env.EDGECHAT_TOKEN;
  return env;
};

/** Runs the CLI; resolves with its exit code and output. `input` goes to stdin. */
function run(args, { input = '', timeout = 30_000, env = cliEnv() } = {}) {
  assert.ok(existsSync(BIN), `${BIN} is missing: cargo build -p edgechat-cli`);
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`edgechat ${args.join(' ')} did not finish\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    }, timeout);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that exits before reading its input (a refusal) closes the pipe: the
    // write's EPIPE is that exit, which `exit` above reports; it is no failure here.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** A long-running CLI process whose output is watched as it comes. */
function start(command, args) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: cliEnv() });
  const proc = { child, out: '', err: '', exited: null };
  child.stdout.on('data', (d) => { proc.out += d; });
  child.stderr.on('data', (d) => { proc.err += d; });
  proc.exit = new Promise((resolve) => child.on('exit', (code) => { proc.exited = code; resolve(code); }));
  proc.waitFor = async (predicate, what, timeout = 15_000) => {
    const deadline = Date.now() + timeout;
    while (!predicate(proc.out)) {
      if (Date.now() > deadline || proc.exited !== null) {
        throw new Error(`waiting for ${what}\n--- output ---\n${stripAnsi(proc.out)}\n--- stderr ---\n${proc.err}`);
      }
      await sleep(50);
    }
  };
  return proc;
}

const jsonLines = (text) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const where = (room) => ['--url', srv().url, '--room', room];
/** The token the CLI filed for `name` (folded) under `origin`. */
const storedToken = (name, origin = srv().url) => {
  const stored = JSON.parse(readFileSync(path.join(CONFIG_DIR, 'names.json'), 'utf8'));
  return stored[origin]?.[name.toLowerCase()];
};
/** A room's stored messages as [name, text]. */
const stored = async (room) => {
  const res = await http(srv(), `/room/${room}/messages`);
  assert.equal(res.status, 200, res.text);
  return res.json.messages.map((m) => [m.name, m.text]);
};

/**
 * A TCP proxy in front of the test server that keeps every byte the CLI sends, so that a
 * test reads request lines and headers as they went over the wire (wrangler's own log
 * shows paths only, never queries). With `deaf`, what a client sends on a socket after
 * its upgrade is swallowed: the server never sees, nor acknowledges, a message.
 */
async function startProxy({ deaf = false } = {}) {
  const connections = [];
  const open = new Set();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(srv().port, '127.0.0.1');
    const sent = [];
    connections.push(sent);
    let upgraded = false;
    open.add(client);
    open.add(upstream);
    client.on('data', (d) => {
      sent.push(d);
      if (!(deaf && upgraded)) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (d.toString('latin1').startsWith('HTTP/1.1 101 ')) upgraded = true;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    /** The head (request line and headers) of every request the clients made. */
    heads: () => connections.flatMap((sent) => {
      const text = Buffer.concat(sent).toString('latin1');
      return [...text.matchAll(/^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/gm)]
        .map((m) => m[0]);
    }),
    close: () => new Promise((resolve) => {
      for (const s of open) s.destroy();
      proxy.close(() => resolve());
    }),
  };
}

test('send prints one ack per message in order; a refusal fails with the reason', async () => {
  const room = roomId('cli-send');
  const one = await run(['send', ...where(room), '--name', 'Scripter', 'hello', 'from', 'a', 'script']);
  assert.equal(one.code, 0, one.stderr);
  const [ack] = jsonLines(one.stdout);
  assert.equal(ack.seq, 1);
  const many = await run(['send', ...where(room), '--name', 'Scripter'], { input: 'two\n\nthree\nfour\n' });
  assert.equal(many.code, 0, many.stderr);
  assert.deepEqual(jsonLines(many.stdout).map((a) => a.seq), [2, 3, 4], 'blank lines are skipped');
  const reply = await run(['send', ...where(room), '--name', 'Scripter', '--reply-to', '1', 'a reply']);
  assert.equal(reply.code, 0, reply.stderr);

  const res = await http(srv(), `/room/${room}/messages`);
  const stored = res.json.messages.map((m) => [m.seq, m.name, m.text, m.reply_to]);
  assert.deepEqual(stored, [
    [1, 'Scripter', 'hello from a script', null],
    [2, 'Scripter', 'two', null],
    [3, 'Scripter', 'three', null],
    [4, 'Scripter', 'four', null],
    [5, 'Scripter', 'a reply', 1],
  ]);
  assert.equal(res.json.messages[0].client_id, ack.client_id);

  const missing = await run(['send', ...where(room), '--name', 'Scripter', '--reply-to', '99', 'to nothing']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not_found: reply_to 99 names no message/);
  const badName = await run(['send', ...where(room), '--name', '  ', 'x']);
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /bad name .*must not be empty/);
  const badRoom = await run(['send', '--url', srv().url, '--room', 'no spaces', '--name', 'x', 'x']);
  assert.equal(badRoom.code, 1);
  assert.match(badRoom.stderr, /bad room/);
  const nobody = await run(['send', '--url', 'http://127.0.0.1:9', '--room', room, '--name', 'x', 'x']);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /cannot reach/);
});

test('tail prints the newest messages or everything after a seq, as JSON lines', async () => {
  const room = roomId('cli-tail');
  const texts = Array.from({ length: 130 }, (_, i) => `line ${i + 1}`);
  const sent = await run(['send', ...where(room), '--name', 'Writer'], { input: `${texts.join('\n')}\n` });
  assert.equal(sent.code, 0, sent.stderr);

  const last = await run(['tail', ...where(room), '-n', '3']);
  assert.equal(last.code, 0, last.stderr);
  assert.deepEqual(jsonLines(last.stdout).map((m) => m.text), ['line 128', 'line 129', 'line 130']);
  // More than one page, read backwards and printed oldest first.
  const many = await run(['tail', ...where(room), '-n', '120']);
  assert.deepEqual(jsonLines(many.stdout).map((m) => m.seq), Array.from({ length: 120 }, (_, i) => i + 11));
  const after = await run(['tail', ...where(room), '--since', '5']);
  const seqs = jsonLines(after.stdout).map((m) => m.seq);
  assert.deepEqual(seqs, Array.from({ length: 125 }, (_, i) => i + 6));
  const empty = await run(['tail', ...where(roomId('cli-empty'))]);
  assert.equal(empty.code, 0);
  assert.equal(empty.stdout, '');
});

test('tail --follow prints live messages and resumes after a restart with nothing lost or doubled', { timeout: 120_000 }, async () => {
  const room = roomId('cli-follow');
  // Not 'Writer': the CLI claimed that name in the test above (claims are global).
  const writer = await connect(srv(), room, 'Poster');
  await writer.say('before');
  const tail = start(BIN, ['tail', ...where(room), '--follow', '--name', 'follower', '-n', '5']);
  try {
    await tail.waitFor((o) => o.includes('"before"'), 'the history');
    await writer.waitFor((f) => f.type === 'user_joined' && f.user.name === 'follower');
    await writer.say('live one');
    await tail.waitFor((o) => o.includes('"live one"'), 'a live message');

    await srv().restart({ samePort: true });
    const again = await connect(srv(), room, 'Poster');
    await again.say('after restart 1');
    await again.say('after restart 2');
    await tail.waitFor((o) => o.includes('"after restart 2"'), 'the messages after the restart', 30_000);
    await sleep(500);
    const printed = jsonLines(tail.out).map((m) => [m.seq, m.text]);
    assert.deepEqual(printed, [[1, 'before'], [2, 'live one'], [3, 'after restart 1'], [4, 'after restart 2']]);
    await closeAll(again);
  } finally {
    tail.child.kill('SIGTERM');
    await tail.exit;
    await closeAll(writer);
  }
});

test('chat, fed from a pipe: history, messages both ways, presence, commands and clear errors', { timeout: 60_000 }, async () => {
  const room = roomId('cli-chat');
  const bob = await connect(srv(), room, 'Bob');
  await bob.say('hello before you came');
  const chat = start(BIN, ['chat', ...where(room), '--name', 'Alice']);
  try {
    await chat.waitFor((o) => o.includes(`* you are in #${room} as Alice (2 here)`), 'the welcome');
    await chat.waitFor((o) => /\] #1 Bob: hello before you came/.test(o), 'the history');
    await bob.waitFor((f) => f.type === 'user_joined' && f.user.name === 'Alice');

    chat.child.stdin.write('hi Bob, from a terminal\n');
    const got = await bob.waitFor((f) => f.type === 'message' && f.message.name === 'Alice');
    assert.equal(got.message.text, 'hi Bob, from a terminal');
    await bob.say('welcome Alice');
    await chat.waitFor((o) => /\] #3 Bob: welcome Alice/.test(o), 'a live message');

    chat.child.stdin.write('/reply 3 thanks\n');
    const reply = await bob.waitFor((f) => f.type === 'message' && f.message.text === 'thanks');
    assert.equal(reply.message.reply_to, 3);
    chat.child.stdin.write('/dnd\n');
    const status = await bob.waitFor((f) => f.type === 'user_status');
    assert.deepEqual(status.user, { name: 'Alice', status: 'dnd' });
    chat.child.stdin.write('/users\n/bogus\n/history 0\n');
    await chat.waitFor((o) => o.includes('* here: Alice (do not disturb), Bob (online)'), '/users');
    await chat.waitFor((o) => o.includes('! unknown command /bogus; /help lists them'), 'an unknown command refused');
    await chat.waitFor((o) => o.includes('! usage: /history [N], N from 1 to 100'), 'a bad /history refused');
    chat.child.stdin.write(`${'x'.repeat(4001)}\n`);
    await chat.waitFor((o) => o.includes('! the message is longer than 4000 characters'), 'a long text refused');
    chat.child.stdin.write('/rooms\n');
    await chat.waitFor((o) => new RegExp(`\\* #${room} {2}\\d+ message\\(s\\)`).test(o), '/rooms');
    // End of input: the client leaves once its messages are acknowledged.
    chat.child.stdin.end('last words\n');
    assert.equal(await chat.exit, 0, chat.err);
    const last = await bob.waitFor((f) => f.type === 'message' && f.message.text === 'last words');
    assert.equal(last.message.seq, 5);
    await bob.waitFor((f) => f.type === 'user_left' && f.user.name === 'Alice');
  } finally {
    if (chat.exited === null) chat.child.kill('SIGKILL');
    await closeAll(bob);
  }
  const refused = await run(['chat', ...where(room), '--name', 'a\u202eb']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /bad name .*invisible/);
});

test('chat commands change messages: /edit, /react, /thread, /delete, and the creator\'s /kick', { timeout: 60_000 }, async () => {
  const room = roomId('cli-changes');
  const chat = start(BIN, ['chat', ...where(room), '--name', 'Carla']); // first in: the creator
  try {
    await chat.waitFor((o) => o.includes(`* you are in #${room} as Carla`), 'the welcome');
    const dan = await connect(srv(), room, 'Dan');
    chat.child.stdin.write('first draft\n');
    await dan.waitFor((f) => f.type === 'message' && f.message.text === 'first draft');
    chat.child.stdin.write('/edit 1 final text\n');
    const edited = await dan.waitFor((f) => f.type === 'update' && f.message.text === 'final text');
    assert.ok(edited.message.edited_ts);
    await chat.waitFor((o) => /\* now \[[^\]]+\] #1 Carla: final text \(edited\)/.test(o), 'the edit shown');
    chat.child.stdin.write('/react 1 👍\n');
    await dan.waitFor((f) => f.type === 'update' && f.message.reactions?.[0]?.emoji === '👍');
    await chat.waitFor((o) => o.includes('final text (edited) [👍 1]'), 'the reaction shown');
    await dan.say('a reply', { reply_to: 1 });
    chat.child.stdin.write('/thread 1\n');
    await chat.waitFor((o) => o.includes('* thread of #1: 1 repl(ies)') && /\n {2}\[[^\]]+\] #2 Dan \(re #1\): a reply/.test(o), '/thread');
    chat.child.stdin.write('/edit 2 not mine\n/react 1 ok\n');
    await chat.waitFor((o) => o.includes('! forbidden: you can only edit your own messages'), 'an edit of someone else refused');
    await chat.waitFor((o) => o.includes('! emoji must be an emoji'), 'a bad emoji refused');
    chat.child.stdin.write('/delete 1\n');
    await dan.waitFor((f) => f.type === 'update' && f.message.seq === 1 && f.message.deleted);
    await chat.waitFor((o) => o.includes('#1 Carla: (deleted)'), 'the tombstone');
    chat.child.stdin.write('/kick Dan\n');
    await chat.waitFor((o) => o.includes('* Carla removed Dan from the room'), 'the kick');
    chat.child.stdin.end();
    assert.equal(await chat.exit, 0, chat.err);
  } finally {
    if (chat.exited === null) chat.child.kill('SIGKILL');
  }
});

test('chat on a terminal: the full-screen view shows the room, sends what is typed, and quits', { timeout: 60_000 }, async () => {
  const room = roomId('cli-tty');
  const bob = await connect(srv(), room, 'Bob');
  await bob.say('are you there?');
  const pty = path.join(REPO_ROOT, 'tests', 'support', 'terminal.py');
  const tty = start('python3', [pty, '100', '30', '--', BIN, 'chat', ...where(room), '--name', 'Tess']);
  const screen = () => stripAnsi(tty.out);
  try {
    await tty.waitFor(() => screen().includes(`#${room}  as Tess (online)`), 'the header');
    await tty.waitFor(() => /#1 Bob: are you there\?/.test(screen()), 'the history');
    await tty.waitFor(() => screen().includes('here: Bob, Tess'), 'who is here');
    // Typing shows up for the others before anything is sent.
    tty.child.stdin.write('yes, from a real terminal');
    const typing = await bob.waitFor((f) => f.type === 'typing' && f.names.includes('Tess'));
    assert.deepEqual(typing.names, ['Tess']);
    tty.child.stdin.write('\r');
    const got = await bob.waitFor((f) => f.type === 'message' && f.message.name === 'Tess');
    assert.equal(got.message.text, 'yes, from a real terminal');
    await bob.say('great');
    await tty.waitFor(() => /#3 Bob: great/.test(screen()), 'a live message on screen');
    tty.child.stdin.write('/quit\r');
    assert.equal(await tty.exit, 0, tty.err);
    await bob.waitFor((f) => f.type === 'user_left' && f.user.name === 'Tess');
  } finally {
    if (tty.exited === null) tty.child.kill('SIGKILL');
    await closeAll(bob);
  }
});

test('the CLI keeps the token of a name it claims and brings it back; without it the name is refused', async () => {
  const room = roomId('cli-claim');
  const first = await run(['send', ...where(room), '--name', 'Claimer', 'one']);
  assert.equal(first.code, 0, first.stderr);
  const stored = JSON.parse(readFileSync(path.join(CONFIG_DIR, 'names.json'), 'utf8'));
  const token = stored[srv().url]?.claimer;
  assert.match(token ?? '', /^[0-9a-f]{64}$/, `the token is filed by origin and folded name: ${JSON.stringify(stored)}`);

  // Again, in another room and another spelling: the stored token is sent.
  const second = await run(['send', '--url', srv().url, '--room', roomId('cli-claim2'), '--name', 'CLAIMER', 'two']);
  assert.equal(second.code, 0, second.stderr);

  // Another machine (config dir) has no token: refused with the server's words, at once.
  const elsewhere = mkdtempSync(path.join(tmpdir(), 'edgechat-cli-other-'));
  try {
    const refused = await run(['send', ...where(room), '--name', 'Claimer', 'three'], { env: cliEnv(elsewhere) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /name_taken: the name "Claimer" is claimed/);
    const wrong = await run(['send', ...where(room), '--name', 'Claimer', '--token', 'nope', 'x'], { env: cliEnv(elsewhere) });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /name_taken/);
    // The token given by hand (here through EDGECHAT_TOKEN) works anywhere.
    const byHand = await run(['send', ...where(room), '--name', 'Claimer', 'four'],
      { env: cliEnv(elsewhere, { EDGECHAT_TOKEN: token }) });
    assert.equal(byHand.code, 0, byHand.stderr);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
  }
  const res = await http(srv(), `/room/${room}/messages`);
  assert.deepEqual(res.json.messages.map((m) => m.text), ['one', 'four']);
});

// Issue 9: `printf 'hello\n' | edgechat chat --plain` as a new name exited 0 before the
// connect finished: nothing was sent and the claimed name's token never read.
test('chat fed from a pipe as a new name sends its line before it exits and keeps the name', async () => {
  const room = roomId('cli-pipe-new');
  const first = await run(['chat', ...where(room), '--name', 'Newcomer', '--plain'], { input: 'hello\n' });
  assert.equal(first.code, 0, `${first.stderr}\n${first.stdout}`);
  assert.deepEqual(await stored(room), [['Newcomer', 'hello']]);
  assert.match(storedToken('Newcomer') ?? '', /^[0-9a-f]{64}$/, 'the token is stored before the client leaves');

  // The token was stored (and the claim confirmed): the name is this machine's.
  const second = await run(['chat', ...where(room), '--name', 'Newcomer', '--plain'], { input: 'hello again\n' });
  assert.equal(second.code, 0, `${second.stderr}\n${second.stdout}`);
  assert.deepEqual(await stored(room), [['Newcomer', 'hello'], ['Newcomer', 'hello again']]);
});

test('chat fed commands, a line and /quit handles them in order once in the room, then leaves', async () => {
  const room = roomId('cli-pipe-quit');
  const bob = await connect(srv(), room, 'Bystander');
  try {
    for (const text of ['one', 'two', 'three']) await bob.say(text);
    const input = '/users\n/history 2\nthe line\n/quit\nnot after quit\n';
    const chat = await run(['chat', ...where(room), '--name', 'Quitter', '--plain'], { input });
    assert.equal(chat.code, 0, `${chat.stderr}\n${chat.stdout}`);
    // Typed before the welcome, answered after it: /users sees the room.
    assert.match(chat.stdout, /\* here: Bystander \(online\), Quitter \(online\)/);
    assert.deepEqual(await stored(room), [
      ['Bystander', 'one'], ['Bystander', 'two'], ['Bystander', 'three'], ['Quitter', 'the line'],
    ]);
    const token = storedToken('Quitter');
    assert.match(token ?? '', /^[0-9a-f]{64}$/, 'the token file holds the token');
    const again = await run(['send', ...where(room), '--name', 'Quitter', 'back again']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(storedToken('Quitter'), token, 'admitted with the stored token, no new claim');
  } finally {
    await closeAll(bob);
  }
});

test('chat leaves with an error naming the lines the server never acknowledged', { timeout: 60_000 }, async () => {
  const proxy = await startProxy({ deaf: true });
  const room = roomId('cli-unacked');
  try {
    const started = Date.now();
    const chat = await run(['chat', '--url', proxy.url, '--room', room, '--name', 'Unheard', '--plain'],
      { input: 'lost words\nlost too\n' });
    const took = Date.now() - started;
    assert.equal(chat.code, 1, `${chat.stderr}\n${chat.stdout}`);
    assert.match(chat.stderr, /2 line\(s\) not acknowledged by the server within 10 s: "lost words", "lost too"/);
    assert.ok(took >= 9_000 && took < 25_000, `left after ${took} ms`);
  } finally {
    await proxy.close();
  }
});

test('the CLI never puts a token in a URL: sockets and requests carry it as a bearer', { timeout: 60_000 }, async () => {
  const proxy = await startProxy();
  const room = roomId('cli-bearer');
  const at = ['--url', proxy.url, '--room', room];
  const output = srv().output.length;
  try {
    const first = await run(['send', ...at, '--name', 'Hidden', 'one']);
    assert.equal(first.code, 0, first.stderr);
    const token = storedToken('Hidden', proxy.url);
    assert.match(token ?? '', /^[0-9a-f]{64}$/);
    const chat = await run(['chat', ...at, '--name', 'Hidden', '--plain'], { input: 'two\n' });
    assert.equal(chat.code, 0, `${chat.stderr}\n${chat.stdout}`);
    const tail = await run(['tail', ...at, '-n', '5']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.deepEqual(jsonLines(tail.stdout).map((m) => m.text), ['one', 'two']);

    const heads = proxy.heads();
    const lines = heads.map((h) => h.split('\r\n')[0]);
    assert.ok(lines.some((l) => l.startsWith(`GET /room/${room}?name=Hidden`)), lines.join('\n'));
    for (const line of lines) {
      assert.ok(!line.includes(token) && !/[?&]token=/.test(line), `a token in a URL: ${line}`);
    }
    // It does travel: in the header of the second connect and of the claim's confirmation.
    const bearer = (h) => h.toLowerCase().includes(`\r\nauthorization: bearer ${token}\r\n`);
    assert.ok(heads.some((h) => h.startsWith(`GET /room/${room}?`) && bearer(h)), heads.join('\n'));
    assert.ok(heads.some((h) => h.startsWith('POST /api/names/confirm ') && bearer(h)), lines.join('\n'));
    assert.ok(!srv().outputSince(output).includes(token), 'the server output shows the token');
  } finally {
    await proxy.close();
  }
});

test('a token the CLI cannot save is said loudly and its claim is not confirmed', { timeout: 60_000 }, async () => {
  const proxy = await startProxy();
  const room = roomId('cli-unsaved');
  // A config "directory" below a file: names.json cannot be written.
  const dir = mkdtempSync(path.join(tmpdir(), 'edgechat-cli-ro-'));
  const blocker = path.join(dir, 'a-file');
  writeFileSync(blocker, 'not a directory');
  try {
    const chat = await run(['chat', '--url', proxy.url, '--room', room, '--name', 'Unsaved', '--plain'],
      { input: 'still sent\n', env: cliEnv(path.join(blocker, 'edgechat')) });
    assert.equal(chat.code, 0, `${chat.stderr}\n${chat.stdout}`);
    assert.match(chat.stderr, /cannot save the token of the name "Unsaved" .*the claim is not confirmed/);
    assert.match(chat.stdout, /^! cannot save the token/m);
    assert.deepEqual(await stored(room), [['Unsaved', 'still sent']]);
    const lines = proxy.heads().map((h) => h.split('\r\n')[0]);
    assert.ok(!lines.some((l) => l.startsWith('POST /api/names/confirm')), lines.join('\n'));
  } finally {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
