// Shared pieces: app state, error banner, notices, confirm dialog, badges, pager, runs table.
import { h, $, mount, jobHref } from './dom.js';
import { timeEl, duration, pretty } from './format.js';

/** What every page may read: filled from api/health. */
export const state = { readOnly: false, health: null };

// ---- error banner -------------------------------------------------------------------------------

let bannerSource = null;

/** Show an error (an ApiError, Error or string) in the banner. `source: 'load'` errors clear on the next good load. */
export function showError(err, { source = 'action', context } = {}) {
  const banner = $('#error-banner');
  let text = err && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
  if (err && err.code) text += ` (${err.code}${err.field ? `, field ${err.field}` : ''})`;
  if (context) text = `${context}: ${text}`;
  mount($('#error-text'), text);
  banner.hidden = false;
  bannerSource = source;
}

/** Hide the banner (only when it shows an error of `source`, if given). */
export function clearError(source) {
  if (source && bannerSource !== source) return;
  $('#error-banner').hidden = true;
  bannerSource = null;
}

let noticeTimer;
/** A short success notice. */
export function notify(text) {
  const el = $('#notice');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

// ---- confirm dialog -----------------------------------------------------------------------------

/** An in-page confirmation; resolves true when confirmed. */
export function confirmDialog(
  message,
  { ok = 'Confirm', danger = false, title = 'Please confirm' } = {},
) {
  const dialog = $('#confirm-dialog');
  mount($('#confirm-title'), title);
  mount($('#confirm-message'), message);
  const okBtn = $('#confirm-ok');
  okBtn.textContent = ok;
  okBtn.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.showModal();
    $('#confirm-cancel').focus();
  });
}

export function initDialog() {
  const dialog = $('#confirm-dialog');
  $('#confirm-ok').addEventListener('click', () => dialog.close('ok'));
  $('#confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
}

// ---- small components ---------------------------------------------------------------------------

const cls = (v) =>
  String(v)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');

export function badge(status, props = {}) {
  return h('span', { class: `badge badge-${cls(status)}`, ...props }, String(status));
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...children);
}

export function select(options, value, props) {
  return h(
    'select',
    props,
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
  );
}

export const JOB_STATUSES = ['pending', 'running', 'paused', 'completed', 'failed'];
export const RUN_STATUSES = ['running', 'success', 'failed'];
export const statusOptions = (list) => [['', 'All statuses'], ...list.map((v) => [v, v])];

export function empty(text, colspan) {
  return h('tr', { class: 'empty' }, h('td', { colspan }, text));
}

/** Keyset paging: the current cursor and a stack of the previous ones. */
export class Paging {
  constructor() {
    this.reset();
  }
  reset() {
    this.cursor = null;
    this.stack = [];
    this.nextCursor = null;
  }
  next() {
    if (!this.nextCursor) return false;
    this.stack.push(this.cursor);
    this.cursor = this.nextCursor;
    return true;
  }
  prev() {
    if (!this.stack.length) return false;
    this.cursor = this.stack.pop();
    return true;
  }
  /** Previous / Next buttons (built once, so that focus stays on them across refreshes); `go()` reloads. */
  controls(go) {
    if (!this.el) {
      this.prevBtn = h(
        'button',
        {
          class: 'btn',
          type: 'button',
          'data-testid': 'prev-page',
          onclick: () => this.prev() && go(),
        },
        '‹ Previous',
      );
      this.nextBtn = h(
        'button',
        {
          class: 'btn',
          type: 'button',
          'data-testid': 'next-page',
          onclick: () => this.next() && go(),
        },
        'Next ›',
      );
      this.label = h('span', { class: 'muted' });
      this.el = h('div', { class: 'pager' }, this.prevBtn, this.label, this.nextBtn);
    }
    this.prevBtn.disabled = !this.stack.length;
    this.nextBtn.disabled = !this.nextCursor;
    this.label.textContent = `Page ${this.stack.length + 1}`;
    return this.el;
  }
}

/** The outcome cells of a job's recent runs (given newest first; drawn oldest → newest, left → right). */
export function outcomeBar(recentRuns) {
  const runs = Array.isArray(recentRuns) ? recentRuns.slice().reverse() : [];
  if (!runs.length) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    {
      class: 'outcomes',
      'data-testid': 'outcomes',
      title: 'Recent runs, oldest left, newest right',
    },
    runs.map((r) => {
      const when = r.startAt ? timeEl(r.startAt).title : '';
      return h('span', {
        class: `cell cell-${cls(r.status)}`,
        title: `${r.status} · ${duration(r.duration)}${when ? ` · ${when}` : ''}`,
      });
    }),
  );
}

const TEXT_PREVIEW = 120;
const preview = (v) => {
  const t = pretty(v).replace(/\s+/g, ' ').trim();
  return t.length > TEXT_PREVIEW ? `${t.slice(0, TEXT_PREVIEW)}…` : t;
};

/**
 * A runs table. `expanded` (a Set of run ids) keeps which rows show their full output and error
 * across refreshes. `showJob` adds the job column.
 */
export function runsTable(runs, { showJob = false, expanded = new Set() } = {}) {
  const cols = [
    '',
    'Status',
    ...(showJob ? ['Job'] : []),
    'Attempt',
    'Scheduled at',
    'Started at',
    'Duration',
    'Trace id',
    'Error / output',
  ];
  const body = h('tbody');
  for (const run of runs) {
    const detail = h(
      'tr',
      {
        class: 'detail',
        'data-testid': 'run-detail',
        'data-run-id': run.id,
        hidden: !expanded.has(run.id),
      },
      h('td', { colspan: cols.length }, runDetail(run)),
    );
    const toggle = h(
      'button',
      {
        class: 'btn btn-icon',
        type: 'button',
        title: 'Show the full output and error',
        'aria-expanded': String(expanded.has(run.id)),
        'data-testid': 'run-expand',
        onclick: () => {
          const open = detail.hidden;
          detail.hidden = !open;
          toggle.setAttribute('aria-expanded', String(open));
          if (open) expanded.add(run.id);
          else expanded.delete(run.id);
        },
      },
      '▸',
    );
    const text = run.error ? preview(run.error) : preview(run.output);
    body.append(
      h(
        'tr',
        { 'data-testid': 'run-row', 'data-run-id': run.id, class: `run-${cls(run.status)}` },
        h('td', null, toggle),
        h('td', null, badge(run.status)),
        showJob
          ? h(
              'td',
              null,
              h('a', { href: jobHref(run.jobId), 'data-testid': 'run-job' }, String(run.jobId)),
            )
          : null,
        h('td', { class: 'num' }, String(run.attempt ?? '—')),
        h('td', null, timeEl(run.scheduledAt)),
        h('td', null, timeEl(run.startAt)),
        h(
          'td',
          { class: 'num' },
          run.status === 'running' && run.endAt == null ? 'running…' : duration(run.duration),
        ),
        h(
          'td',
          { class: 'mono small' },
          run.traceId ? String(run.traceId) : h('span', { class: 'muted' }, '—'),
        ),
        h('td', { class: ['clip', run.error ? 'err' : 'muted'] }, text || '—'),
      ),
      detail,
    );
  }
  if (!runs.length) body.append(empty('No runs.', cols.length));
  return h(
    'table',
    { class: 'table runs', 'data-testid': 'runs-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        cols.map((c) => h('th', { class: c === 'Attempt' || c === 'Duration' ? 'num' : null }, c)),
      ),
    ),
    body,
  );
}

function runDetail(run) {
  return h(
    'div',
    { class: 'run-detail' },
    h(
      'dl',
      { class: 'meta' },
      h('dt', null, 'Run id'),
      h('dd', { class: 'mono' }, String(run.id)),
      h('dt', null, 'Job'),
      h('dd', null, h('a', { href: jobHref(run.jobId) }, String(run.jobId))),
      h('dt', null, 'Started'),
      h('dd', null, timeEl(run.startAt, { abs: true })),
      h('dt', null, 'Ended'),
      h('dd', null, timeEl(run.endAt, { abs: true })),
      h('dt', null, 'Created'),
      h('dd', null, timeEl(run.createdAt, { abs: true })),
    ),
    h('h4', null, 'Error'),
    h(
      'pre',
      { class: run.error ? 'pre err' : 'pre muted', 'data-testid': 'run-error' },
      run.error ? pretty(run.error) : '(none)',
    ),
    h('h4', null, 'Output'),
    h(
      'pre',
      { class: 'pre', 'data-testid': 'run-output' },
      run.output !== undefined && run.output !== null && run.output !== ''
        ? pretty(run.output)
        : '(none)',
    ),
  );
}
