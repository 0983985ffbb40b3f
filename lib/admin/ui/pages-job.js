// One job: definition, next fires, actions (confirmed in-page), and its runs.
import { h, mount } from './dom.js';
import { api } from './api.js';
import { timeEl, duration } from './format.js';
import {
  badge,
  card,
  select,
  statusOptions,
  RUN_STATUSES,
  Paging,
  runsTable,
  state,
  confirmDialog,
  showError,
  clearError,
  notify,
} from './ui.js';

const LIMIT = 50;
const DATE_FIELDS = new Set(['runAt', 'nextRunAt', 'lastRunAt', 'createdAt', 'updatedAt']);
const MS_FIELDS = new Set(['interval', 'timeout', 'retryDelay', 'maxRetryDelay']);
const ORDER = [
  'id',
  'name',
  'description',
  'type',
  'status',
  'handlerName',
  'cron',
  'interval',
  'timezone',
  'runAt',
  'nextRunAt',
  'lastRunAt',
  'lastResult',
  'retryCount',
  'maxRetry',
  'misfirePolicy',
  'maxMisfires',
  'timeout',
  'retryDelay',
  'backoff',
  'maxRetryDelay',
  'jitter',
  'version',
  'createdAt',
  'updatedAt',
];
const NOT_IN_DEFINITION = new Set([
  'payload',
  'nextFires',
  'scheduleText',
  'cronText',
  'recentRuns',
]);

export function jobPage({ id, query, setQuery, reload }) {
  const filters = { status: query.get('status') || '' };
  const paging = new Paging();
  const expanded = new Set();
  let busy = false;

  const head = h('div', { class: 'page-head' });
  const body = h('div');
  const runsBox = h('div', { class: 'table-wrap' });
  const pagerBox = h('div');
  const runStatus = select(statusOptions(RUN_STATUSES), filters.status, {
    'data-testid': 'runs-status',
    'aria-label': 'Filter runs by status',
    class: 'input',
    onchange: () => {
      filters.status = runStatus.value;
      paging.reset();
      setQuery(filters);
      reload();
    },
  });
  const runsCard = card('Runs', h('div', { class: 'toolbar' }, runStatus), runsBox, pagerBox);
  const el = h(
    'div',
    { class: 'page page-job' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, '‹ Jobs')),
    head,
    body,
    runsCard,
  );

  async function load() {
    const [job, runs] = await Promise.all([
      api.job(id).catch((e) => {
        if (e.status === 404) return null;
        throw e;
      }),
      api
        .jobRuns(id, { status: filters.status, limit: LIMIT, cursor: paging.cursor })
        .catch((e) => {
          if (e.status === 404) return { items: [], nextCursor: null };
          throw e;
        }),
    ]);
    return () => render(job, runs);
  }

  function render(job, runs) {
    if (!job) {
      mount(head, h('h1', null, 'Job not found'));
      mount(
        body,
        h(
          'p',
          { class: 'card', 'data-testid': 'not-found' },
          'There is no job with the id ',
          h('code', null, id),
          ' (it may have been removed).',
        ),
      );
      runsCard.hidden = true;
      return;
    }
    runsCard.hidden = false;
    renderHead(job);
    renderBody(job);
    paging.nextCursor = runs.nextCursor || null;
    mount(runsBox, runsTable(runs.items || [], { expanded }));
    mount(pagerBox, paging.controls(reload));
  }

  function actionButton(kind, label, cls, job) {
    return h(
      'button',
      {
        type: 'button',
        class: `btn ${cls}`,
        'data-testid': `action-${kind}`,
        'data-action': kind,
        disabled: state.readOnly || busy,
        title: state.readOnly ? 'The dashboard is read-only' : null,
        onclick: () => act(kind, job),
      },
      label,
    );
  }

  function renderHead(job) {
    const st = job.status;
    const actions = [actionButton('trigger', '▶ Trigger', 'btn-primary', job)];
    if (st === 'paused') actions.push(actionButton('resume', 'Resume', '', job));
    else if (st === 'pending' || st === 'running')
      actions.push(actionButton('pause', 'Pause', '', job));
    actions.push(actionButton('remove', 'Remove', 'btn-danger', job));
    mount(
      head,
      h(
        'div',
        null,
        h('h1', null, String(job.name || job.id), ' ', badge(st, { 'data-testid': 'job-status' })),
        h('div', { class: 'mono muted' }, String(job.id)),
      ),
      h(
        'div',
        { class: 'actions' },
        state.readOnly ? h('span', { class: 'badge badge-readonly' }, 'read-only') : null,
        actions,
      ),
    );
  }

  function renderBody(job) {
    const dl = h('dl', { class: 'meta def', 'data-testid': 'job-definition' });
    const keys = [
      ...ORDER.filter((k) => k in job),
      ...Object.keys(job).filter((k) => !ORDER.includes(k) && !NOT_IN_DEFINITION.has(k)),
    ];
    for (const k of keys)
      dl.append(h('dt', null, k), h('dd', { 'data-field': k }, value(k, job[k])));
    const fires = Array.isArray(job.nextFires) ? job.nextFires : [];
    mount(
      body,
      h(
        'div',
        { class: 'grid-2' },
        card('Definition', dl),
        h(
          'div',
          null,
          card(
            'Schedule',
            h(
              'p',
              { class: 'big', 'data-testid': 'schedule-text' },
              String(job.scheduleText || '—'),
            ),
            job.cron
              ? h(
                  'p',
                  null,
                  h('code', null, String(job.cron)),
                  job.timezone ? h('span', { class: 'muted' }, ` in ${job.timezone}`) : null,
                )
              : null,
            job.cronText && job.cronText !== job.scheduleText
              ? h('p', { 'data-testid': 'cron-text' }, String(job.cronText))
              : null,
            h('h3', null, 'Next fires'),
            fires.length
              ? h(
                  'ol',
                  { class: 'fires', 'data-testid': 'next-fires' },
                  fires.map((f) =>
                    h(
                      'li',
                      null,
                      timeEl(f, { abs: true }),
                      ' ',
                      h('span', { class: 'muted' }, '(', timeEl(f), ')'),
                    ),
                  ),
                )
              : h(
                  'p',
                  { class: 'muted' },
                  job.status === 'paused' ? 'None while paused.' : 'None.',
                ),
          ),
          card(
            'Payload',
            h(
              'pre',
              { class: 'pre', 'data-testid': 'job-payload' },
              job.payload === undefined
                ? '(none)'
                : (JSON.stringify(job.payload, null, 2) ?? String(job.payload)),
            ),
          ),
        ),
      ),
    );
  }

  async function act(kind, job) {
    const name = String(job.name || job.id);
    const ask = {
      trigger: [`Run the job “${name}” now, outside its schedule?`, 'Trigger', false],
      pause: [`Pause the job “${name}”? It will not fire until resumed.`, 'Pause', false],
      resume: [`Resume the job “${name}”? It is scheduled again from now.`, 'Resume', false],
      remove: [
        `Remove the job “${name}”? Its definition is deleted; this cannot be undone.`,
        'Remove',
        true,
      ],
    }[kind];
    if (!(await confirmDialog(ask[0], { ok: ask[1], danger: ask[2] }))) return;
    busy = true;
    for (const b of head.querySelectorAll('[data-action]')) b.disabled = true;
    try {
      await api[kind](job.id);
      clearError('action');
      notify(
        {
          trigger: 'Triggered: a run starts now.',
          pause: 'Paused.',
          resume: 'Resumed.',
          remove: 'Removed.',
        }[kind],
      );
      busy = false;
      if (kind === 'remove') location.hash = '#/jobs';
      else reload();
    } catch (e) {
      busy = false;
      showError(e, { context: `${ask[1]} failed` });
      for (const b of head.querySelectorAll('[data-action]')) b.disabled = state.readOnly;
    }
  }

  return { title: `Job ${id}`, el, load };
}

function value(key, v) {
  if (v === null || v === undefined || v === '')
    return h('span', { class: 'muted' }, v === '' ? '(empty)' : '—');
  if (DATE_FIELDS.has(key))
    return [timeEl(v, { abs: true }), ' ', h('span', { class: 'muted' }, '(', timeEl(v), ')')];
  if (MS_FIELDS.has(key) && typeof v === 'number') return `${v} ms (${duration(v)})`;
  if (key === 'status') return badge(v);
  if (typeof v === 'object') return h('code', null, JSON.stringify(v));
  if (key === 'id' || key === 'handlerName') return h('code', null, String(v));
  return String(v);
}
