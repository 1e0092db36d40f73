// Attachments: a file is uploaded through the Worker to the room (type, signature and
// size checked), stored in R2 (local R2 under `wrangler dev`), attached by its uploader
// to one message, served back with its type and safe headers, kept in D1 with the
// message, and deleted from R2 when its message is deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll, cid, sleep, bearer } from '../support/client.mjs';
import { expectErrorFrame } from '../support/expect.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

// A real 1x1 PNG.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' +
  '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');

// The uploader proves its claim with its token in the Authorization header.
function upload(room, name, body, { type = 'image/png', filename = 'dot.png', headers = {} } = {}) {
  const q = new URLSearchParams({ filename });
  return http(srv(), `/room/${room}/files?${q}`, {
    method: 'POST', body, headers: { 'content-type': type, ...bearer(srv(), name), ...headers },
  });
}

test('upload, attach, receive, download: the file travels with its message and keeps its type', async () => {
  const room = roomId('files');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const up = await upload(room, 'Ann', PNG, { filename: 'C:\\pics\\"dot".png' });
  assert.equal(up.status, 201, up.text);
  const file = up.json.attachment;
  assert.deepEqual({ ...file, id: 'x' }, { id: 'x', filename: 'dot.png', content_type: 'image/png', size: PNG.length });
  assert.match(file.id, /^[0-9a-f]{24}$/);
  assert.equal(up.json.url, `/room/${room}/files/${file.id}`);

  const id = cid();
  ann.send({ type: 'send', text: 'a dot', client_id: id, attachment: file.id });
  assert.equal((await ann.nextAck(id)).seq, 1);
  const got = (await bo.next('message')).message;
  assert.deepEqual(got.attachment, file);

  const res = await fetch(srv().url + up.json.url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-disposition'), /^inline; filename\*=UTF-8''dot\.png$/);
  assert.match(res.headers.get('content-security-policy'), /sandbox/);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), PNG);

  // History, REST and D1 carry the metadata.
  const later = await connect(srv(), room, 'Cy');
  assert.deepEqual(later.welcome.messages[0].attachment, file);
  const rows = await srv().d1(`SELECT attachment FROM messages WHERE room = '${room}' AND seq = 1`);
  assert.deepEqual(JSON.parse(rows[0].attachment), file);
  const page = await http(srv(), `/room/${room}/messages`);
  assert.deepEqual(page.json.messages[0].attachment, file);

  // A file other than an image is offered as a download.
  const txt = await upload(room, 'Bo', 'plain words', { type: 'text/plain; charset=utf-8', filename: 'notes.txt' });
  assert.equal(txt.status, 201, txt.text);
  const dl = await fetch(srv().url + txt.json.url);
  assert.match(dl.headers.get('content-disposition'), /^attachment; filename\*=UTF-8''notes\.txt$/);
  assert.equal(await dl.text(), 'plain words');
  await closeAll(ann, bo, later);
});

test('uploads are checked: size, type, signature, name, method; refusals store nothing', async () => {
  const room = roomId('badfiles');
  const tooBig = await upload(room, 'Ann', Buffer.alloc(10 * 1024 * 1024 + 1, 1), { type: 'text/plain' });
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.json.error.code, 'too_large');
  const atLimit = await upload(room, 'Ann', Buffer.alloc(10 * 1024 * 1024, 0x61), { type: 'text/plain', filename: 'big.txt' });
  assert.equal(atLimit.status, 201, 'exactly 10 MiB is accepted');
  const html = await upload(room, 'Ann', '<script>alert(1)</script>', { type: 'text/html' });
  assert.equal(html.status, 415);
  assert.equal(html.json.error.code, 'unsupported_type');
  const svg = await upload(room, 'Ann', '<svg onload="x()"/>', { type: 'image/svg+xml' });
  assert.equal(svg.status, 415);
  const fake = await upload(room, 'Ann', 'not a png at all', { type: 'image/png' });
  assert.equal(fake.status, 415);
  assert.match(fake.json.error.message, /does not look like image\/png/);
  const empty = await upload(room, 'Ann', Buffer.alloc(0), { type: 'text/plain' });
  assert.equal(empty.status, 400);
  const noToken = await http(srv(), `/room/${room}/files?name=Ann`, { method: 'POST', body: PNG, headers: { 'content-type': 'image/png' } });
  assert.equal(noToken.status, 401, 'a name is not a proof: uploading needs the token');
  assert.equal(noToken.json.error.code, 'unauthorized');
  const put = await http(srv(), `/room/${room}/files?name=Ann`, { method: 'PUT', body: PNG });
  assert.equal(put.status, 405);
  for (const bad of ['nope', '../x', 'ABCDEFGHIJKL']) {
    const r = await http(srv(), `/room/${room}/files/${bad}`);
    assert.equal(r.status, 404, bad);
    assert.equal(r.json.error.code, 'not_found');
  }
});

test('only the uploader attaches a file, once; deleting the message deletes the file', async () => {
  const room = roomId('ownfiles');
  const ann = await connect(srv(), room, 'Ann');
  const bo = await connect(srv(), room, 'Bo');
  const { json: { attachment: file, url } } = await upload(room, 'Ann', PNG);

  bo.send({ type: 'send', text: 'mine now', client_id: 'b1', attachment: file.id });
  expectErrorFrame(await bo.next('error'), 'not_found', { client_id: 'b1' });
  ann.send({ type: 'send', text: 'x', client_id: 'a0', attachment: 'f'.repeat(65) });
  expectErrorFrame(await ann.next('error'), 'bad_frame', { client_id: 'a0' });

  ann.send({ type: 'send', text: 'here', client_id: 'a1', attachment: file.id });
  const ack = await ann.nextAck('a1');
  ann.send({ type: 'send', text: 'here', client_id: 'a1', attachment: file.id }); // a resend
  assert.equal((await ann.nextAck('a1')).seq, ack.seq);
  ann.send({ type: 'send', text: 'again', client_id: 'a2', attachment: file.id });
  expectErrorFrame(await ann.next('error'), 'not_found', { client_id: 'a2' });

  // Another room cannot reach it either.
  const elsewhere = await http(srv(), `/room/${roomId('other')}/files/${file.id}`);
  assert.equal(elsewhere.status, 404);

  ann.send({ type: 'delete', seq: ack.seq });
  const u = await bo.next((f) => f.type === 'update' && f.message.deleted);
  assert.equal(u.message.attachment, undefined);
  const deadline = Date.now() + 5000;
  let status;
  do {
    status = (await fetch(srv().url + url)).status;
    if (status === 404) break;
    await sleep(100);
  } while (Date.now() < deadline);
  assert.equal(status, 404, 'the object is gone from R2');
  const d1 = await srv().d1(`SELECT deleted, attachment FROM messages WHERE room = '${room}'`);
  await sleep(500);
  const rows = await srv().d1(`SELECT deleted, attachment FROM messages WHERE room = '${room}'`);
  assert.deepEqual(rows, [{ deleted: 1, attachment: null }], JSON.stringify(d1));
  await closeAll(ann, bo);
});
