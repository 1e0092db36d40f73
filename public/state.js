// The client's one state: the room shown, the socket, the session of that room (see
// session.js: pending messages, resume point, the list by seq), its roles, people,
// typing and read position, and the small functions that change it. Every module
// imports `state` from here (window.edgechat.state, for debugging and the tests). No DOM.

import { createSession } from './session.js';
import { nameKey } from './names.js';

const NAME_KEY = 'edgechat.name';

function loadName() {
  try { return localStorage.getItem(NAME_KEY) || ''; } catch { return ''; }
}

/** One room at a time. The session's fields (session.js `createSession`) live here too. */
export const state = {
  name: loadName(),      // the name chosen on the landing page
  status: 'online',      // chosen presence, kept across rooms and reconnects
  view: null,            // 'landing' | 'chat'
  room: null,            // the room shown
  me: null,              // our User, from the welcome
  socket: null,          // the current WebSocket, or null
  attempt: 0,            // reconnect attempts since the last welcome
  refusal: null,         // why the room refuses us for now (a cap, a 1008 close), for the banner
  reconnectAt: 0,        // when the scheduled reconnect runs
  timers: { reconnect: 0, countdown: 0, ping: 0, hold: 0, usersPage: 0 },
  lastFrameAt: 0,        // when the socket last heard anything (dead detection)
  restored: false,       // the list was reopened from its stash (see views.js)
  ...createSession(),    // welcomed, everConnected, usedSince, messages, seqs, rev, history, pending, holdUntil
  owner: null,           // the room's owner's name (welcome, `roles`); null in a direct message
  moderators: [],        // the names of the room's moderators
  role: null,            // ours here: 'owner' | 'moderator' | null
  pins: [],              // the room's pinned messages (welcome, `pins`): { seq, name, text, by, ts }
  readSeq: 0,            // the last seq we have read here (the server keeps it per name)
  peerReadSeq: null,     // in a direct message: how far the other name has read
  readTimer: 0,
  detached: false,       // showing a window of older history (a jump), not the live end
  jump: null,            // a message to show once it is loaded: { room, seq, loading }
  users: new Map(),      // folded name -> User
  userCount: null,       // how many are here (presence 2), null from a server without it
  usersPartial: false,   // over the room's list size: `users` holds the pages loaded so far
  usersMore: null,       // a partial list's next page: { after: name | null }, null when all are in
  usersLoading: false,   // a `users` page was asked for and has not come
  lastSeen: new Map(),   // folded name -> { name, at }: who was here and is not (welcome, leaves)
  typingNames: [],       // who is typing (never us)
  typingOn: false,       // we told the room we are typing
  lastTypingSent: 0,
  unread: 0,             // messages that arrived while the tab was hidden
};

/** The key names compare by, as the server folds them (NFKC and case folding). */
export const key = nameKey;
/** Our name: as the welcome gave it, else as chosen. */
export const myName = () => state.me?.name || state.name;
export const isMe = (name) => key(name) === key(myName());
export const isMine = (message) => isMe(message.name);

/** Keeps the chosen name (in localStorage when it can). */
export function saveName(name) {
  state.name = name;
  try { localStorage.setItem(NAME_KEY, name); } catch { /* private mode: keep it in memory */ }
}

/** What leaving a room forgets (the list is cleared apart, by messages.js). */
export function resetRoom() {
  Object.assign(state, {
    holdUntil: 0, room: null, me: null, everConnected: false, attempt: 0, unread: 0, pending: new Map(),
    users: new Map(), userCount: null, usersPartial: false, usersMore: null, usersLoading: false, lastSeen: new Map(), typingNames: [], typingOn: false, lastTypingSent: 0, rev: null, owner: null, moderators: [],
    role: null, readSeq: 0, restored: false, refusal: null, pins: [],
  });
}
