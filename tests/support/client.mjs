// A small WebSocket test client for edgechat's protocol. Every frame the server sends is
// buffered (JSON-parsed; the text `pong` kept as the string), and tests take frames out
// of the buffer in order with `next(...)`, so no frame can slip past between two awaits.
import WebSocket from 'ws';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

export const DEFAULT_TIMEOUT_MS = 5_000;

/** A fresh client_id. */
export const cid = (prefix = 'c') => `${prefix}-${randomUUID()}`;
/** A fresh room id (valid: [a-z0-9_-], at most 64 chars). */
export const roomId = (prefix = 'room') => `${prefix}-${randomUUID().slice(0, 8)}`.toLowerCase();
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describe(frame) {
  if (typeof frame === 'string') return JSON.stringify(frame);
  if (Buffer.isBuffer(frame)) return `<binary ${frame.length} bytes>`;
  const s = JSON.stringify(frame);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

function toMatcher(what) {
  if (typeof what === 'function') return what;
  if (what === 'pong') return (f) => f === 'pong';
  return (f) => f !== null && typeof f === 'object' && !Buffer.isBuffer(f) && f.type === what;
}

// Name claims: the first connect with a free name gets a `name_claimed` frame with a
// secret token, and later connects with that name must bring it. Every server (object,
// so a restarted server keeps its jar) has a jar of tokens by folded name, filled from
// `name_claimed` frames and used by later connects with the same name.
const jars = new WeakMap();
const fold = (name) => String(name).trim().toLowerCase();

/** The token jar of a server: folded name -> token. */
export function tokenJar(server) {
  let jar = jars.get(server);
  if (!jar) jars.set(server, (jar = new Map()));
  return jar;
}

/**
 * The token a connect sends: `token: undefined` (the default) takes the jar's, `null` or
 * `false` sends none, a string sends that string.
 */
function tokenFor(server, name, token) {
  if (token === null || token === false) return null;
  if (typeof token === 'string') return token;
  if (typeof name !== 'string') return null;
  return tokenJar(server).get(fold(name)) ?? null;
}

/**
 * How a connect sends its token: `tokenVia: 'header'` (the default: Authorization:
 * Bearer, as the CLI does), `'subprotocol'` (as a browser does) or `'query'` (the
 * deprecated token= parameter). `pass: string` offers that claim pass as well.
 */
function wsUrlFor(server, room, name, { since, rev, query, token, tokenVia = 'header' } = {}) {
  let q;
  if (query !== undefined) {
    q = query;
  } else {
    const params = [];
    if (name !== undefined && name !== null) params.push(`name=${encodeURIComponent(name)}`);
    if (since !== undefined && since !== null) params.push(`since=${encodeURIComponent(since)}`);
    if (rev !== undefined && rev !== null) params.push(`rev=${encodeURIComponent(rev)}`);
    const t = tokenFor(server, name, token);
    if (t !== null && tokenVia === 'query') params.push(`token=${encodeURIComponent(t)}`);
    q = params.join('&');
  }
  return `${server.wsUrl}/room/${encodeURIComponent(room)}${q ? `?${q}` : ''}`;
}

/**
 * Opens a socket without waiting for anything beyond the upgrade. Resolves with the
 * open `ws`, or rejects with an Error carrying `status` and `body` (parsed JSON when it
 * is JSON) when the server refuses the upgrade.
 */
export function openSocket(server, room, name, opts = {}) {
  const url = wsUrlFor(server, room, name, opts);
  const token = opts.query === undefined ? tokenFor(server, name, opts.token) : null;
  const via = opts.tokenVia ?? 'header';
  const headers = { ...(opts.headers ?? {}) };
  let protocols = opts.protocols;
  if (token !== null && via === 'header') headers.authorization = `Bearer ${token}`;
  if (token !== null && via === 'subprotocol') protocols = ['edgechat', `edgechat.bearer.${token}`];
  // A claim pass (a `pass` frame's) rides as one more subprotocol, as the browser sends it.
  if (typeof opts.pass === 'string') protocols = [...(protocols ?? ['edgechat']), `edgechat.pass.${opts.pass}`];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, {
      perMessageDeflate: false,
      handshakeTimeout: opts.timeout ?? 10_000,
      headers,
    });
    const early = [];
    ws.on('message', (data, isBinary) => early.push({ data, isBinary }));
    // A close that comes in the same read as the upgrade fires before the caller's
    // listeners exist: kept here (`seen.close`, { code, reason }) so it is not missed.
    const seen = { close: null };
    ws.once('close', (code, reason) => { seen.close = { code, reason: reason.toString() }; });
    ws.once('open', () => resolve({ ws, early, seen, sentToken: token !== null || typeof opts.pass === 'string' || /[?&]token=/.test(url) }));
    ws.once('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body;
        try { body = JSON.parse(text); } catch { body = text; }
        const err = new Error(`upgrade refused for ${url}: HTTP ${res.statusCode} ${text}`);
        err.status = res.statusCode;
        err.headers = res.headers;
        err.body = body;
        err.text = text;
        reject(err);
        req.destroy();
      });
    });
    ws.once('error', (err) => reject(err));
  });
}

/**
 * Tries to connect and expects the upgrade to be refused; returns { status, headers, body }.
 */
export async function expectRefused(server, room, name, opts = {}) {
  let sock;
  try {
    sock = await openSocket(server, room, name, opts);
  } catch (err) {
    if (err.status === undefined) throw err;
    return { status: err.status, headers: err.headers, body: err.body, text: err.text };
  }
  sock.ws.terminate();
  assert.fail(`expected the upgrade of room ${JSON.stringify(room)} name ${JSON.stringify(name)} to be refused, but a socket opened`);
}

/**
 * Connects to a room as `name` and resolves once the `welcome` frame arrived.
 * @returns {Promise<Client>}
 */
export async function connect(server, room, name, opts = {}) {
  const { ws, early, sentToken } = await openSocket(server, room, name, opts);
  const client = new Client(ws, { room, name, jar: tokenJar(server) });
  for (const { data, isBinary } of early) client._push(data, isBinary);
  ws.removeAllListeners('message');
  ws.on('message', (data, isBinary) => client._push(data, isBinary));
  try {
    client.welcome = await client.next('welcome', { timeout: opts.timeout ?? 10_000 });
    // Admitted without a token means the name was free and is now ours: its token comes
    // right after the welcome, and the next connect with this name will need it.
    if (!sentToken && typeof name === 'string') {
      const claimed = await client.claimedPromise(opts.timeout ?? 10_000);
      // As every client does once it has kept the token: unconfirmed, a claim lapses.
      if (opts.confirm !== false) await confirmClaim(server, claimed.token);
    }
  } catch (err) {
    client.terminate();
    throw err;
  }
  return client;
}

/** POST /api/names/confirm with the token as a Bearer header; resolves with the answer. */
export async function confirmClaim(server, token) {
  const res = await fetch(`${server.url}/api/names/confirm`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`confirming a claim: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** The Authorization header of a name's token in this server's jar (none: {}). */
export function bearer(server, name) {
  const token = tokenJar(server).get(fold(name));
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Every client still open, so that a failed test leaves no socket behind. */
const openClients = new Set();

/** Closes every client that is still open (used after each test). */
export async function closeOpenClients() {
  const all = [...openClients];
  openClients.clear();
  await Promise.all(all.map((c) => c.close().catch(() => {})));
}

export class Client {
  constructor(ws, { room, name, jar = null }) {
    openClients.add(this);
    this.ws = ws;
    this.room = room;
    this.name = name;
    this.jar = jar;
    /** The `name_claimed` frame this socket got, if any (also in `frames`, already taken). */
    this.claimed = null;
    this._claimedWaiters = [];
    /** Every frame received, in order. */
    this.frames = [];
    this.welcome = null;
    this.closed = null; // { code, reason } once closed
    this._consumed = [];
    this._low = 0; // every index below is consumed
    this._waiters = new Set();
    this._closePromise = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        openClients.delete(this);
        for (const w of this._waiters) w.onClose();
        resolve(this.closed);
      });
    });
    ws.on('error', () => { /* surfaced through close */ });
  }

  _push(data, isBinary) {
    let frame;
    if (isBinary) {
      frame = Buffer.from(data);
    } else {
      const text = data.toString('utf8');
      if (text === 'pong') frame = 'pong';
      else {
        try { frame = JSON.parse(text); } catch { frame = text; }
      }
    }
    // A `name_claimed` frame is taken by the jar: it stays in `frames` and in `claimed`,
    // but next/expectNoFrame/pending do not see it, as before claims existed.
    const claim = frame?.type === 'name_claimed' && typeof frame.token === 'string';
    if (claim) {
      this.claimed = frame;
      this.jar?.set(fold(frame.name), frame.token);
      for (const wake of this._claimedWaiters.splice(0)) wake();
    }
    this.frames.push(frame);
    this._consumed.push(claim);
    for (const w of [...this._waiters]) w.check();
  }

  _take(match) {
    for (let i = this._low; i < this.frames.length; i++) {
      if (!this._consumed[i] && match(this.frames[i])) {
        this._consumed[i] = true;
        while (this._low < this.frames.length && this._consumed[this._low]) this._low++;
        return { found: true, frame: this.frames[i] };
      }
    }
    return { found: false };
  }

  /** Resolves once this socket got its `name_claimed` frame (without taking it). */
  claimedPromise(timeout = DEFAULT_TIMEOUT_MS) {
    if (this.claimed) return Promise.resolve(this.claimed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `${this.name}: connected without a token but got no name_claimed frame within ${timeout} ms`)), timeout);
      this._claimedWaiters.push(() => { clearTimeout(timer); resolve(this.claimed); });
    });
  }

  /** Frames received and not taken by next/waitFor/discard yet. */
  pending() {
    return this.frames.filter((_, i) => !this._consumed[i]);
  }

  /**
   * Resolves with the oldest buffered frame not taken yet that matches `what` (a frame
   * type, 'pong', or a predicate), waiting for it up to `timeout` ms.
   */
  next(what, { timeout = DEFAULT_TIMEOUT_MS } = {}) {
    const match = toMatcher(what);
    const got = this._take(match);
    if (got.found) return Promise.resolve(got.frame);
    const label = typeof what === 'function' ? (what.label || 'a frame matching the predicate') : `a ${JSON.stringify(what)} frame`;
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          const r = this._take(match);
          if (r.found) { done(); resolve(r.frame); }
        },
        onClose: () => {
          done();
          reject(new Error(`${this.name}: socket closed (${JSON.stringify(this.closed)}) while waiting for ${label}; ` +
            `frames not taken: ${this.pending().map(describe).join(', ') || 'none'}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${label} within ${timeout} ms; frames not taken: ` +
          `${this.pending().map(describe).join(', ') || 'none'}`));
      }, timeout);
      const done = () => { clearTimeout(timer); this._waiters.delete(waiter); };
      if (this.closed) { waiter.onClose(); return; }
      this._waiters.add(waiter);
    });
  }

  /** Same as next(predicate). */
  waitFor(predicate, opts) {
    return this.next(predicate, opts);
  }

  /** The next `message` frame carrying the given client_id. */
  nextMessage(clientId, opts) {
    const p = (f) => f?.type === 'message' && f.message?.client_id === clientId;
    p.label = `a message frame with client_id ${clientId}`;
    return this.next(p, opts);
  }

  /** The next `ack` for the given client_id. */
  nextAck(clientId, opts) {
    const p = (f) => f?.type === 'ack' && f.client_id === clientId;
    p.label = `an ack for ${clientId}`;
    return this.next(p, opts);
  }

  /** The next `error` frame (optionally for a client_id). */
  nextError(clientId, opts) {
    const p = clientId === undefined
      ? (f) => f?.type === 'error'
      : (f) => f?.type === 'error' && f.client_id === clientId;
    p.label = clientId === undefined ? 'an error frame' : `an error frame for ${clientId}`;
    return this.next(p, opts);
  }

  /** Takes (and returns) every buffered frame matching `what`. */
  discard(what = () => true) {
    const match = toMatcher(what);
    const out = [];
    for (;;) {
      const r = this._take(match);
      if (!r.found) return out;
      out.push(r.frame);
    }
  }

  /**
   * Waits `ms` and asserts no frame matching `what` is buffered and not taken (this
   * includes frames that arrived before the call).
   */
  async expectNoFrame(what, ms = 1000) {
    await sleep(ms);
    const match = toMatcher(what);
    const bad = this.frames.filter((f, i) => !this._consumed[i] && match(f));
    assert.equal(bad.length, 0,
      `${this.name}: expected no ${typeof what === 'string' ? JSON.stringify(what) : 'matching'} frame, got ${bad.map(describe).join(', ')}`);
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  sendRaw(data) {
    this.ws.send(data, { binary: Buffer.isBuffer(data) });
  }

  /**
   * Sends a message and waits for both its ack and its own broadcast.
   * @returns {Promise<{ack, message, client_id}>} message is the Message object.
   */
  async say(text, { client_id = cid(), reply_to, timeout } = {}) {
    const frame = { type: 'send', text, client_id };
    if (reply_to !== undefined) frame.reply_to = reply_to;
    this.send(frame);
    const [ack, msg] = await Promise.all([
      this.nextAck(client_id, { timeout }),
      this.nextMessage(client_id, { timeout }),
    ]);
    return { ack, message: msg.message, client_id };
  }

  /** Sends many messages, `batch` at a time, waiting for every ack; returns the acks in order. */
  async sayMany(texts, { batch = 50, prefix = 'bulk', timeout = 30_000 } = {}) {
    const acks = [];
    for (let i = 0; i < texts.length; i += batch) {
      const chunk = texts.slice(i, i + batch).map((text) => ({ text, client_id: cid(prefix) }));
      for (const m of chunk) this.send({ type: 'send', text: m.text, client_id: m.client_id });
      for (const m of chunk) {
        const ack = await this.nextAck(m.client_id, { timeout });
        acks.push(ack);
      }
      // The sender's own broadcasts are not needed here.
      const ids = new Set(chunk.map((m) => m.client_id));
      for (const id of ids) await this.nextMessage(id, { timeout });
    }
    return acks;
  }

  isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Closes the socket and resolves once it is closed. */
  close(code = 1000, reason = '') {
    if (this.closed) return Promise.resolve(this.closed);
    try { this.ws.close(code, reason); } catch { this.ws.terminate(); }
    const timer = setTimeout(() => this.ws.terminate(), 3000);
    return this._closePromise.finally(() => clearTimeout(timer));
  }

  terminate() {
    this.ws.terminate();
  }
}

/** Closes every given client (ignoring errors). */
export async function closeAll(...clients) {
  await Promise.all(clients.flat().filter(Boolean).map((c) => c.close().catch(() => {})));
}
