// The wire contract, as the web client needs it: every limit, code and name rule the
// server enforces, declared once. The source of each is `docs/PROTOCOL.md` (and the Rust
// constant beside it); `crates/protocol/tests/js_constants.rs` reads this file and fails
// when a value here drifts from the Rust one. No DOM, no state: Node imports it as is.

// --- Limits (PROTOCOL.md "Limits"; edgechat_protocol::*) --------------------------------

/** Code points a message's text may have, after trimming (`MAX_TEXT_CHARS`). */
export const MAX_TEXT_CHARS = 4000;
/** Bytes a client frame may have; bigger ones are refused with too_large (`MAX_FRAME_BYTES`). */
export const MAX_FRAME_BYTES = 16 * 1024;
/** Code points in a name (`MAX_NAME_CHARS`). */
export const MAX_NAME_CHARS = 32;
/** Characters in a room id (`MAX_ROOM_CHARS`). */
export const MAX_ROOM_CHARS = 64;
/** Older history, per request: the server's default page (`DEFAULT_PAGE`). */
export const PAGE_SIZE = 50;
/** Missed messages after a reconnect, per request: the largest page (`MAX_PAGE`). */
export const CATCHUP_PAGE = 100;
/** A thread's replies, per request: the largest page (`MAX_PAGE`). */
export const THREAD_PAGE = 100;

// --- Close codes (PROTOCOL.md "Closing"; edgechat_room, not a dependency of protocol) -

/** A kicked or banned connection (`edgechat_room::CLOSE_REMOVED`). */
export const CLOSE_REMOVED = 4001;
/** A socket whose claim no longer holds its name (released or lapsed) though its pass
 *  admitted it (`edgechat_room::CLOSE_CLAIM_GONE`). */
export const CLOSE_CLAIM_GONE = 4003;
/** Closed for too many refused frames (`edgechat_room::limits::CLOSE_POLICY`). */
export const CLOSE_POLICY = 1008;

// --- Names, rooms, direct messages (PROTOCOL.md "Names", "Rooms", "Direct messages") -

/** Room ids: lowercase letters, digits, `-` and `_`, 1 to 64 of them. */
export const ROOM_RE = /^[a-z0-9_-]{1,64}$/;
/** What a name may not contain: control (Cc) and format (Cf) characters, line separators,
 *  variation selectors, fillers. */
export const BAD_NAME_RE = /[\p{Cc}\p{Cf}\u2028\u2029\ufe00-\ufe0f\u{e0100}-\u{e01ef}\u115f\u1160\u2800\u3164\uffa0]/u;
/** The id prefix of a direct message's room (`DM_PREFIX`). */
export const DM_PREFIX = 'dm--';
/** The WebSocket subprotocol, and the one that carries a token (`WS_PROTOCOL`, `WS_BEARER_PREFIX`). */
export const WS_PROTOCOL = 'edgechat';
export const WS_BEARER_PREFIX = 'edgechat.bearer.';
/** The subprotocol that carries a claim pass (`WS_PASS_PREFIX`). */
export const WS_PASS_PREFIX = 'edgechat.pass.';

// --- Presence (PROTOCOL.md "Status") ----------------------------------------------------

/** Each status the server knows, as shown. */
export const STATUS_LABELS = { online: 'Online', away: 'Away', dnd: 'Do not disturb' };
/** The most users one `users` page holds, and its default limit (`MAX_USERS_PAGE`;
 *  PROTOCOL.md "Presence 2"). */
export const MAX_USERS_PAGE = 200;

// --- Uploads (PROTOCOL.md "Files"; edgechat_protocol::files) -----------------------------

/** Bytes a file may have (`MAX_FILE_BYTES`). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** The content types the server accepts (see `check_upload`). */
export const ACCEPTED_TYPES = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'application/zip', 'text/plain',
];

// --- Search (PROTOCOL.md "Search"; edgechat_protocol::search) ----------------------------

/** Results per page (`DEFAULT_SEARCH_LIMIT`). */
export const SEARCH_PAGE = 20;
/** The shortest query sent, in code points (`SEARCH_MIN_CHARS`, the server's default). */
export const SEARCH_MIN_CHARS = 3;
/** The longest query, in code points (`MAX_SEARCH_CHARS`). */
export const MAX_SEARCH_CHARS = 200;
/** The deepest offset the server serves (`SEARCH_MAX_OFFSET`, the server's default). */
export const SEARCH_MAX_OFFSET = 200;

// --- Error codes (PROTOCOL.md "Errors"; edgechat_protocol::ErrorCode) --------------------

/** Every error code the server sends, socket and HTTP. */
export const ERROR_CODES = [
  'bad_frame', 'too_large', 'invalid_text', 'rate_limited', 'not_found', 'internal', 'invalid_room', 'invalid_name',
  'bad_request', 'forbidden', 'banned', 'unsupported_type', 'name_taken', 'unauthorized', 'room_exists',
  'quota_exceeded', 'too_many_sockets',
];

/** What the socket's error codes mean to a person. */
export const ERROR_MEANINGS = {
  bad_frame: 'The server did not understand that request.',
  too_large: 'This message is too large to send.',
  invalid_text: `Messages must be 1 to ${MAX_TEXT_CHARS} characters long.`,
  rate_limited: 'You are sending too fast.',
  not_found: 'That message does not exist in this room.',
  forbidden: 'You are not allowed to do that here.',
  internal: 'The server hit an error. Please try again.',
  too_many_sockets: 'Too many connections are open to this room.',
};

// --- The rules above, as the landing form checks them ----------------------------------

export const codePoints = (text) => [...text].length;
/** A name as the server shows it: trimmed, each run of inner whitespace one space. */
export const cleanName = (raw) => String(raw).trim().replace(/\s+/gu, ' ');
/** A room as typed (`#Team`) as its id (`team`). */
export const normalizeRoom = (raw) => String(raw).trim().replace(/^#/, '').toLowerCase();
export const isDmRoom = (room) => String(room).startsWith(DM_PREFIX);

/** Why a room id is refused, or null. */
export function roomError(room) {
  if (!room) return 'Choose a room to join.';
  if (room.length > MAX_ROOM_CHARS) return `Room names are at most ${MAX_ROOM_CHARS} characters.`;
  if (!ROOM_RE.test(room)) return 'Room names may only use letters a–z, digits, “-” and “_”.';
  return null;
}

/** Why a (cleaned) name is refused, or null. */
export function nameError(name) {
  const length = codePoints(name);
  if (length === 0) return 'Enter a name so others know who you are.';
  if (length > MAX_NAME_CHARS) return `Names are at most ${MAX_NAME_CHARS} characters (this one has ${length}).`;
  if (BAD_NAME_RE.test(name)) return 'Names cannot contain control or invisible characters.';
  return null;
}
