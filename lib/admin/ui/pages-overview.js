// Overview: 24 h counts, the hourly chart, failing jobs, health and cluster instances.
import { h, mount, jobHref } from './dom.js';
import { api } from './api.js';
import { timeEl, duration, zoneLabel } from './format.js';
import { runsChart, hourlySlots, legend } from './chart.js';
import { card, badge, state, empty } from './ui.js';

const HOUR = 3_600_000;

function tile(label, value, { tone, testid, href } = {}) {
  const v = h('div', { class: 'tile-value', 'data-testid': testid }, String(value));
  return h(
    href ? 'a' : 'div',
    { class: ['tile', tone && `tile-${tone}`], href },
    v,
    h('div', { class: 'tile-label' }, label),
  );
}

export function overviewPage() {
  const tiles = h('div', { class: 'tiles' });
  const chartBox = h('div', { class: 'chart-box' }, h('p', { class: 'muted' }, 'Loading…'));
  const failing = h('div');
  const health = h('div');
  const cluster = h('div');
  const el = h(
    'div',
    { class: 'page page-overview' },
    h('h1', null, 'Overview'),
    tiles,
    h(
      'div',
      { class: 'grid-2' },
      card('Runs per hour, last 24 h', legend(), chartBox),
      card('Failing now (last hour)', failing),
    ),
    h('div', { class: 'grid-2' }, card('Scheduler health', health), cluster),
  );

  async function load() {
    const now = Date.now();
    const from = new Date(now - 24 * HOUR).toISOString();
    const data = await Promise.all([
      api.stats({ from, bucket: '1h' }),
      api.health(),
      api.runs({ status: 'failed', from: new Date(now - HOUR).toISOString(), limit: 50 }),
    ]);
    return () => render(now, ...data);
  }

  function render(now, stats, hl, failed) {
    state.health = hl;
    state.readOnly = !!hl.readOnly;
    const list = Array.isArray(stats) ? stats : [];
    const ok = list.reduce((n, b) => n + (Number(b.succeeded) || 0), 0);
    const ko = list.reduce((n, b) => n + (Number(b.failed) || 0), 0);

    mount(
      tiles,
      tile('succeeded, last 24 h', ok, {
        tone: 'ok',
        testid: 'stat-succeeded',
        href: '#/runs?status=success',
      }),
      tile('failed, last 24 h', ko, {
        tone: ko ? 'fail' : null,
        testid: 'stat-failed',
        href: '#/runs?status=failed',
      }),
      tile('running now', hl.runningNow ?? 0, {
        tone: 'run',
        testid: 'stat-running',
        href: '#/runs?status=running',
      }),
      tile('queued', hl.queuedNow ?? 0, { testid: 'stat-queued' }),
      tile('jobs without handler', hl.jobsWithoutHandler ?? 0, {
        tone: hl.jobsWithoutHandler ? 'warn' : null,
        testid: 'stat-no-handler',
      }),
    );

    mount(
      chartBox,
      runsChart(hourlySlots(list, now - 24 * HOUR, now)),
      h('p', { class: 'muted small' }, `Hours in ${zoneLabel()}.`),
    );

    renderFailing((failed && failed.items) || []);
    renderHealth(hl);
    renderCluster(hl);
  }

  function renderFailing(runs) {
    const byJob = new Map();
    for (const r of runs) {
      const g = byJob.get(r.jobId) || { jobId: r.jobId, count: 0, last: r };
      g.count += 1;
      if (Date.parse(r.startAt) > Date.parse(g.last.startAt)) g.last = r;
      byJob.set(r.jobId, g);
    }
    const rows = [...byJob.values()].sort((a, b) => b.count - a.count);
    mount(
      failing,
      h(
        'div',
        { class: 'scroll-x' },
        h(
          'table',
          { class: 'table', 'data-testid': 'failing-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Job'),
              h('th', { class: 'num' }, 'Failures'),
              h('th', null, 'Last'),
              h('th', null, 'Last error'),
            ),
          ),
          h(
            'tbody',
            null,
            rows.length
              ? rows.map((g) =>
                  h(
                    'tr',
                    { 'data-testid': 'failing-row', 'data-job-id': g.jobId },
                    h('td', null, h('a', { href: jobHref(g.jobId) }, String(g.jobId))),
                    h('td', { class: 'num' }, String(g.count)),
                    h('td', null, timeEl(g.last.startAt)),
                    h(
                      'td',
                      {
                        class: 'clip fill err',
                        title: g.last.error ? String(g.last.error).slice(0, 500) : null,
                      },
                      g.last.error ? String(g.last.error) : '—',
                    ),
                  ),
                )
              : empty('No failed runs in the last hour.', 4),
          ),
        ),
      ),
      runs.length >= 50
        ? h(
            'p',
            { class: 'muted small' },
            'Showing the 50 latest failures. ',
            h('a', { href: '#/runs?status=failed' }, 'All failed runs'),
          )
        : null,
    );
  }

  function renderHealth(hl) {
    const lag = hl.oldestDueLagMs;
    mount(
      health,
      h(
        'dl',
        { class: 'meta', 'data-testid': 'health' },
        h('dt', null, 'Scheduler'),
        h(
          'dd',
          null,
          hl.started
            ? badge('started', { class: 'badge badge-success' })
            : badge('stopped', { class: 'badge badge-failed' }),
        ),
        h('dt', null, 'Storage'),
        h(
          'dd',
          null,
          hl.storageReachable
            ? badge('reachable', { class: 'badge badge-success' })
            : [
                badge('unreachable', { class: 'badge badge-failed' }),
                ' ',
                h('span', { class: 'err' }, String(hl.storageError ?? '')),
              ],
        ),
        h('dt', null, 'Oldest due lag'),
        h(
          'dd',
          { class: lag > 5000 ? 'warn-text' : null },
          lag === null || lag === undefined ? '—' : duration(lag),
        ),
        h('dt', null, 'Mode'),
        h('dd', null, hl.readOnly ? 'read-only' : 'read-write'),
        hl.cluster
          ? [
              h('dt', null, 'This instance'),
              h('dd', { class: 'mono' }, String(hl.cluster.instanceId)),
              h('dt', null, 'Lease'),
              h(
                'dd',
                null,
                hl.cluster.leaseValid
                  ? badge('valid', { class: 'badge badge-success' })
                  : badge('not held', { class: 'badge badge-paused' }),
              ),
            ]
          : null,
        hl.metrics
          ? [
              h('dt', null, 'Since start'),
              h(
                'dd',
                null,
                `${hl.metrics.runsStarted ?? 0} started · ${hl.metrics.runsSucceeded ?? 0} succeeded · ${hl.metrics.runsFailed ?? 0} failed · ${hl.metrics.runsRetried ?? 0} retried · ${hl.metrics.runsTimedOut ?? 0} timed out · ${hl.metrics.scheduledJobs ?? 0} scheduled jobs`,
              ),
            ]
          : null,
        h('dt', null, 'Server time'),
        h('dd', null, timeEl(hl.serverTime, { abs: true })),
      ),
    );
  }

  function renderCluster(hl) {
    if (!Array.isArray(hl.instances)) return mount(cluster);
    const me = hl.cluster && hl.cluster.instanceId;
    mount(
      cluster,
      card(
        'Cluster instances',
        h(
          'div',
          { class: 'scroll-x' },
          h(
            'table',
            { class: 'table', 'data-testid': 'instances-table' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Instance', 'Lease id', 'Acquired', 'Expires'].map((c) => h('th', null, c)),
              ),
            ),
            h(
              'tbody',
              null,
              hl.instances.length
                ? hl.instances.map((i) =>
                    h(
                      'tr',
                      { 'data-testid': 'instance-row', class: i.instanceId === me ? 'me' : null },
                      h(
                        'td',
                        { class: 'mono' },
                        String(i.instanceId),
                        i.instanceId === me ? h('span', { class: 'muted' }, ' (this one)') : null,
                      ),
                      h('td', { class: 'mono small' }, String(i.leaseId ?? '—')),
                      h('td', null, timeEl(i.acquiredAt)),
                      h('td', null, timeEl(i.expiresAt)),
                    ),
                  )
                : empty('No instance holds a lease.', 4),
            ),
          ),
        ),
      ),
    );
  }

  return { title: 'Overview', el, load };
}
