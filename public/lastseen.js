// "Last seen" labels for the people list (PROTOCOL.md "Last seen"): pure functions of a
// time and "now", no DOM and no imports, so tests/unit/lastseen.test.mjs runs them in Node.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The local calendar day of a time, as a number that steps by one per day. */
function dayNumber(ms) {
  const d = new Date(ms);
  return Math.round(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / (24 * HOUR));
}

/** "just now" (under a minute, or a clock a little ahead), "5 min ago", "3 h ago" (under a
 *  day), "yesterday" (the local day before), else a date ("2 Dec", with the year when it
 *  is not this one). */
export function seenAgo(at, now = Date.now(), locale = undefined) {
  const ago = now - at;
  if (!Number.isFinite(ago) || ago < MINUTE) return 'just now';
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  if (ago < 24 * HOUR) return `${Math.floor(ago / HOUR)} h ago`;
  if (dayNumber(now) - dayNumber(at) === 1) return 'yesterday';
  const sameYear = new Date(now).getFullYear() === new Date(at).getFullYear();
  const options = { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) };
  return `on ${new Date(at).toLocaleDateString(locale, options)}`;
}

/** The line under an offline name. */
export const lastSeenText = (at, now = Date.now(), locale = undefined) => `last seen ${seenAgo(at, now, locale)}`;

/** The full local time, for the hover title. */
export const fullTime = (at, locale = undefined) =>
  new Date(at).toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' });
