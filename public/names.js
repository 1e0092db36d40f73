// Name claims, browser side. The first connect with a free name claims it: the server
// answers with a `name_claimed` frame carrying a secret token, which this browser keeps
// in localStorage (one key per folded name) and sends on every later connect with that
// name. "Release name" gives the name up (POST /api/names/release) and forgets the token.

const TOKEN_PREFIX = 'edgechat.token.';

/** The key names compare by on the server: Unicode lowercase. */
const fold = (name) => String(name).trim().toLowerCase();

/** The token this browser holds for `name`, or null. */
export function tokenFor(name) {
  try { return localStorage.getItem(TOKEN_PREFIX + fold(name)); } catch { return null; }
}

/** Keeps the token of a `name_claimed` frame. */
export function keepClaim(frame) {
  if (typeof frame?.name !== 'string' || typeof frame?.token !== 'string') return;
  try { localStorage.setItem(TOKEN_PREFIX + fold(frame.name), frame.token); } catch { /* private mode */ }
}

export function forgetToken(name) {
  try { localStorage.removeItem(TOKEN_PREFIX + fold(name)); } catch { /* private mode */ }
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
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name, token }),
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
