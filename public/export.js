// The room's "Export" in the chat header: the owner of a room (either party of a direct
// message) downloads its whole history as JSON lines or Markdown. The request carries
// the name's token as `Authorization: Bearer` (names.js), never in its URL, so the file
// cannot come from a plain link: the page fetches it, and the browser holds the answer
// (a Blob) while it saves it under the name the server gave.

import { state, myName } from './state.js';
import { el, h, toast } from './dom.js';
import { isDmRoom } from './protocol.js';
import { authHeaders } from './names.js';

export function initExport() {
  for (const button of [el.exportJsonl, el.exportMd]) {
    button.addEventListener('click', () => download(button.dataset.format, button));
  }
  // A click anywhere else closes the menu.
  document.addEventListener('click', (event) => {
    if (el.exportMenu.open && !el.exportMenu.contains(event.target)) el.exportMenu.open = false;
  });
}

/** Shown to the room's owner, and in a direct message (its two parties are the only ones there). */
export function updateExport() {
  const room = state.view === 'chat' ? state.room : null;
  const allowed = Boolean(room) && (isDmRoom(room) || state.role === 'owner');
  el.exportMenu.hidden = !allowed;
  if (!allowed) el.exportMenu.open = false;
}

/** `attachment; filename="edgechat-general.md"` -> `edgechat-general.md`. */
function filenameOf(disposition, fallback) {
  const m = /filename="([^"]+)"/.exec(disposition || '');
  return m ? m[1] : fallback;
}

async function download(format, button) {
  const room = state.room;
  if (!room) return;
  button.disabled = true;
  try {
    const response = await fetch(`/room/${encodeURIComponent(room)}/export?format=${format}`, {
      headers: authHeaders(myName()),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      toast(answer.error?.message || `The export failed (HTTP ${response.status}).`);
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h('a', { href: url, download: filenameOf(response.headers.get('content-disposition'), `edgechat-${room}.${format}`), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The save has the Blob by now; give it a moment before the URL goes.
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
    el.exportMenu.open = false;
  } catch {
    toast('The export broke off: could not reach the server, or the connection dropped.');
  } finally {
    button.disabled = false;
  }
}
