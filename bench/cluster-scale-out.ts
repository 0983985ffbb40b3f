/**
 * Cluster scale-out on PostgreSQL (`npm run bench:cluster`, or as a scenario of `bench/run.ts`): 1, 2
 * and 3 scheduler instances, each a child process (`test/utils/cluster-child.ts`) with its own
 * DataSource, `concurrentRuns` 10 each, draining `--jobs` once-jobs that all fall due at one instant.
 *
 * - (i) a handler that waits 50 ms: runs/s per instance count and the ratio to 1 instance (one
 *   instance can do at most 10 / 50 ms = 200 runs/s).
 * - (ii) a no-op handler: fires/s per instance count.
 * - (iii) statements per run: every statement each instance's DataSource runs (a TypeORM logger in
 *   the child) over the drain, divided by the runs, for the no-op drains (cluster, 1-3 instances)
 *   and for one instance with cluster mode off; plus the statements per second of an idle cluster
 *   instance (heartbeat and poll only), with the default timings and with the tests' short ones;
 *   and with 10,000 jobs, its CPU and what one poll's read costs.
 * - (iv) recurring jobs firing every second on 1-3 instances: statements and lost claims per run.
 *
 * Cluster timings are the defaults (lease 30 s, heartbeat 10 s, poll 1 s). The jobs are made by one
 * `addJob` and copies of its row in one `INSERT ... SELECT` after the instances are up (they are
 * picked up by the poll), due `pollInterval` + 1.5 s later; with cluster mode off (no poll) they are
 * made before the instance starts. Runs/s is the jobs divided by the time from that due instant to
 * the end of the last run (`MAX(end_at)`), once every run is recorded `success`; the runs are
 * checked: one per job. Prints its figures, and a `RESULT {json}` line for `run.ts`. Unreachable
 * server: reports `{ skipped: true }`. Tables get a unique prefix and are dropped.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { JOB_WRITE_COLUMNS } from '../lib/storage/typeorm/job-sql.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/typeorm.storage.js';
import type { ChildLine, ClusterChildConfig, QueryCounts } from '../test/utils/cluster-child.js';
import { ClusterChild } from '../test/utils/cluster-process.js';
import { intArg, report, sleep } from './common.js';
import {
  benchPrefix,
  connectPostgresOrSkip,
  dropStorageTables,
  POSTGRES_URL,
  postgresCpuMs,
  processCpuMs,
} from './postgres.js';

/** Once-jobs of each drain with the 50 ms handler (one instance needs jobs / 200 s). */
const SLOW_JOBS = intArg('jobs', 1_500);
/** Once-jobs of each no-op drain. */
const NOOP_JOBS = intArg('noop-jobs', 1_500);
const CONCURRENT = intArg('concurrent', 10);
/** The bulk drain: once-jobs, and `concurrentRuns` of each instance (the persisted drain's 50). */
const BULK_JOBS = intArg('bulk-jobs', 10_000);
const BULK_CONCURRENT = intArg('bulk-concurrent', 50);
const HANDLER_MS = intArg('handler-ms', 50);
const IDLE_SECONDS = intArg('idle-seconds', 10);
/** Jobs of the larger idle instance, and of the poll's read compared. */
const MANY_JOBS = intArg('many-jobs', 10_000);
/** Recurring jobs of the periodic phase (every second), and its window in seconds. */
const PERIODIC_JOBS = intArg('periodic-jobs', 200);
const PERIODIC_SECONDS = intArg('periodic-seconds', 10);
/** `--phases=slow,noop,single,idle` (default all) and `--instances=1,2,3`: run a part only. */
const listArg = (name: string, fallback: string): string[] =>
  (process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback).split(
    ',',
  );
const PHASES = new Set(listArg('phases', 'slow,noop,single,bulk,periodic,idle'));
const COUNTS = listArg('instances', '1,2,3').map(Number);
/** The default cluster timings (ms). */
const POLL_MS = 1_000;
const HEARTBEAT_MS = 10_000;
const LEASE_TTL_MS = 30_000;
/** The tests' short timings (ms), for the second idle figure. */
const SHORT = { leaseTtl: 2_000, heartbeatInterval: 500, pollInterval: 200 };

type Stats = Extract<ChildLine, { event: 'stats' | 'stopped' }>;

/** The figures of one drain. */
interface Drain {
  instances: number;
  cluster: boolean;
  handlerMs: number;
  jobs: number;
  runsPerSec: number;
  /** From the due instant to the end of the last run. */
  spanMs: number;
  /** How late the first run started after the due instant. */
  firstStartMs: number;
  /** Runs per instance (their own `runsSucceeded`). */
  perInstance: number[];
  /** Statements of all instances over the drain, per run. */
  statementsPerRun: number;
  /** The same by kind (all instances), per run. */
  perRunByKind: Record<string, number>;
  /** CPU of the instances' processes, and of the PostgreSQL server, over the drain, per run (ms). */
  nodeCpuMsPerRun: number;
  postgresCpuMsPerRun: number;
  /** CPU of the instances and the server over the drain's window, in cores. */
  coresBusy: number;
  firesClaimedElsewhere: number;
  firesSkipped: number;
  /** Jobs whose run was recorded more than once, or not at all (must be 0). */
  wrongRuns: number;
}

/** How a drain's instances run besides cluster mode. */
interface DrainSetup {
  concurrent?: number;
  /** `enableBatchUpdate` (cluster off only: cluster mode refuses it). */
  batched?: boolean;
}

function childConfig(
  prefix: string,
  name: string,
  cluster: boolean,
  handlerMs: number,
  timings: Partial<typeof SHORT> = {},
  setup: DrainSetup = {},
): ClusterChildConfig {
  return {
    type: 'postgres',
    url: POSTGRES_URL,
    tablePrefix: prefix,
    cluster: cluster
      ? {
          instanceId: name,
          leaseTtl: LEASE_TTL_MS,
          heartbeatInterval: HEARTBEAT_MS,
          pollInterval: POLL_MS,
          ...timings,
        }
      : null,
    name,
    handlers: { work: { ms: handlerMs } },
    scheduler: {
      concurrentRuns: setup.concurrent ?? CONCURRENT,
      shutdownTimeout: '10s',
      ...(setup.batched === true ? { enableBatchUpdate: true, batchSize: 500 } : {}),
    },
    events: [],
    countQueries: true,
  };
}

/** Asks a child for its counters (SIGUSR2) and waits for the answer. */
async function statsOf(child: ClusterChild): Promise<Stats> {
  const seen = child.lines.length;
  child.signal('SIGUSR2');
  return (await child.waitForLine(
    'stats',
    (l) => l.event === 'stats' && child.lines.indexOf(l) >= seen,
    10_000,
  )) as Stats;
}

/** `b - a` for each count. */
function diff(a: QueryCounts | null, b: QueryCounts | null): QueryCounts {
  const out = { total: 0, select: 0, insert: 0, update: 0, delete: 0, control: 0, other: 0 };
  for (const key of Object.keys(out) as (keyof QueryCounts)[]) {
    out[key] = (b?.[key] ?? 0) - (a?.[key] ?? 0);
  }
  return out;
}

/**
 * The jobs table made, with `jobs` once-jobs due at `dueAt` (or, with `interval`, interval jobs of
 * that period, all firing at the same instants): one addJob, then copies of its row.
 */
async function makeJobs(
  admin: DataSource,
  storage: TypeOrmStorage,
  jobs: number,
  dueAt: number,
  interval?: string,
) {
  const maker = new Scheduler(storage, { logger: new NopLogger() });
  maker.registerHandlerFunc('work', () => undefined);
  await maker.addJob(
    interval
      ? { id: 'job-1', interval, handlerName: 'work' }
      : { id: 'job-1', type: 'once', runAt: new Date(dueAt), handlerName: 'work' },
  );
  const copied = JOB_WRITE_COLUMNS.filter((c) => c.name !== 'id').map((c) => `"${c.name}"`);
  await admin.query(
    `INSERT INTO "${storage.jobTableName}" ("id", ${copied.join(', ')})
      SELECT 'job-' || g, ${copied.join(', ')}
      FROM "${storage.jobTableName}" CROSS JOIN generate_series(2, $1) AS g WHERE "id" = 'job-1'`,
    [jobs],
  );
  await admin.query(`ANALYZE "${storage.jobTableName}"`);
}

async function stopAll(children: ClusterChild[]): Promise<Stats[]> {
  await Promise.all(children.map((child) => child.stop(30_000)));
  return children.map((child) => child.lines.find((l) => l.event === 'stopped') as Stats);
}

/** One drain: `instances` children (cluster mode, or one with it off), `jobs` once-jobs. */
async function drain(
  admin: DataSource,
  instances: number,
  cluster: boolean,
  handlerMs: number,
  jobs: number,
  setup: DrainSetup = {},
): Promise<Drain> {
  const prefix = benchPrefix();
  const storage = new TypeOrmStorage(admin, { tablePrefix: prefix });
  await storage.initialize();
  const children: ClusterChild[] = [];
  try {
    let dueAt: number;
    const start = (): ClusterChild[] => {
      for (let i = 0; i < instances; i++) {
        const name = `${cluster ? 'node' : 'single'}-${i + 1}`;
        children.push(
          new ClusterChild(name, childConfig(prefix, name, cluster, handlerMs, {}, setup)),
        );
      }
      return children;
    };
    if (cluster) {
      await Promise.all(start().map((child) => child.ready()));
      dueAt = Date.now() + POLL_MS + 1_500;
      await makeJobs(admin, storage, jobs, dueAt);
    } else {
      // No poll without cluster mode: the jobs are there before it starts, due once it is up.
      dueAt = Date.now() + 5_000;
      await makeJobs(admin, storage, jobs, dueAt);
      await Promise.all(start().map((child) => child.ready()));
      if (Date.now() >= dueAt - 300) {
        process.stderr.write('  ! the instance was not up before the jobs fell due\n');
      }
    }
    const before = await Promise.all(children.map(statsOf));
    const cpu0 = children.map((child) => processCpuMs(child.pid));
    const pg0 = postgresCpuMs();
    const runs = (): Promise<{ done: number; failed: number }> =>
      admin
        .query(
          `SELECT COUNT(*) FILTER (WHERE "status" = 'success') AS done, COUNT(*) FILTER (WHERE "status" = 'failed') AS failed FROM "${storage.runTableName}"`,
        )
        .then(([row]: { done: string; failed: string }[]) => ({
          done: Number(row?.done),
          failed: Number(row?.failed),
        }));
    const deadline = dueAt + 120_000;
    for (;;) {
      const now = await runs();
      if (now.done + now.failed >= jobs) break;
      if (Date.now() > deadline)
        throw new Error(`drain not done: ${JSON.stringify(now)} of ${jobs}`);
      await sleep(100);
    }
    const after = await Promise.all(children.map(statsOf));
    // The drain's window: before it the instances are idle (a poll a second).
    const windowMs =
      Math.max(...after.map((a) => a.at)) - Math.max(dueAt, ...before.map((b) => b.at));
    const nodeCpu = children.reduce((sum, child, i) => sum + processCpuMs(child.pid) - cpu0[i]!, 0);
    const pgCpu = postgresCpuMs() - pg0;
    const [row] = (await admin.query(
      `SELECT COUNT(*) AS runs, COUNT(DISTINCT "job_id") AS jobs,
              COUNT(*) FILTER (WHERE "status" <> 'success') AS unsuccessful,
              EXTRACT(EPOCH FROM MIN("start_at")) * 1000 AS first_start,
              EXTRACT(EPOCH FROM MAX("end_at")) * 1000 AS last_end
         FROM "${storage.runTableName}"`,
    )) as {
      runs: string;
      jobs: string;
      unsuccessful: string;
      first_start: string;
      last_end: string;
    }[];
    const stopped = await stopAll(children);
    const spanMs = Number(row?.last_end) - dueAt;
    const counts = children.map((_, i) => diff(before[i]!.queries, after[i]!.queries));
    const sum = diff(null, null);
    for (const c of counts) {
      for (const key of Object.keys(sum) as (keyof QueryCounts)[]) sum[key] += c[key];
    }
    const perRunByKind = Object.fromEntries(
      Object.entries(sum)
        .filter(([key]) => key !== 'total')
        .map(([key, n]) => [key, n / jobs]),
    );
    return {
      instances,
      cluster,
      handlerMs,
      jobs,
      runsPerSec: jobs / (spanMs / 1000),
      spanMs,
      firstStartMs: Number(row?.first_start) - dueAt,
      perInstance: stopped.map((s) => s.runsSucceeded),
      statementsPerRun: sum.total / jobs,
      perRunByKind,
      nodeCpuMsPerRun: nodeCpu / jobs,
      coresBusy: (nodeCpu + pgCpu) / windowMs,
      postgresCpuMsPerRun: pgCpu / jobs,
      firesClaimedElsewhere: stopped.reduce((n, s) => n + s.firesClaimedElsewhere, 0),
      firesSkipped: stopped.reduce((n, s) => n + s.firesSkipped, 0),
      wrongRuns:
        Math.abs(Number(row?.runs) - jobs) +
        Math.abs(Number(row?.jobs) - jobs) +
        Number(row?.unsuccessful),
    };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    await dropStorageTables(admin, storage);
  }
}

/** The figures of recurring jobs run by a cluster over a window. */
interface Periodic {
  instances: number;
  runsPerSec: number;
  statementsPerRun: number;
  /** Claims lost to another instance, and fires left to the instance their job prefers, per run. */
  lostPerRun: number;
  deferredPerRun: number;
}

/**
 * `jobs` interval jobs firing every second, all at the same instants, on `instances` cluster
 * instances (no-op handler, default timings): after a warm-up of 3 s, the runs, statements, lost
 * claims and deferred fires of all instances over `seconds`.
 */
async function periodic(
  admin: DataSource,
  instances: number,
  jobs: number,
  seconds: number,
): Promise<Periodic> {
  const prefix = benchPrefix();
  const storage = new TypeOrmStorage(admin, { tablePrefix: prefix });
  await storage.initialize();
  const children: ClusterChild[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      const name = `node-${i + 1}`;
      children.push(new ClusterChild(name, childConfig(prefix, name, true, 0)));
    }
    await Promise.all(children.map((child) => child.ready()));
    await makeJobs(admin, storage, jobs, 0, '1s');
    await sleep(3_000);
    const before = await Promise.all(children.map(statsOf));
    await sleep(seconds * 1000);
    const after = await Promise.all(children.map(statsOf));
    const sum = (pick: (s: Stats) => number): number =>
      after.reduce((n, s, i) => n + pick(s) - pick(before[i]!), 0);
    const runs = sum((s) => s.runsStarted);
    const statements = sum((s) => s.queries?.total ?? 0);
    const elapsed = (after[0]!.at - before[0]!.at) / 1000;
    await stopAll(children);
    return {
      instances,
      runsPerSec: runs / elapsed,
      statementsPerRun: statements / runs,
      lostPerRun: sum((s) => s.firesClaimedElsewhere) / runs,
      deferredPerRun: sum((s) => s.firesDeferred) / runs,
    };
  } finally {
    await Promise.all(children.map((child) => child.kill()));
    await dropStorageTables(admin, storage);
  }
}

/** What an idle cluster instance costs over a window. */
interface Idle {
  jobs: number;
  perSec: number;
  byKind: Record<string, number>;
  /** CPU of the instance's process, ms per second. */
  cpuMsPerSec: number;
}

/** Statements and CPU per second of an idle cluster instance (`jobs` jobs, none due) over `seconds`. */
async function idle(
  admin: DataSource,
  timings: Partial<typeof SHORT>,
  seconds: number,
  jobs = 100,
): Promise<Idle> {
  const prefix = benchPrefix();
  const storage = new TypeOrmStorage(admin, { tablePrefix: prefix });
  await storage.initialize();
  await makeJobs(admin, storage, jobs, 0, '1h');
  const child = new ClusterChild('idle', childConfig(prefix, 'idle', true, 0, timings));
  try {
    await child.ready();
    // Skip the start's own statements and its first look for lost instances.
    await sleep(300);
    const before = await statsOf(child);
    const cpu0 = processCpuMs(child.pid);
    await sleep(seconds * 1000);
    const after = await statsOf(child);
    const cpu = processCpuMs(child.pid) - cpu0;
    const d = diff(before.queries, after.queries);
    const elapsed = (after.at - before.at) / 1000;
    await stopAll([child]);
    return {
      jobs,
      perSec: d.total / elapsed,
      byKind: Object.fromEntries(
        Object.entries(d)
          .filter(([key, n]) => key !== 'total' && n > 0)
          .map(([key, n]) => [key, n / elapsed]),
      ),
      cpuMsPerSec: cpu / elapsed,
    };
  } finally {
    await child.kill();
    await dropStorageTables(admin, storage);
  }
}

/**
 * What one poll round reads with `jobs` jobs, none changed: `listJobVersions` (the poll) against
 * `listJobs` (a full read of every row, what the poll did before), each the median of 7 of this
 * process's CPU ms.
 */
async function pollRead(
  admin: DataSource,
  jobs: number,
): Promise<{ versionsMs: number; fullMs: number }> {
  const prefix = benchPrefix();
  const storage = new TypeOrmStorage(admin, { tablePrefix: prefix });
  await storage.initialize();
  await makeJobs(admin, storage, jobs, 0, '1h');
  const cpuOf = async (read: () => Promise<unknown[]>): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = process.cpuUsage();
      const rows = await read();
      const used = process.cpuUsage(before);
      if (rows.length !== jobs) throw new Error(`read ${rows.length} of ${jobs} jobs`);
      samples.push((used.user + used.system) / 1000);
    }
    return samples.sort((a, b) => a - b)[3]!;
  };
  try {
    return {
      versionsMs: await cpuOf(() => storage.listJobVersions()),
      fullMs: await cpuOf(() => storage.listJobs()),
    };
  } finally {
    await dropStorageTables(admin, storage);
  }
}

const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const int = (n: number): string =>
  Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
const kinds = (byKind: Record<string, number>, digits = 2): string =>
  Object.entries(byKind)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${key} ${n.toFixed(digits)}`)
    .join(', ');

function printDrain(d: Drain, base: Drain | undefined): void {
  process.stdout.write(
    `  ${d.cluster ? `${d.instances} instance(s)` : '1 instance, cluster off'}: ${int(d.runsPerSec)} runs/s` +
      (base ? ` (${fixed(d.runsPerSec / base.runsPerSec, 2)}x of 1)` : '') +
      `, ${int(d.spanMs)} ms from due to last end (first start +${int(d.firstStartMs)} ms);` +
      ` per instance [${d.perInstance.join(', ')}]; claimed elsewhere ${int(d.firesClaimedElsewhere)},` +
      ` skipped ${int(d.firesSkipped)}; ${fixed(d.statementsPerRun, 2)} statements/run (${kinds(d.perRunByKind)});` +
      ` CPU per run: instances ${fixed(d.nodeCpuMsPerRun, 2)} ms, postgres ${fixed(d.postgresCpuMsPerRun, 2)} ms (${fixed(d.coresBusy, 2)} of ${availableParallelism()} cores busy); wrong runs ${d.wrongRuns}\n`,
  );
}

const admin = await connectPostgresOrSkip();

const started = performance.now();
const ratioOf = (list: Drain[], n: number): number =>
  (list.find((d) => d.instances === n)?.runsPerSec ?? NaN) /
  (list.find((d) => d.instances === 1)?.runsPerSec ?? NaN);
try {
  process.stdout.write(
    `Cluster scale-out on PostgreSQL (${POSTGRES_URL}): once-jobs due at one instant (${SLOW_JOBS} with the ${HANDLER_MS} ms handler, ${NOOP_JOBS} no-op),` +
      ` concurrentRuns ${CONCURRENT} per instance, default cluster timings (lease ${LEASE_TTL_MS} ms, heartbeat ${HEARTBEAT_MS} ms, poll ${POLL_MS} ms)\n`,
  );
  const slow: Drain[] = [];
  if (PHASES.has('slow')) {
    process.stdout.write(
      `(i) handler waits ${HANDLER_MS} ms (1 instance: at most ${int((CONCURRENT * 1000) / HANDLER_MS)} runs/s)\n`,
    );
    for (const n of COUNTS) {
      slow.push(await drain(admin, n, true, HANDLER_MS, SLOW_JOBS));
      printDrain(slow.at(-1)!, slow[0] === slow.at(-1) ? undefined : slow[0]);
    }
  }
  const noop: Drain[] = [];
  if (PHASES.has('noop')) {
    process.stdout.write(`(ii) no-op handler\n`);
    for (const n of COUNTS) {
      noop.push(await drain(admin, n, true, 0, NOOP_JOBS));
      printDrain(noop.at(-1)!, noop[0] === noop.at(-1) ? undefined : noop[0]);
    }
  }
  let single: Drain | undefined;
  let idleDefault: Idle | undefined;
  let idleShort: Idle | undefined;
  let idleMany: Idle | undefined;
  let poll: { versionsMs: number; fullMs: number } | undefined;
  if (PHASES.has('single') || PHASES.has('idle')) {
    process.stdout.write(`(iii) statements per run, no-op handler, one instance\n`);
  }
  if (PHASES.has('single')) {
    single = await drain(admin, 1, false, 0, NOOP_JOBS);
    printDrain(single, undefined);
    const cluster1 = noop.find((d) => d.instances === 1);
    if (cluster1) {
      process.stdout.write(
        `  cluster (1 instance) / single: ${fixed(cluster1.statementsPerRun, 2)} / ${fixed(single.statementsPerRun, 2)} statements per run` +
          ` = ${fixed(cluster1.statementsPerRun / single.statementsPerRun, 2)}x; runs/s ${int(cluster1.runsPerSec)} / ${int(single.runsPerSec)}\n`,
      );
    }
  }
  const bulk: Drain[] = [];
  let bulkSingle: Drain | undefined;
  if (PHASES.has('bulk')) {
    process.stdout.write(
      `(v) bulk drain: ${int(BULK_JOBS)} no-op once-jobs, concurrentRuns ${BULK_CONCURRENT} per instance\n`,
    );
    const setup = { concurrent: BULK_CONCURRENT };
    for (const n of COUNTS) {
      bulk.push(await drain(admin, n, true, 0, BULK_JOBS, setup));
      printDrain(bulk.at(-1)!, bulk[0] === bulk.at(-1) ? undefined : bulk[0]);
    }
    bulkSingle = await drain(admin, 1, false, 0, BULK_JOBS, { ...setup, batched: true });
    process.stdout.write('  batching on (enableBatchUpdate, batchSize 500):\n');
    printDrain(bulkSingle, undefined);
  }
  const periodics: Periodic[] = [];
  if (PHASES.has('periodic')) {
    process.stdout.write(
      `(iv) recurring jobs: ${int(PERIODIC_JOBS)} no-op jobs every second (all at the same instants), ${PERIODIC_SECONDS} s after 3 s of warm-up\n`,
    );
    for (const n of COUNTS) {
      const p = await periodic(admin, n, PERIODIC_JOBS, PERIODIC_SECONDS);
      periodics.push(p);
      process.stdout.write(
        `  ${n} instance(s): ${int(p.runsPerSec)} runs/s, ${fixed(p.statementsPerRun, 2)} statements/run;` +
          ` per run: ${fixed(p.lostPerRun, 2)} claims lost to another instance, ${fixed(p.deferredPerRun, 2)} fires left to the instance the job prefers\n`,
      );
    }
  }
  if (PHASES.has('idle')) {
    [idleDefault, idleShort] = await Promise.all([
      idle(admin, {}, IDLE_SECONDS),
      idle(admin, SHORT, IDLE_SECONDS),
    ]);
    process.stdout.write(
      `  idle cluster instance (100 jobs, none due), ${IDLE_SECONDS} s: ${fixed(idleDefault.perSec, 2)} statements/s with the default timings (${kinds(idleDefault.byKind)});` +
        ` ${fixed(idleShort.perSec, 2)} statements/s with heartbeat ${SHORT.heartbeatInterval} ms, poll ${SHORT.pollInterval} ms (${kinds(idleShort.byKind)})\n`,
    );
    idleMany = await idle(admin, {}, IDLE_SECONDS, MANY_JOBS);
    poll = await pollRead(admin, MANY_JOBS);
    process.stdout.write(
      `  idle cluster instance (${int(MANY_JOBS)} jobs, none due), default timings: ${fixed(idleMany.perSec, 2)} statements/s, instance CPU ${fixed(idleMany.cpuMsPerSec, 1)} ms/s (100 jobs: ${fixed(idleDefault.cpuMsPerSec, 1)} ms/s);` +
        ` a poll's read of ${int(MANY_JOBS)} unchanged jobs: ${fixed(poll.versionsMs, 1)} ms CPU (ids and versions) against ${fixed(poll.fullMs, 1)} ms for every full row\n`,
    );
  }
  const all = [
    ...slow,
    ...noop,
    ...(single ? [single] : []),
    ...bulk,
    ...(bulkSingle ? [bulkSingle] : []),
  ];
  const ratio3 = ratioOf(slow, 3);
  process.stdout.write(
    `aim: 3 instances >= 2.5x of 1 with the ${HANDLER_MS} ms handler: ${fixed(ratio3, 2)}x (${ratio3 >= 2.5 ? 'met' : 'NOT met'});` +
      ` every job run exactly once: ${all.every((d) => d.wrongRuns === 0) ? 'yes' : 'NO'}` +
      ` (${fixed((performance.now() - started) / 1000, 0)} s; load average now ${loadavg()[0]!.toFixed(2)})\n`,
  );
  report({
    slowRunsPerSec: slow.map((d) => d.runsPerSec),
    slowRatio2: ratioOf(slow, 2),
    slowRatio3: ratio3,
    slowPerInstance: slow.map((d) => d.perInstance.join('/')),
    slowNodeCpuMsPerRun: slow.map((d) => d.nodeCpuMsPerRun),
    noopRunsPerSec: noop.map((d) => d.runsPerSec),
    noopRatio2: ratioOf(noop, 2),
    noopRatio3: ratioOf(noop, 3),
    noopNodeCpuMsPerRun: noop.map((d) => d.nodeCpuMsPerRun),
    noopPostgresCpuMsPerRun: noop.map((d) => d.postgresCpuMsPerRun),
    singleRunsPerSec: single?.runsPerSec,
    statementsPerRunSingle: single?.statementsPerRun,
    statementsPerRunCluster: noop.map((d) => d.statementsPerRun),
    statementsPerRunClusterSlow: slow.map((d) => d.statementsPerRun),
    bulkJobs: BULK_JOBS,
    bulkConcurrent: BULK_CONCURRENT,
    bulkRunsPerSec: bulk.map((d) => d.runsPerSec),
    bulkStatementsPerRun: bulk.map((d) => d.statementsPerRun),
    bulkNodeCpuMsPerRun: bulk.map((d) => d.nodeCpuMsPerRun),
    bulkPostgresCpuMsPerRun: bulk.map((d) => d.postgresCpuMsPerRun),
    bulkSingleBatchedRunsPerSec: bulkSingle?.runsPerSec,
    periodicJobs: PERIODIC_JOBS,
    periodicRunsPerSec: periodics.map((p) => p.runsPerSec),
    periodicStatementsPerRun: periodics.map((p) => p.statementsPerRun),
    periodicLostPerRun: periodics.map((p) => p.lostPerRun),
    idleStatementsPerSec: idleDefault?.perSec,
    idleStatementsPerSecShort: idleShort?.perSec,
    idleCpuMsPerSec: idleDefault?.cpuMsPerSec,
    idleManyJobs: MANY_JOBS,
    idleManyCpuMsPerSec: idleMany?.cpuMsPerSec,
    pollVersionsCpuMs: poll?.versionsMs,
    pollFullCpuMs: poll?.fullMs,
    wrongRuns: all.reduce((n, d) => n + d.wrongRuns, 0),
    counts: COUNTS,
    handlerMs: HANDLER_MS,
    slowJobs: SLOW_JOBS,
    noopJobs: NOOP_JOBS,
    concurrent: CONCURRENT,
    seconds: (performance.now() - started) / 1000,
  });
} finally {
  await admin.destroy();
}
