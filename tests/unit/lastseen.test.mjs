// The "last seen" labels (public/lastseen.js): each band and its edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seenAgo, lastSeenText, fullTime } from '../../public/lastseen.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
// Noon local time, so "yesterday" and "a day before that" do not hang on the time zone.
const NOW = new Date(2026, 11, 3, 12, 0, 0).getTime();

test('under a minute, or a little in the future, is "just now"', () => {
  assert.equal(seenAgo(NOW, NOW), 'just now');
  assert.equal(seenAgo(NOW - 59_999, NOW), 'just now');
  assert.equal(seenAgo(NOW + 5_000, NOW), 'just now');
  assert.equal(seenAgo(Number.NaN, NOW), 'just now');
});

test('minutes, then hours', () => {
  assert.equal(seenAgo(NOW - MIN, NOW), '1 min ago');
  assert.equal(seenAgo(NOW - 5 * MIN - 30_000, NOW), '5 min ago');
  assert.equal(seenAgo(NOW - 59 * MIN, NOW), '59 min ago');
  assert.equal(seenAgo(NOW - HOUR, NOW), '1 h ago');
  assert.equal(seenAgo(NOW - 3 * HOUR - 20 * MIN, NOW), '3 h ago');
  assert.equal(seenAgo(NOW - 23 * HOUR, NOW), '23 h ago');
});

test('a day or more: "yesterday" for the day before, else a date', () => {
  assert.equal(seenAgo(new Date(2026, 11, 2, 9, 0).getTime(), NOW), 'yesterday');
  assert.equal(seenAgo(new Date(2026, 11, 1, 9, 0).getTime(), NOW, 'en-GB'), 'on 1 Dec');
  assert.equal(seenAgo(new Date(2025, 5, 20, 9, 0).getTime(), NOW, 'en-GB'), 'on 20 Jun 2025');
});

test('the line and the hover title', () => {
  assert.equal(lastSeenText(NOW - 2 * MIN, NOW), 'last seen 2 min ago');
  const title = fullTime(new Date(2026, 11, 2, 9, 5).getTime(), 'en-GB');
  assert.match(title, /2 December 2026/);
  assert.match(title, /09:05/);
});
