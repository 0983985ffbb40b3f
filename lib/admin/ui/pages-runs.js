// Runs across all jobs: status, time range (in the chosen zone), error text search, paging.
import { h, mount, jobHref, debounce } from './dom.js';
import { api } from './api.js';
import { toInputValue, fromInputValue, zoneLabel, tzMode } from './format.js';
import { select, statusOptions, RUN_STATUSES, Paging, runsTable } from './ui.js';

const LIMIT = 50;

export function runsPage({ query, setQuery, reload }) {
  const iso = (v) => {
    const d = new Date(v || NaN);
    return Number.isNaN(d.getTime()) ? '' : d.toISOString();
  };
  let syncedMode = null;
  const filters = {
    status: query.get('status') || '',
    q: query.get('q') || '',
    from: iso(query.get('from')),
    to: iso(query.get('to')),
    jobId: query.get('jobId') || '',
  };
  const paging = new Paging();
  const expanded = new Set();
  const tableBox = h('div', { class: 'table-wrap' });
  const pagerBox = h('div');
  const jobChip = h('span');

  const changed = () => {
    paging.reset();
    setQuery(filters);
    reload();
  };
  const status = select(statusOptions(RUN_STATUSES), filters.status, {
    class: 'input',
    'data-testid': 'runs-status',
    'aria-label': 'Filter by status',
    onchange: () => {
      filters.status = status.value;
      changed();
    },
  });
  const search = h('input', {
    type: 'search',
    class: 'input',
    placeholder: 'Search error / output text…',
    value: filters.q,
    'data-testid': 'runs-search',
    'aria-label': 'Search error text',
    oninput: debounce(() => {
      if (search.value.trim() === filters.q) return;
      filters.q = search.value.trim();
      changed();
    }, 300),
  });
  const range = (key, testid) => {
    const input = h('input', {
      type: 'datetime-local',
      class: 'input',
      'data-testid': testid,
      value: toInputValue(filters[key]),
      onchange: () => {
        const next = fromInputValue(input.value);
        if (next === filters[key]) return;
        filters[key] = next;
        changed();
      },
    });
    return input;
  };
  const from = range('from', 'runs-from');
  const to = range('to', 'runs-to');
  const zone = h('span', { class: 'muted small', 'data-testid': 'runs-zone' });
  const clear = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-link',
      onclick: () => {
        Object.assign(filters, { status: '', q: '', from: '', to: '', jobId: '' });
        status.value = '';
        search.value = '';
        from.value = '';
        to.value = '';
        changed();
      },
    },
    'Clear filters',
  );

  const el = h(
    'div',
    { class: 'page page-runs' },
    h('h1', null, 'Runs'),
    h(
      'div',
      { class: 'toolbar' },
      status,
      search,
      h('label', { class: 'field' }, 'From ', from),
      h('label', { class: 'field' }, 'To ', to),
      zone,
      jobChip,
      clear,
    ),
    tableBox,
    pagerBox,
  );

  function syncInputs() {
    // The inputs show the range in the chosen zone: rewritten only when the zone changes.
    if (syncedMode !== tzMode()) {
      syncedMode = tzMode();
      from.value = toInputValue(filters.from);
      to.value = toInputValue(filters.to);
    }
    zone.textContent = `(times in ${zoneLabel()})`;
    mount(
      jobChip,
      filters.jobId
        ? h(
            'span',
            { class: 'chip' },
            'job ',
            h('a', { href: jobHref(filters.jobId) }, filters.jobId),
            ' ',
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-icon',
                title: 'All jobs',
                onclick: () => {
                  filters.jobId = '';
                  changed();
                },
              },
              '×',
            ),
          )
        : null,
    );
  }

  async function load() {
    const page = await api.runs({
      status: filters.status,
      q: filters.q,
      from: filters.from,
      to: filters.to,
      jobId: filters.jobId,
      limit: LIMIT,
      cursor: paging.cursor,
    });
    return () => {
      syncInputs();
      paging.nextCursor = (page && page.nextCursor) || null;
      mount(tableBox, runsTable((page && page.items) || [], { showJob: true, expanded }));
      mount(pagerBox, paging.controls(reload));
    };
  }

  syncInputs();
  return { title: 'Runs', el, load };
}
