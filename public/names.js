// Name claims, browser side. The first connect with a free name claims it: the server
// answers with a `name_claimed` frame carrying a secret token, which this browser keeps
// in localStorage (one key per folded name) and then confirms it kept
// (POST /api/names/confirm): an unconfirmed claim lapses after a couple of minutes, so a
// browser that cannot keep the token locks nobody out. Every later request with the name
// carries the token in a header, never in a URL: `Authorization: Bearer` over HTTP, a
// subprotocol on the WebSocket (see `socketProtocols`). "Release name" gives the name up
// (POST /api/names/release) and forgets the token.

import { WS_PROTOCOL, WS_BEARER_PREFIX, WS_PASS_PREFIX } from './protocol.js';

const TOKEN_PREFIX = 'edgechat.token.';
const PASS_PREFIX = 'edgechat.pass.';
/** A pass this close to its expiry is not offered: the connect asks D1 and gets a new one. */
const PASS_MARGIN_MS = 30_000;
const CONFIRM_RETRIES_MS = [0, 2000, 6000, 15000];

/**
 * The key names compare by, as the server folds them: runs of whitespace as one space,
 * NFKC, then full case folding (per character, so that Σ never becomes a final ς; the
 * upper-then-lower round trip gives ß → ss, ς → σ, ϑ → θ… as folding does; dotless ı has
 * no folding of its own and is kept).
 */
export function nameKey(name) {
  const text = String(name).trim().replace(/\s+/gu, ' ').normalize('NFKC');
  let folded = '';
  for (const ch of text) folded += ch === 'ı' ? ch : ch.toUpperCase().toLowerCase();
  return folded.normalize('NFKC');
}

/** The key tokens were kept under before names were folded by NFKC. */
const oldKey = (name) => String(name).trim().toLowerCase();

function storage() {
  try { return window.localStorage ?? null; } catch { return null; } // blocked storage throws
}

/** The token this browser holds for `name`, or null. A token kept under the old key is
 *  moved to the new one, so that people keep the names they had. */
export function tokenFor(name) {
  const store = storage();
  if (!store) return null;
  try {
    const current = store.getItem(TOKEN_PREFIX + nameKey(name));
    if (current) return current;
    const legacy = store.getItem(TOKEN_PREFIX + oldKey(name));
    if (!legacy) return null;
    try {
      store.setItem(TOKEN_PREFIX + nameKey(name), legacy);
      if (nameKey(name) !== oldKey(name)) store.removeItem(TOKEN_PREFIX + oldKey(name));
    } catch { /* read-only storage: keep using the old key */ }
    return legacy;
  } catch {
    return null;
  }
}

/** Headers that carry `name`'s token, if this browser holds one. */
export function authHeaders(name, extra = {}) {
  const token = name ? tokenFor(name) : null;
  return token ? { ...extra, authorization: `Bearer ${token}` } : { ...extra };
}

/** The WebSocket subprotocols for `name`: `edgechat`, the token beside it, and the
 *  name's current pass (which lets the server admit the socket without asking its
 *  database; without one, or with a stale one, the token is checked as before). */
export function socketProtocols(name) {
  const token = name ? tokenFor(name) : null;
  if (!token) return [WS_PROTOCOL];
  const pass = passFor(name);
  const protocols = [WS_PROTOCOL, `${WS_BEARER_PREFIX}${token}`];
  return pass ? [...protocols, `${WS_PASS_PREFIX}${pass}`] : protocols;
}

/** The current pass this browser holds for `name` (a `pass` frame's), or null. */
function passFor(name) {
  try {
    const kept = JSON.parse(storage()?.getItem(PASS_PREFIX + nameKey(name)) || 'null');
    if (typeof kept?.pass !== 'string' || typeof kept?.expires_at !== 'number') return null;
    return kept.expires_at - PASS_MARGIN_MS > Date.now() ? kept.pass : null;
  } catch {
    return null;
  }
}

/** Keeps the pass of a `pass` frame for `name` (the name this socket connected with). */
export function keepPass(name, frame) {
  if (!name || typeof frame?.pass !== 'string' || typeof frame?.expires_at !== 'number') return;
  try {
    storage()?.setItem(PASS_PREFIX + nameKey(name), JSON.stringify({ pass: frame.pass, expires_at: frame.expires_at }));
  } catch { /* no storage: every connect asks the database, which is only slower */ }
}

/** Forgets `name`'s pass (released, or the server said its claim is gone). */
export function forgetPass(name) {
  try { storage()?.removeItem(PASS_PREFIX + nameKey(name)); } catch { /* private mode */ }
}

/**
 * Keeps the token of a `name_claimed` frame, then tells the server it was kept. Returns
 * whether the token could be kept: without storage it is not confirmed, so the claim
 * lapses and the name is free again for anyone (the caller tells the person).
 */
export function keepClaim(frame) {
  if (typeof frame?.name !== 'string' || typeof frame?.token !== 'string') return false;
  const store = storage();
  const storeKey = TOKEN_PREFIX + nameKey(frame.name);
  let kept = false;
  try {
    store.setItem(storeKey, frame.token);
    kept = store.getItem(storeKey) === frame.token;
  } catch { /* private mode, or storage switched off */ }
  if (kept) confirmClaim(frame.token);
  return kept;
}

/**
 * Claims a free name over HTTP (POST /api/names/claim), for making a room before joining
 * one, and keeps its token like a `name_claimed` frame's. Resolves with { ok, message }.
 */
export async function claimName(name) {
  let response;
  try {
    response = await fetch('/api/names/claim', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name }),
    });
  } catch {
    return { ok: false, message: 'Could not reach the server.' };
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return { ok: false, message: body?.error?.message || `The name could not be claimed (HTTP ${response.status}).` };
  if (!keepClaim(body)) return { ok: false, message: 'This browser cannot store your name’s token, so the name cannot be yours here.' };
  return { ok: true };
}

/** POST /api/names/confirm with the token, retried a few times if the network fails. */
async function confirmClaim(token) {
  for (const wait of CONFIRM_RETRIES_MS) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const response = await fetch('/api/names/confirm', {
        method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
      await response.text().catch(() => ''); // read to the end: the connection is free again
      if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 429)) return response.ok;
    } catch { /* offline for a moment: try again */ }
  }
  return false;
}

export function forgetToken(name) {
  forgetPass(name);
  const store = storage();
  try {
    store?.removeItem(TOKEN_PREFIX + nameKey(name));
    store?.removeItem(TOKEN_PREFIX + oldKey(name));
  } catch { /* private mode */ }
}

/**
 * Releases `name` on the server with this browser's token and forgets the token.
 * Resolves with { ok, message }: ok when the name is free now (released, or not claimed
 * any more); otherwise the token is kept unless the server says it is not the name's.
 */
export async function releaseName(name) {
  const token = tokenFor(name);
  if (!token) return { ok: true, message: `You held no claim on “${name}”.` };
  let response;
  try {
    response = await fetch('/api/names/release', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: '{}',
    });
  } catch {
    return { ok: false, message: 'Could not reach the server to release your name. Try again.' };
  }
  const body = await response.json().catch(() => ({}));
  if (response.ok || response.status === 404) {
    forgetToken(name);
    return { ok: true, message: `The name “${name}” is free again.` };
  }
  if (body?.error?.code === 'name_taken') forgetToken(name); // the token is not the claim's
  return { ok: false, message: body?.error?.message || `The server refused the release (HTTP ${response.status}).` };
}
