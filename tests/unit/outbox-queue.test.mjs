// The offline outbox's rules (public/outbox-queue.js): order, which entries a tab takes, the bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adoptable, ordered, nextAt, entryFor, MAX_WAITING_PER_ROOM } from '../../public/outbox-queue.js';

const entry = (clientId, at, extra = {}) => ({
  clientId, room: 'r', nameKey: 'ann', tab: 't1', at, text: clientId, replyTo: null, attachment: null, ...extra,
});

test('entries are ordered by time, ties by client_id; nextAt never goes back', () => {
  assert.deepEqual(ordered([entry('b', 2), entry('c', 1), entry('a', 2)]).map((e) => e.clientId), ['c', 'a', 'b']);
  assert.equal(nextAt(10, 5), 11);
  assert.equal(nextAt(10, 50), 50);
});

test('a tab takes its own entries and those of gone tabs, of its name, never a live tab\'s', () => {
  const values = [entry('mine', 3), entry('gone', 1, { tab: 't0' }), entry('live', 2, { tab: 't2' }),
    entry('other-name', 0, { nameKey: 'bo' }), { clientId: 'junk' }];
  const { take, drop } = adoptable(values, { nameKey: 'ann', tab: 't1', liveTabs: new Set(['t1', 't2']) });
  assert.deepEqual(take.map((e) => e.clientId), ['gone', 'mine']);
  assert.deepEqual(drop.map((e) => e.clientId), ['junk']);
});

test('at most MAX_WAITING_PER_ROOM are taken, the oldest; entryFor keeps the send\'s fields', () => {
  const many = Array.from({ length: MAX_WAITING_PER_ROOM + 5 }, (_, i) => entry(`m${String(i).padStart(3, '0')}`, i));
  const { take } = adoptable(many, { nameKey: 'ann', tab: 't1', liveTabs: new Set() });
  assert.equal(take.length, MAX_WAITING_PER_ROOM);
  assert.equal(take[0].clientId, 'm000');
  const kept = entryFor({ clientId: 'c', text: 'hi', replyTo: 4, attachment: 'f1' }, { room: 'r', nameKey: 'ann', tab: 't1', at: 9 });
  assert.deepEqual(kept, { clientId: 'c', room: 'r', nameKey: 'ann', tab: 't1', at: 9, text: 'hi', replyTo: 4, attachment: 'f1' });
});
