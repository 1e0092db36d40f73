// Attachments in the web UI: the paperclip picks a file, which is uploaded to the room
// over HTTP (the server checks its type, signature and size) and then sent with the
// message as its `attachment`. Images show inline, other files as a download link.

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** What the server accepts (see check_upload in the protocol crate). */
export const ACCEPTED_TYPES = [
  'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'application/zip', 'text/plain',
];

import { authHeaders } from './names.js';

let app = null;

/** deps: { state, el, h, myName, toast, sendText, replyTarget, setReplyTo } */
export function initAttachments(deps) {
  app = deps;
  const { el } = deps;
  el.fileInput.accept = ACCEPTED_TYPES.join(',');
  el.attachButton.addEventListener('click', () => el.fileInput.click());
  el.fileInput.addEventListener('change', () => {
    const [file] = el.fileInput.files;
    el.fileInput.value = '';
    if (file) upload(file);
  });
}

const sizeLabel = (n) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

async function upload(file) {
  const { el, state } = app;
  if (file.size > MAX_FILE_BYTES) return app.toast(`${file.name} is ${sizeLabel(file.size)}; files are limited to 10 MB.`);
  const room = state.room;
  el.attachButton.disabled = true;
  el.attachStatus.hidden = false;
  el.attachStatus.textContent = `Uploading ${file.name}…`;
  try {
    // The file belongs to the name's claim: its token goes in the header, never the URL.
    const query = new URLSearchParams({ filename: file.name });
    const response = await fetch(`/room/${encodeURIComponent(room)}/files?${query}`, {
      method: 'POST', body: file,
      headers: authHeaders(app.myName(), { 'content-type': file.type || 'application/octet-stream', accept: 'application/json' }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) return app.toast(body.error?.message || `The upload failed (HTTP ${response.status}).`);
    if (state.room !== room) return; // left the room meanwhile
    const text = el.messageInput.value.trim() || file.name;
    if (app.sendText(text, app.replyTarget(), body.attachment.id)) {
      el.messageInput.value = '';
      app.setReplyTo(null);
    }
  } catch {
    app.toast(`Could not upload ${file.name}: check your connection and try again.`);
  } finally {
    el.attachButton.disabled = false;
    el.attachStatus.hidden = true;
    el.attachStatus.textContent = '';
  }
}

/** The attachment of a message: an inline image (a link to the full file) or a link. */
export function attachmentEl(message) {
  const { h } = app;
  const file = message.attachment;
  const url = `/room/${encodeURIComponent(message.room || app.state.room)}/files/${encodeURIComponent(file.id)}`;
  if (String(file.content_type).startsWith('image/')) {
    return h('a', { class: 'attachment attachment-image', href: url, target: '_blank', rel: 'noopener' },
      h('img', { src: url, alt: file.filename, loading: 'lazy' }));
  }
  return h('a', { class: 'attachment attachment-file', href: url, download: file.filename, rel: 'noopener' },
    h('span', { 'aria-hidden': 'true', text: '📎 ' }),
    h('span', { class: 'attachment-name', text: file.filename }),
    h('span', { class: 'attachment-size', text: ` (${sizeLabel(Number(file.size) || 0)})` }));
}
