// The app shell, kept for offline use (a classic script, loaded by sw.js's importScripts).
// A reload without a network still shows the app, so that messages typed offline (the
// outbox, outbox-store.js) can be seen and are sent once the connection is back.
//
// - The shell (the page, its modules, its stylesheet and icon) is cached at install, in a
//   cache whose name carries SHELL_VERSION; activating drops the shell caches of other versions.
// - Network first: a GET of the shell is fetched as usual, and each good answer refreshes the
//   cache, so a deploy is picked up by the next load; only when the fetch fails (offline) does
//   the cached copy answer. A navigation falls back to the cached page ('/'): rooms are in
//   the address's fragment, so every navigation is to the page.
// - Never cached, never answered from a cache: /room/ (sockets, history, uploads and their
//   files), /api/, other origins, and anything but GET. Those go to the network untouched.

const SHELL_VERSION = 'v1';
const SHELL_PREFIX = 'edgechat-shell-';
const SHELL_CACHE = `${SHELL_PREFIX}${SHELL_VERSION}`;

/** What the page needs to start: tests/unit/sw-cache.test.mjs checks it names every
 *  module, stylesheet and icon in public/. */
const SHELL_FILES = [
  '/',
  '/style.css',
  '/favicon.svg',
  '/app.js',
  '/attachments.js',
  '/changes.js',
  '/composer.js',
  '/dms.js',
  '/dom.js',
  '/events.js',
  '/export.js',
  '/frames.js',
  '/history.js',
  '/icons.js',
  '/lastseen.js',
  '/messages.js',
  '/names.js',
  '/nav.js',
  '/notify.js',
  '/outbox.js',
  '/outbox-queue.js',
  '/outbox-store.js',
  '/pins.js',
  '/presence.js',
  '/protocol.js',
  '/reads.js',
  '/render.js',
  '/roles.js',
  '/rooms.js',
  '/search.js',
  '/session.js',
  '/socket.js',
  '/state.js',
  '/views.js',
];

const SHELL_PATHS = new Set(SHELL_FILES);

/** The cache key a request is kept under ('/' for a navigation, the file's path for a
 *  shell file), or null when the request is none of the shell's business: anything but a
 *  same-origin GET, /room/ and /api/ (never a navigation target: sockets, history, uploads
 *  and their files are there), and any path the shell does not name (so the cache stays
 *  bounded, whatever query strings a page asks for). */
function shellKey(request) {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (/^\/(room|api)(\/|$)/.test(url.pathname)) return null;
  if (request.mode === 'navigate') return '/';
  return SHELL_PATHS.has(url.pathname) ? url.pathname : null;
}

self.addEventListener('install', (event) => {
  // `cache: 'reload'`: the copies kept come from the server, not from the HTTP cache.
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => cache.addAll(SHELL_FILES.map((file) => new Request(file, { cache: 'reload' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  if (key === null) return; // the network, as if there were no service worker
  event.respondWith(networkFirst(event, key));
});

async function networkFirst(event, key) {
  const { request } = event;
  try {
    const response = await fetch(request);
    // Only whole, good, same-origin answers are kept; a redirected one cannot answer a navigation.
    if (response.ok && response.type === 'basic' && !response.redirected && response.status === 200) {
      const copy = response.clone();
      // The answer goes at once; the worker stays alive until the copy is written.
      event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(key, copy))
        .catch(() => { /* a full or unavailable cache only means no offline copy */ }));
    }
    return response;
  } catch (offline) {
    const cached = await caches.match(key, { cacheName: SHELL_CACHE });
    if (cached) return cached;
    throw offline;
  }
}
