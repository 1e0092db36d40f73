// Attachments in the web UI: the paperclip uploads a picture, which everyone sees inline
// (and a file as a download link); refusals are explained; deleting the message takes
// the picture away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, roomId, closeAll } from '../support/client.mjs';
import { useBrowserPerson, eventually, join, confirmedMessage } from '../support/browser.mjs';

const ctx = useBrowserPerson('attachments');
const room = roomId('attach');
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

test('attach a picture and a file; see them inline and as a link; refusals explained; delete removes', { timeout: 90_000 }, async () => {
  const { page } = ctx.person;
  await join(page, ctx.server, room, 'Ann');
  const bo = await connect(ctx.server, room, 'Bo');

  await page.fill('#message-input', 'a tiny picture');
  await page.setInputFiles('#file-input', { name: 'dot.png', mimeType: 'image/png', buffer: PNG });
  const m = (await bo.next('message')).message;
  assert.equal(m.text, 'a tiny picture');
  assert.equal(m.attachment.filename, 'dot.png');
  await confirmedMessage(page, 'a tiny picture');
  const img = `#messages .message[data-seq="${m.seq}"] .attachment-image img`;
  await eventually(async () => assert.equal(await page.$eval(img, (i) => i.complete && i.naturalWidth), 1));
  assert.equal(await page.inputValue('#message-input'), '', 'the composer is cleared');

  // A file without a caption is sent under its name, shown as a download link.
  await page.setInputFiles('#file-input', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  const t = (await bo.next('message')).message;
  assert.equal(t.text, 'notes.txt');
  const link = await eventually(() => page.$eval(`#messages .message[data-seq="${t.seq}"] .attachment-file`,
    (a) => ({ href: a.getAttribute('href'), text: a.textContent, download: a.getAttribute('download') })));
  assert.equal(link.href, `/room/${room}/files/${t.attachment.id}`);
  assert.match(link.text, /notes\.txt \(5 B\)/);
  assert.equal(link.download, 'notes.txt');

  // Refused by the server (not an accepted type) or by the page (too big): a clear toast.
  await page.setInputFiles('#file-input', { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<b>x</b>') });
  await eventually(async () => assert.match(await page.textContent('#toasts'), /not accepted/));
  await page.setInputFiles('#file-input', { name: 'huge.txt', mimeType: 'text/plain', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
  await eventually(async () => assert.match(await page.textContent('#toasts'), /huge\.txt is 10\.0 MB; files are limited to 10 MB/));
  await bo.expectNoFrame('message', 300);

  // Bo sees the picture go away when Ann deletes the message.
  await page.evaluate(() => { window.confirm = () => true; });
  await page.hover(`#messages .message[data-seq="${m.seq}"]`);
  await page.click(`#messages .message[data-seq="${m.seq}"] .message-actions button[aria-label="Delete message"]`);
  await bo.next((f) => f.type === 'update' && f.message.deleted);
  await eventually(async () => assert.equal(await page.$$eval(img, (e) => e.length), 0));
  const gone = await fetch(`${ctx.server.url}/room/${room}/files/${m.attachment.id}`);
  assert.equal(gone.status, 404);
  await closeAll(bo);
});
