// Last seen (issue 13 item 7): when a name's last socket leaves, the others hear when
// (`user_left.at`); a newcomer's welcome, a resume and GET /room/:id/users carry the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, http, GENEROUS_LIMITS } from '../support/server.mjs';
import { connect, roomId, closeAll } from '../support/client.mjs';

const ctx = useServer({ vars: GENEROUS_LIMITS });
const srv = () => ctx.server;

test('leave gives the others `at`; a newcomer, a resume, /users and a restart keep the list', { timeout: 180_000 }, async () => {
  const room = roomId('seen');
  const a = await connect(srv(), room, 'Anna');
  const b = await connect(srv(), room, 'Boris');
  try {
    const before = Date.now();
    await b.close();
    const left = await a.next('user_left');
    assert.equal(left.user.name, 'Boris');
    assert.ok(left.at >= before - 1000 && left.at <= Date.now() + 1000, `at ${left.at}`);

    const c = await connect(srv(), room, 'Cyril');
    assert.deepEqual(c.welcome.last_seen, [{ name: 'Boris', at: left.at }]);
    const resumed = await connect(srv(), room, 'Dora', { since: 0 });
    assert.deepEqual(resumed.welcome.last_seen, c.welcome.last_seen, 'a resume ends with the same list');

    const res = await http(srv(), `/room/${room}/users`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.last_seen, [{ name: 'Boris', at: left.at }]);
    // Online names are never "last seen".
    assert.ok(!res.json.last_seen.some((e) => e.name === 'Anna'));
    await closeAll(c, resumed);
  } finally {
    await closeAll(a);
  }
  // A restart keeps it (the room's own storage).
  await srv().restart();
  const e = await connect(srv(), room, 'Emil');
  try {
    assert.ok(e.welcome.last_seen.some((x) => x.name === 'Boris'), JSON.stringify(e.welcome.last_seen));
  } finally {
    await closeAll(e);
  }
});
