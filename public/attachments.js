// Attachments in the web UI: the paperclip picks a file, which is uploaded to the room
// over HTTP (the server checks its type, signature and size) and then sent with the
// message as its `attachment`. How an attachment shows (an inline image, a download
// link) is render.js's.

import { state, myName } from './state.js';
import { el, toast } from './dom.js';
import { MAX_FILE_BYTES, ACCEPTED_TYPES } from './protocol.js';
import { sizeLabel } from './render.js';
import { sendText } from './outbox.js';
import { replyTarget, setReplyTo } from './changes.js';
import { authHeaders } from './names.js';

/** Wires the paperclip and the file picker. */
export function initAttachments() {
  el.fileInput.accept = ACCEPTED_TYPES.join(',');
  el.attachButton.addEventListener('click', () => el.fileInput.click());
  el.fileInput.addEventListener('change', () => {
    const [file] = el.fileInput.files;
    el.fileInput.value = '';
    if (file) upload(file);
  });
}

async function upload(file) {
  if (file.size > MAX_FILE_BYTES) return toast(`${file.name} is ${sizeLabel(file.size)}; files are limited to 10 MB.`);
  const room = state.room;
  el.attachButton.disabled = true;
  el.attachStatus.hidden = false;
  el.attachStatus.textContent = `Uploading ${file.name}…`;
  try {
    // The file belongs to the name's claim: its token goes in the header, never the URL.
    const query = new URLSearchParams({ filename: file.name });
    const response = await fetch(`/room/${encodeURIComponent(room)}/files?${query}`, {
      method: 'POST', body: file,
      headers: authHeaders(myName(), { 'content-type': file.type || 'application/octet-stream', accept: 'application/json' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return toast(body.error?.message || `The upload failed (HTTP ${response.status}).`);
    if (state.room !== room) return; // left the room meanwhile
    const text = el.messageInput.value.trim() || file.name;
    if (sendText(text, replyTarget(), body.attachment.id)) {
      el.messageInput.value = '';
      setReplyTo(null);
    }
  } catch {
    toast(`Could not upload ${file.name}: check your connection and try again.`);
  } finally {
    el.attachButton.disabled = false;
    el.attachStatus.hidden = true;
    el.attachStatus.textContent = '';
  }
}
