// edgechat web UI: full-text search (GET /api/search). A panel under the room header
// searches this room or every room; a result shows its room, author, time and a snippet
// whose matching words are <mark>ed, built from text nodes only. Clicking a result jumps
// to the message (history.js loads the history around it and highlights it).
import { state } from './state.js';
import { h, timeEl, fullDate } from './dom.js';
import { jumpToMessage } from './history.js';
// The server's defaults: a shorter query is not sent, and results stop at the deepest
// page the server serves.
import {
  SEARCH_PAGE as PAGE, SEARCH_MIN_CHARS as MIN_CHARS, SEARCH_MAX_OFFSET as MAX_OFFSET, MAX_SEARCH_CHARS,
} from './protocol.js';

const DEBOUNCE_MS = 300;

const el = Object.fromEntries([
  'search-toggle', 'search-panel', 'search-form', 'search-input', 'search-scope', 'search-close',
  'search-status', 'search-results', 'search-more',
].map((id) => [id.replace(/-(\w)/g, (_, c) => c.toUpperCase()), document.getElementById(id)]));

const search = {
  query: null,   // the query shown: { q, room } (room null for every room)
  offset: 0,     // results shown so far
  seq: 0,        // numbers requests, so that a late answer to an old query is dropped
  timer: 0,
};

/** The query the panel asks for now, or null when the box is empty. */
function currentQuery() {
  const q = el.searchInput.value.trim();
  if (!q) return null;
  return { q, room: el.searchScope.value === 'room' ? state.room : null };
}

function setStatus(text) {
  el.searchStatus.textContent = text;
}

/** Runs the query in the box from its first page (more: the next page of the same one). */
async function runSearch({ more = false } = {}) {
  clearTimeout(search.timer);
  const query = more ? search.query : currentQuery();
  if (!more) {
    search.query = query;
    search.offset = 0;
    el.searchResults.replaceChildren();
    el.searchMore.hidden = true;
  }
  if (!query) return setStatus('');
  const chars = [...query.q].length;
  if (chars < MIN_CHARS) return setStatus(`Type at least ${MIN_CHARS} characters to search.`);
  if (chars > MAX_SEARCH_CHARS) return setStatus(`The search is longer than ${MAX_SEARCH_CHARS} characters.`);
  const id = ++search.seq;
  const params = new URLSearchParams({ q: query.q, limit: String(PAGE), offset: String(search.offset) });
  if (query.room) params.set('room', query.room);
  setStatus('Searching…');
  let answer;
  try {
    const response = await fetch(`/api/search?${params}`, { headers: { accept: 'application/json' } });
    answer = await response.json();
    if (!response.ok) throw new Error(answer?.error?.message || `HTTP ${response.status}`);
  } catch (error) {
    if (id === search.seq) setStatus(error instanceof SyntaxError ? 'The search failed. Try again.' : error.message);
    return undefined;
  }
  if (id !== search.seq) return undefined; // a newer search is under way
  const results = Array.isArray(answer.results) ? answer.results : [];
  search.offset += results.length;
  el.searchResults.append(...results.map(resultItem));
  const deepest = search.offset > MAX_OFFSET;
  el.searchMore.hidden = !answer.has_more || deepest;
  if (search.offset === 0) setStatus(query.room ? `Nothing found in #${query.room}.` : 'Nothing found.');
  else if (answer.has_more && deepest) setStatus(`${search.offset}+ results: add a word to narrow the search.`);
  else setStatus(`${search.offset}${answer.has_more ? '+' : ''} result${search.offset === 1 ? '' : 's'}`);
  return undefined;
}

/** A snippet: plain parts as text nodes, hits as <mark>. */
function snippetEl(parts) {
  const node = h('span', { class: 'search-snippet' });
  for (const part of Array.isArray(parts) ? parts : []) {
    if (typeof part?.text !== 'string') continue;
    node.append(part.hit ? h('mark', { text: part.text }) : document.createTextNode(part.text));
  }
  return node;
}

function resultItem(result) {
  const open = () => { // the panel closes so as not to cover the message; it keeps its results
    togglePanel(false);
    jumpToMessage(result.room, result.seq);
  };
  const time = timeEl(result.ts, 'search-result-time');
  time.textContent = new Date(result.ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  time.title = fullDate(result.ts);
  return h('li', { 'data-room': result.room, 'data-seq': result.seq },
    h('button', { type: 'button', class: 'search-result', onclick: open },
      h('span', { class: 'search-result-meta' },
        h('span', { class: 'search-result-room', text: `#${result.room}` }),
        h('span', { class: 'search-result-name', text: result.name }),
        time),
      snippetEl(result.snippet)));
}

function togglePanel(open = el.searchPanel.hidden) {
  el.searchPanel.hidden = !open;
  el.searchToggle.setAttribute('aria-expanded', String(open));
  if (open) {
    el.searchInput.focus();
    el.searchInput.select();
  } else {
    el.searchToggle.focus();
  }
}

function init() {
  el.searchToggle.addEventListener('click', () => togglePanel());
  el.searchClose.addEventListener('click', () => togglePanel(false));
  el.searchForm.addEventListener('submit', (event) => { event.preventDefault(); runSearch(); });
  el.searchInput.addEventListener('input', () => {
    clearTimeout(search.timer);
    search.timer = setTimeout(runSearch, DEBOUNCE_MS);
  });
  el.searchScope.addEventListener('change', () => runSearch());
  el.searchMore.addEventListener('click', () => runSearch({ more: true }));
  el.searchPanel.addEventListener('keydown', (event) => { if (event.key === 'Escape') togglePanel(false); });
  // Another room: a search of "this room" is about the old one, so it starts over.
  window.addEventListener('hashchange', () => {
    if (search.query?.room && search.query.room !== state.room && !state.jump) runSearch();
  });
}

init();
