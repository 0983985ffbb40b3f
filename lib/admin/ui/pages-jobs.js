// Jobs: search, status filter, keyset paging, one row per job.
import { h, mount, jobHref, debounce } from './dom.js';
import { api } from './api.js';
import { timeEl, duration } from './format.js';
import {
  badge,
  select,
  statusOptions,
  JOB_STATUSES,
  Paging,
  outcomeBar,
  empty,
  state,
} from './ui.js';
import { openAddJob } from './pages-add.js';

const LIMIT = 50;
const COLS = ['Job', 'Status', 'Type', 'Schedule', 'Next fire', 'Last run', 'Recent runs'];

export function jobsPage({ query, setQuery, reload }) {
  const filters = { q: query.get('q') || '', status: query.get('status') || '' };
  const paging = new Paging();
  const tableBox = h('div', { class: 'table-wrap' });
  const pagerBox = h('div');

  const changed = () => {
    paging.reset();
    setQuery(filters);
    reload();
  };
  const search = h('input', {
    type: 'search',
    placeholder: 'Search id or name…',
    value: filters.q,
    'data-testid': 'jobs-search',
    'aria-label': 'Search jobs by id or name',
    class: 'input',
    oninput: debounce(() => {
      if (search.value.trim() === filters.q) return;
      filters.q = search.value.trim();
      changed();
    }, 250),
  });
  const status = select(statusOptions(JOB_STATUSES), filters.status, {
    'data-testid': 'jobs-status',
    'aria-label': 'Filter by status',
    class: 'input',
    onchange: () => {
      filters.status = status.value;
      changed();
    },
  });
  const addBtn = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-primary',
      'data-testid': 'add-job',
      disabled: state.readOnly,
      title: state.readOnly ? 'read-only' : 'Add a job',
      onclick: () => openAddJob(),
    },
    '+ Add job',
  );

  const el = h(
    'div',
    { class: 'page page-jobs' },
    h('div', { class: 'page-head' }, h('h1', null, 'Jobs'), addBtn),
    h('div', { class: 'toolbar' }, search, status),
    tableBox,
    pagerBox,
  );

  async function load() {
    const page = await api.jobs({
      q: filters.q,
      status: filters.status,
      limit: LIMIT,
      cursor: paging.cursor,
    });
    return () => render(page);
  }

  function render(page) {
    const items = (page && page.items) || [];
    paging.nextCursor = (page && page.nextCursor) || null;
    addBtn.disabled = state.readOnly;
    mount(
      tableBox,
      h(
        'table',
        { class: 'table jobs', 'data-testid': 'jobs-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            COLS.map((c) => h('th', null, c)),
          ),
        ),
        h(
          'tbody',
          null,
          items.length
            ? items.map(row)
            : empty(filters.q || filters.status ? 'No job matches.' : 'No jobs.', COLS.length),
        ),
      ),
    );
    mount(pagerBox, paging.controls(reload));
  }

  return { title: 'Jobs', el, load };
}

function row(job) {
  const last = Array.isArray(job.recentRuns) && job.recentRuns.length ? job.recentRuns[0] : null;
  const name = job.name && job.name !== job.id ? String(job.name) : null;
  return h(
    'tr',
    { 'data-testid': 'job-row', 'data-job-id': job.id },
    h(
      'td',
      { class: 'job-cell' },
      h('a', { href: jobHref(job.id), 'data-testid': 'job-link' }, name ?? String(job.id)),
      name ? h('div', { class: 'mono small muted' }, String(job.id)) : null,
    ),
    h('td', null, badge(job.status)),
    h('td', null, String(job.type ?? '')),
    h(
      'td',
      { class: 'sched' },
      String(job.scheduleText || job.cron || '—'),
      job.timezone ? h('span', { class: 'muted small' }, ` (${job.timezone})`) : null,
    ),
    h('td', null, timeEl(job.nextRunAt)),
    h(
      'td',
      { class: 'last' },
      last
        ? [
            badge(last.status),
            ' ',
            h('span', { class: 'muted' }, duration(last.duration)),
            ' ',
            timeEl(last.startAt),
          ]
        : h('span', { class: 'muted' }, 'never'),
    ),
    h('td', null, outcomeBar(job.recentRuns)),
  );
}
