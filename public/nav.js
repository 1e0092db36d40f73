// Going to a room: `/#room` opens a room, no hash shows the landing page. `navigate`
// changes the address; views.js's `route` (wired to 'route', hashchange and popstate
// by app.js) shows what it names.

import { normalizeRoom } from './protocol.js';
import { emit } from './events.js';

/** The room the address names ('' for none). */
export function hashRoom() {
  try { return normalizeRoom(decodeURIComponent(location.hash.slice(1))); } catch { return ''; }
}

/** Goes to a room, or to the landing page for an empty room. */
export function navigate(room) {
  if (!room) {
    history.pushState(null, '', location.pathname + location.search);
    emit('route');
  } else if (location.hash === `#${room}`) {
    emit('route');
  } else {
    location.hash = room; // hashchange routes
  }
}
