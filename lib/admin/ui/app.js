// Boot, hash router, time-zone switch, live updates.
import { $, mount, h, debounce } from './dom.js';
import { api, connectEvents } from './api.js';
import { tzMode, setTzMode, tickTimes } from './format.js';
import { state, showError, clearError, initDialog } from './ui.js';
import { overviewPage } from './pages-overview.js';
import { jobsPage } from './pages-jobs.js';
import { jobPage } from './pages-job.js';
import { runsPage } from './pages-runs.js';

const main = $('#main');
let current = null; // { page, nav }
let seq = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  return { path, query: new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1)) };
}

/** Write the filters into the hash without a navigation (so a reload or a shared link keeps them). */
function setQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const str = q.toString();
  history.replaceState(history.state, '', `#${path}${str ? `?${str}` : ''}`);
}

function route() {
  const { path, query } = parseHash();
  const ctx = { query, setQuery: (p) => setQuery(path, p), reload: () => load() };
  let m;
  if (path === '/' || path === '') return [overviewPage(ctx), 'overview'];
  if (/^\/jobs\/?$/.test(path)) return [jobsPage(ctx), 'jobs'];
  if ((m = /^\/jobs\/(.+)$/.exec(path))) {
    let id;
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = m[1];
    }
    return [jobPage({ ...ctx, id }), 'jobs'];
  }
  if (/^\/runs\/?$/.test(path)) return [runsPage(ctx), 'runs'];
  return [
    {
      title: 'Not found',
      el: h(
        'div',
        { class: 'page' },
        h('h1', null, 'Not found'),
        h('p', null, h('a', { href: '#/' }, 'Back to the overview')),
      ),
      load: null,
    },
    '',
  ];
}

function navigate() {
  clearError();
  const [page, nav] = route();
  current = page;
  for (const a of document.querySelectorAll('.nav a'))
    a.classList.toggle('active', a.dataset.nav === nav);
  document.title = `${page.title} · Jobs admin`;
  mount(main, page.el);
  load();
}

/** Fetch and render the current page; a stale answer (newer request or other page) is dropped. */
async function load() {
  const page = current;
  if (!page || !page.load) return;
  const mine = ++seq;
  main.setAttribute('aria-busy', 'true');
  try {
    const render = await page.load();
    if (mine !== seq || page !== current) return;
    render();
    clearError('load');
  } catch (e) {
    if (mine !== seq || page !== current) return;
    showError(e, { source: 'load', context: 'Loading failed' });
  } finally {
    if (mine === seq) main.removeAttribute('aria-busy');
  }
}

// ---- header: time zone switch, read-only flag, live indicator ----------------------------------

function renderTz() {
  const btn = $('#tz-toggle');
  const utc = tzMode() === 'utc';
  btn.textContent = utc ? 'UTC' : 'Local';
  btn.title = utc ? 'Times in UTC: click for local time' : 'Times in local time: click for UTC';
  btn.setAttribute('aria-pressed', String(!utc));
}

async function loadHealth() {
  try {
    const hl = await api.health();
    state.health = hl;
    state.readOnly = !!hl.readOnly;
  } catch {
    /* the page load reports errors */
  }
  $('#read-only').hidden = !state.readOnly;
}

// Events while the tab is hidden only mark the page stale: it is refreshed when shown again.
let stale = false;
const refreshSoon = debounce(async () => {
  if (document.hidden) {
    stale = true;
    return;
  }
  await loadHealth();
  load();
}, 300);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && stale) {
    stale = false;
    refreshSoon();
  }
});

/** `status`: 'connecting' | 'live' | 'reconnecting' (from connectEvents). */
function setLive(status) {
  const el = $('#live-indicator');
  const connected = status === 'live';
  el.dataset.state = connected ? 'connected' : status;
  el.textContent = connected ? 'live' : `${status}…`;
  el.title = connected
    ? 'Live updates: connected'
    : `Live updates: not connected (${status}); the page refreshes when connected again`;
}

async function boot() {
  // Served at /<path> (no slash): move to the base URL, so that '#/…' links stay in this document.
  const base = new URL(document.baseURI);
  if (location.pathname !== base.pathname && `${location.pathname}/` === base.pathname) {
    history.replaceState(null, '', base.pathname + location.search + location.hash);
  }
  initDialog();
  $('#error-close').addEventListener('click', () => clearError());
  $('#tz-toggle').addEventListener('click', () => {
    setTzMode(tzMode() === 'utc' ? 'local' : 'utc');
    renderTz();
    load();
  });
  renderTz();
  setLive('connecting');
  await loadHealth();
  window.addEventListener('hashchange', navigate);
  navigate();
  let opened = false;
  connectEvents({
    onState: setLive,
    onEvent: () => refreshSoon(),
    // After a reconnection events may have been missed: refresh.
    onOpen: () => {
      if (opened) refreshSoon();
      opened = true;
    },
  });
  setInterval(() => tickTimes(main), 5000);
}

boot();
