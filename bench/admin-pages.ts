/**
 * The admin dashboard's pages on a large database: a Nest app (`@nestjs/platform-express`) with
 * `JobModule.forRoot({ storage: TypeOrmStorage, autoStart: false })` and `JobAdminModule.register()`
 * over PostgreSQL holding `--jobs` jobs (100,000) and `--jobs-with-runs` x `--runs-per-job` runs
 * (10,000 x 100: 1,000,000) over the last `--days` (30), ~5% failed. Each API call a page makes is
 * timed over HTTP on loopback: `--warm` untimed calls of every route first (3 each), then
 * `--rounds` timed ones of each (20), median and p95, both of the server time (from the request's arrival in Express to the response's
 * `finish`, by an Express middleware of this app) and of the client's round trip (`fetch` and the
 * body read). The jobs page's own parts (`findJobs`, the 50 `getRuns` of its jobs' last runs) are
 * timed apart on the storage, in this process. Then the page weight: the dashboard's files
 * (`lib/admin/ui/`), script, style and the rest, raw and gzipped.
 *
 * The tables are the storage's own (made by `initialize()`, with its indexes), filled with two
 * set-based `INSERT ... SELECT FROM generate_series` (timed, with the ANALYZE after), and dropped at
 * the end, on an error and on Ctrl-C. Alone: `node --expose-gc --import tsx bench/admin-pages.ts`
 * (prints its table, then `RESULT {json}`).
 */
import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Module } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DataSource, DataSourceOptions, Logger } from 'typeorm';
import { AdminJobs, RECENT_RUNS } from '../lib/admin/admin-jobs.js';
import { JobAdminModule } from '../lib/admin/index.js';
import { JobExplorer } from '../lib/job.explorer.js';
import { JobModule } from '../lib/job.module.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { SchedulerService } from '../lib/scheduler.service.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/index.js';
import { intArg, onceCleanUp, percentiles, report } from './common.js';
import {
  benchPrefix,
  cancelStatementsNaming,
  connectPostgres,
  connectPostgresOrSkip,
  dropStorageTables,
} from './postgres.js';
import type { AdminPageFigures, AdminPartFigures, UiFileFigures } from './section-admin.js';

const jobs = intArg('jobs', 100_000);
const jobsWithRuns = intArg('jobs-with-runs', 10_000);
const runsPerJob = intArg('runs-per-job', 100);
const days = intArg('days', 30);
const warm = intArg('warm', 3);
const rounds = intArg('rounds', 20);
const HOUR = 3_600_000;
/** Every `stride`-th job has runs. */
const stride = Math.floor(jobs / jobsWithRuns);
if (!(stride >= 1)) throw new Error('--jobs-with-runs must not exceed --jobs');
/** Job ids are `job-` and n in at least 6 digits: `job-000000`, the first, has runs. */
const idWidth = Math.max(6, String(jobs - 1).length);
const jobId = (n: number): string => `job-${String(n).padStart(idWidth, '0')}`;
const HANDLERS = [
  'send-digest',
  'sync-orders',
  'cleanup-tmp',
  'refresh-cache',
  'export-report',
  'charge-invoices',
];
/** A substring of one job only (its id): the search reads every job to find it. */
const RARE = String(Math.floor((jobs * 7) / 9)).padStart(idWidth, '0');

const admin = await connectPostgresOrSkip();
const prefix = benchPrefix();
/** Records the last `SELECT` the app's DataSource ran, while armed (to explain it). */
class StatementCatcher implements Logger {
  armed = false;
  last: { sql: string; params: unknown[] } | undefined;
  logQuery(query: string, parameters?: unknown[]): void {
    if (this.armed && /^\s*SELECT/i.test(query))
      this.last = { sql: query, params: parameters ?? [] };
  }
  /** The statement seen since the last call (and forgets it). */
  take(): { sql: string; params: unknown[] } | undefined {
    const last = this.last;
    this.last = undefined;
    return last;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
const catcher = new StatementCatcher();
// The app's DataSource: TypeORM's defaults (the pg pool's max of 10 connections).
const dataSource = await connectPostgres({ logger: catcher } as Partial<DataSourceOptions>);
const storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
let app: NestExpressApplication | undefined;
const cleanUp = onceCleanUp(async () => {
  await cancelStatementsNaming(admin, prefix);
  try {
    await app?.close();
  } finally {
    await dropStorageTables(admin, storage);
    if (dataSource.isInitialized) await dataSource.destroy();
    await admin.destroy();
  }
});

/** Fills the tables; resolves to the ms it took (the two INSERTs and the ANALYZE). */
async function fill(
  db: DataSource,
): Promise<{ jobsMs: number; runsMs: number; analyzeMs: number }> {
  const jt = `"${storage.jobTableName}"`;
  const rt = `"${storage.runTableName}"`;
  // Job n: 70% cron (mostly every 5 s; 1 in 50 hourly, 1 in 50 at 3:00 on weekdays in Berlin),
  // 20% interval (1 min, 5 min), 10% once (half of them completed); ~2% paused, ~0.5% failed.
  // Made ~100 days ago onwards, 86 s apart; handler n % 6 of HANDLERS; names `<handler> <n>`.
  let started = performance.now();
  await db.query(
    `INSERT INTO ${jt} ("id", "name", "description", "type", "cron", "interval_ms", "timezone",
        "run_at", "status", "handler_name", "payload", "next_run_at", "last_run_at", "last_result",
        "retry_count", "max_retry", "misfire_policy", "max_misfires", "version", "created_at",
        "updated_at")
      SELECT 'job-' || lpad(n::text, $3::int, '0'), handler || ' ' || n, '', type,
        CASE WHEN type <> 'cron' THEN NULL WHEN n % 50 = 20 THEN '0 3 * * 1-5'
             WHEN n % 50 = 30 THEN '0 * * * *' ELSE '*/5 * * * * *' END,
        CASE WHEN type <> 'interval' THEN NULL WHEN n % 10 = 7 THEN 60000 ELSE 300000 END,
        CASE WHEN type = 'cron' AND n % 50 = 20 THEN 'Europe/Berlin' END,
        run_at, status, handler, '{"n":' || n || '}',
        CASE WHEN status <> 'pending' THEN NULL
             WHEN type = 'once' THEN run_at
             WHEN type = 'interval' THEN now() + interval '1 minute'
             ELSE date_trunc('minute', now()) + interval '1 minute' END,
        CASE WHEN n % $2::int = 0 THEN now() - interval '1 minute' END,
        CASE WHEN status = 'failed' THEN 'Error: handler failed' ELSE '' END,
        0, 3, 'fire-once', 0, 1,
        now() - $1::int * interval '86 seconds' + n * interval '86 seconds', now()
      FROM (
        SELECT n, type, ($4::text[])[n % cardinality($4::text[]) + 1] AS handler,
          CASE WHEN n % 47 = 5 THEN 'paused' WHEN n % 211 = 3 THEN 'failed'
               WHEN type = 'once' AND n % 20 = 19 THEN 'completed' ELSE 'pending' END AS status,
          CASE WHEN type <> 'once' THEN NULL
               WHEN n % 20 = 19 THEN now() - interval '1 day'
               ELSE now() + (n % 1000) * interval '1 minute' END AS run_at
        FROM (
          SELECT n, CASE WHEN n % 10 < 7 THEN 'cron' WHEN n % 10 < 9 THEN 'interval'
                         ELSE 'once' END AS type
          FROM generate_series(0, $1::int - 1) AS n
        ) AS typed
      ) AS job`,
    [jobs, stride, idWidth, HANDLERS],
  );
  const jobsMs = performance.now() - started;
  // Run g: job j = g % jobsWithRuns (job n = j * stride), its k-th run (k = g / jobsWithRuns,
  // oldest first, as they would be written); a job's runs `step` apart over the last `days`, the
  // jobs' runs spread evenly across each step; started up to 2 s after their fire; ~5% failed.
  const stepMs = Math.floor((days * 24 * HOUR) / runsPerJob);
  started = performance.now();
  await db.query(
    `INSERT INTO ${rt} ("id", "job_id", "status", "start_at", "end_at", "output", "error",
        "duration_ms", "trace_id", "attempt", "scheduled_at", "created_at")
      SELECT gen_random_uuid()::text, 'job-' || lpad(((g % $1::int) * $3::int)::text, $5::int, '0'),
        status, start_at, start_at + duration * interval '1 millisecond',
        CASE WHEN status = 'success' THEN '{"ok":true}' ELSE '' END,
        CASE WHEN status = 'failed' THEN 'Error: handler failed (run ' || g || ')' ELSE '' END,
        duration, md5('trace-' || g), 1, scheduled_at, start_at
      FROM (
        SELECT g, scheduled_at, scheduled_at + round(jitter * 2000) * interval '1 millisecond' AS start_at,
          CASE WHEN r < 0.05 THEN 'failed' ELSE 'success' END AS status,
          floor(d * d * 5000)::bigint AS duration
        FROM (
          SELECT g, random() AS r, random() AS d, random() AS jitter,
            date_trunc('second', now()) - interval '1 minute'
              - (($2::int - 1 - g / $1::int)::bigint * $4::bigint
                 + ($1::int - 1 - g % $1::int)::bigint * ($4::bigint / $1::int))
                * interval '1 millisecond' AS scheduled_at
          FROM generate_series(0, $1::int * $2::int - 1) AS g
        ) AS drawn
      ) AS run`,
    [jobsWithRuns, runsPerJob, stride, stepMs, idWidth],
  );
  const runsMs = performance.now() - started;
  started = performance.now();
  await db.query(`ANALYZE ${jt}`);
  await db.query(`ANALYZE ${rt}`);
  return { jobsMs, runsMs, analyzeMs: performance.now() - started };
}

/** The dashboard's files, read from `lib/admin/ui/`: sizes raw and gzipped, by kind. */
function pageWeight(): UiFileFigures[] {
  const directory = fileURLToPath(new URL('../lib/admin/ui/', import.meta.url));
  return readdirSync(directory)
    .sort()
    .map((name) => {
      const body = readFileSync(`${directory}${name}`);
      const ext = extname(name);
      const kind = ext === '.js' ? 'script' : ext === '.css' ? 'style' : 'other';
      return { name, kind, bytes: body.length, gzipBytes: gzipSync(body).length };
    });
}

/**
 * tsx (esbuild) emits no `design:paramtypes` metadata, and `JobExplorer` names its first four
 * dependencies by their types only (tsc, the build, and the tests' transform emit them): give it
 * the types its constructor declares, as tsc would.
 */
function provideConstructorTypes(): void {
  if (Reflect.getMetadata('design:paramtypes', JobExplorer) !== undefined) return;
  Reflect.defineMetadata(
    'design:paramtypes',
    [DiscoveryService, MetadataScanner, SchedulerService, ModuleRef, Object],
    JobExplorer,
  );
}

/** The pg pool's size on the app's DataSource (`max`, 10 by default). */
function poolMax(): number {
  const driver = dataSource.driver as unknown as { master?: { options?: { max?: number } } };
  return driver.master?.options?.max ?? 10;
}

/** When the server got each request (by its `x-bench-id`) and when it finished answering. */
interface ServerSpan {
  start: bigint;
  finished: Promise<bigint>;
}
const spans = new Map<string, ServerSpan>();
let requests = 0;

/** Registers the middleware that times each request on the server (before the app's routes). */
function timeRequests(nest: NestExpressApplication): void {
  nest.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const id = req.headers['x-bench-id'];
    if (typeof id === 'string') {
      const start = process.hrtime.bigint();
      const finished = new Promise<bigint>((resolve) => {
        res.once('finish', () => resolve(process.hrtime.bigint()));
        res.once('close', () => resolve(process.hrtime.bigint()));
      });
      spans.set(id, { start, finished });
    }
    next();
  });
}

/** One call's answer and its times. */
interface Call {
  body: unknown;
  bytes: number;
  clientMs: number;
  serverStart: bigint;
  serverEnd: bigint;
}

async function get(base: string, path: string): Promise<Call> {
  const id = String(++requests);
  const started = performance.now();
  const response = await fetch(`${base}/${path}`, { headers: { 'x-bench-id': id } });
  const text = await response.text();
  const clientMs = performance.now() - started;
  const span = spans.get(id);
  if (span === undefined) throw new Error(`${path}: the server did not see request ${id}`);
  spans.delete(id);
  const serverEnd = await span.finished;
  if (response.status !== 200) {
    throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
  }
  return {
    body: JSON.parse(text) as unknown,
    bytes: Buffer.byteLength(text),
    clientMs,
    serverStart: span.start,
    serverEnd,
  };
}

/** Items in an answer: a page's, a list's, or 1. */
function itemCount(body: unknown): number {
  if (Array.isArray(body)) return body.length;
  if (body !== null && typeof body === 'object' && 'items' in body) {
    return (body as { items: unknown[] }).items.length;
  }
  return 1;
}

/** A page's API call (or calls, made at once), as the dashboard makes it. */
interface Route {
  name: string;
  group: string;
  paths: () => string[];
  call: () => Promise<Call[]>;
}

/** Timed rounds of a route (warmed up before): median and p95 of server and client times. */
async function measure(route: Route): Promise<AdminPageFigures> {
  const server = new Float64Array(rounds);
  const client = new Float64Array(rounds);
  let items = 0;
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const calls = await route.call();
    client[i] = performance.now() - started;
    const first = calls.reduce(
      (m, c) => (c.serverStart < m ? c.serverStart : m),
      calls[0]!.serverStart,
    );
    const last = calls.reduce((m, c) => (c.serverEnd > m ? c.serverEnd : m), calls[0]!.serverEnd);
    server[i] = Number(last - first) / 1e6;
    items = calls.reduce((n, c) => n + itemCount(c.body), 0);
    bytes = calls.reduce((n, c) => n + c.bytes, 0);
  }
  const [medianMs, p95Ms] = percentiles(server, rounds, [0.5, 0.95]);
  const [clientMedianMs, clientP95Ms] = percentiles(client, rounds, [0.5, 0.95]);
  return {
    name: route.name,
    group: route.group,
    paths: route.paths(),
    medianMs: medianMs!,
    p95Ms: p95Ms!,
    clientMedianMs: clientMedianMs!,
    clientP95Ms: clientP95Ms!,
    items,
    bytes,
  };
}

/**
 * Times an in-process call: `warm` untimed calls, then median and p95 of `rounds`; with `explained`,
 * the plan of its one `SELECT` too.
 */
async function measurePart(
  name: string,
  call: () => Promise<unknown>,
  explained = false,
): Promise<AdminPartFigures> {
  for (let i = 0; i < warm; i++) await call();
  const times = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await call();
    times[i] = performance.now() - started;
  }
  const [medianMs, p95Ms] = percentiles(times, rounds, [0.5, 0.95]);
  return {
    name,
    medianMs: medianMs!,
    p95Ms: p95Ms!,
    ...(explained ? await explain(call) : {}),
  };
}

/** What a plan node of `EXPLAIN (FORMAT JSON)` holds that we read. */
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** `Limit > Sort > Seq Scan`: the plan's shape in one line (the table prefix left out). */
function shape(plan: PlanNode): string {
  const index = plan['Index Name'] ? ` (${plan['Index Name'].replace(prefix, '')})` : '';
  const below = (plan.Plans ?? []).map(shape);
  const here = `${plan['Node Type']}${index}`;
  if (below.length === 0) return here;
  return `${here} > ${below.length === 1 ? below[0] : `[${below.join(', ')}]`}`;
}

/**
 * The plan of the `SELECT` that `call` makes (captured on the app's DataSource), with the server's
 * own time for it (`EXPLAIN ANALYZE`, once) and the rows its scans read (returned, and removed by
 * their filter).
 */
async function explain(
  call: () => Promise<unknown>,
): Promise<{ plan: string; serverMs: number; rowsRead: number }> {
  catcher.take();
  catcher.armed = true;
  try {
    await call();
  } finally {
    catcher.armed = false;
  }
  const statement = catcher.take();
  if (statement === undefined) throw new Error('no SELECT seen');
  const [row] = (await admin.query(
    `EXPLAIN (ANALYZE, FORMAT JSON) ${statement.sql}`,
    statement.params,
  )) as { 'QUERY PLAN': { Plan: PlanNode; 'Execution Time': number }[] }[];
  const analyzed = row!['QUERY PLAN'][0]!;
  const all = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(all)];
  const rowsRead = all(analyzed.Plan)
    .filter((n) => /Scan/.test(n['Node Type']) && n['Relation Name'] !== undefined)
    .reduce(
      (sum, n) =>
        sum +
        ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1),
      0,
    );
  return { plan: shape(analyzed.Plan), serverMs: analyzed['Execution Time'], rowsRead };
}

try {
  await storage.initialize();
  const filled = await fill(admin);
  const [counts] = (await admin.query(
    `SELECT (SELECT COUNT(*) FROM "${storage.jobTableName}") AS jobs,
        (SELECT COUNT(*) FROM "${storage.jobTableName}" WHERE status = 'paused') AS paused,
        (SELECT COUNT(*) FROM "${storage.jobTableName}" WHERE status = 'failed') AS failed_jobs,
        (SELECT COUNT(*) FROM "${storage.runTableName}") AS runs,
        (SELECT COUNT(*) FROM "${storage.runTableName}" WHERE status = 'failed') AS failed,
        (SELECT COUNT(*) FROM "${storage.runTableName}" WHERE start_at >= now() - interval '24 hours') AS runs24h,
        pg_total_relation_size('"${storage.runTableName}"') AS run_bytes,
        pg_total_relation_size('"${storage.jobTableName}"') AS job_bytes`,
  )) as Record<string, string>[];
  const expectedRuns = jobsWithRuns * runsPerJob;
  if (Number(counts?.runs) !== expectedRuns || Number(counts?.jobs) !== jobs) {
    throw new Error(`filled ${counts?.jobs} jobs and ${counts?.runs} runs`);
  }

  // The app, as an app would mount the dashboard (not started: its pages only read).
  provideConstructorTypes();
  class AdminBenchModule {}
  Module({
    imports: [
      JobModule.forRoot({ storage, autoStart: false, logger: new NopLogger() }),
      JobAdminModule.register(),
    ],
  })(AdminBenchModule);
  const bootStarted = performance.now();
  app = await NestFactory.create<NestExpressApplication>(AdminBenchModule, {
    logger: false,
    abortOnError: false,
  });
  timeRequests(app);
  await app.listen(0, '127.0.0.1');
  const bootMs = performance.now() - bootStarted;
  const { port } = app.getHttpServer().address() as { port: number };
  const base = `http://127.0.0.1:${port}/jobs`;

  const firstJob = jobId(0);
  const firstPage = (await get(base, 'api/jobs?limit=50')).body as { nextCursor: string | null };
  if (firstPage.nextCursor === null) throw new Error('the jobs page has no next page');
  const jobRuns = (await get(base, `api/jobs/${firstJob}/runs?limit=500`)).body as {
    items: unknown[];
  };
  if (jobRuns.items.length !== runsPerJob) {
    throw new Error(`${firstJob} has ${jobRuns.items.length} runs, not ${runsPerJob}`);
  }
  const iso = (ms: number): string => encodeURIComponent(new Date(ms).toISOString());
  const overview = {
    stats: () => `api/stats?from=${iso(Date.now() - 24 * HOUR)}&bucket=1h`,
    health: () => 'api/health',
    failing: () => `api/runs?status=failed&from=${iso(Date.now() - HOUR)}&limit=50`,
  };
  const one = (name: string, group: string, path: () => string): Route => ({
    name,
    group,
    paths: () => [path()],
    call: async () => [await get(base, path())],
  });
  const routes: Route[] = [
    one('jobs, first page', 'jobs page', () => 'api/jobs?limit=50'),
    one(
      'jobs, second page (cursor)',
      'jobs page',
      () => `api/jobs?limit=50&cursor=${encodeURIComponent(firstPage.nextCursor!)}`,
    ),
    one("jobs, status 'paused'", 'jobs page', () => 'api/jobs?status=paused&limit=50'),
    one("jobs, search 'digest' (1 job in 6)", 'jobs page', () => 'api/jobs?q=digest&limit=50'),
    one(`jobs, search '${RARE}' (1 job)`, 'jobs page', () => `api/jobs?q=${RARE}&limit=50`),
    one(`job header (${firstJob})`, 'job page', () => `api/jobs/${firstJob}`),
    one(
      `job runs (${firstJob}, ${runsPerJob} runs)`,
      'job page',
      () => `api/jobs/${firstJob}/runs?limit=50`,
    ),
    {
      name: 'overview, the 3 calls together (at once, as the page makes them)',
      group: 'overview',
      paths: () => [overview.stats(), overview.health(), overview.failing()],
      call: () =>
        Promise.all([
          get(base, overview.stats()),
          get(base, overview.health()),
          get(base, overview.failing()),
        ]),
    },
    one('overview: stats, 24 h in 1 h buckets', 'overview', overview.stats),
    one('overview: health', 'overview', overview.health),
    one('overview: failed runs, last hour', 'overview', overview.failing),
    one('runs across jobs', 'runs page', () => 'api/runs?limit=50'),
    one("runs across jobs, status 'failed'", 'runs page', () => 'api/runs?status=failed&limit=50'),
  ];
  // Every route's warm-up first (the JIT sees all of the app's paths, as on a server that has been
  // serving), then each route's timed rounds.
  for (const route of routes) for (let i = 0; i < warm; i++) await route.call();
  const pages: AdminPageFigures[] = [];
  for (const route of routes) pages.push(await measure(route));

  // The jobs page's parts, on the storage in this process: its one findJobs, and the last 10 runs
  // of each of its 50 jobs (50 getRuns at once, as the route makes them).
  const page = await storage.findJobs({ limit: 50 });
  const ids = page.items.map((j) => j.id);
  const recent = await Promise.all(ids.map((id) => storage.getRuns(id, RECENT_RUNS)));
  const adminJobs = new AdminJobs(); // made once, as the route's is (with its cache of crons)
  const presented = page.items.map((job, i) => adminJobs.present(job, recent[i]!, Date.now()));
  const parts = [
    await measurePart('findJobs, a page of 50', () => storage.findJobs({ limit: 50 }), true),
    await measurePart(
      "findJobs, search 'digest'",
      () => storage.findJobs({ search: 'digest', limit: 50 }),
      true,
    ),
    await measurePart(
      `findJobs, search '${RARE}'`,
      () => storage.findJobs({ search: RARE, limit: 50 }),
      true,
    ),
    await measurePart('getRuns(id, 10) of its 50 jobs, in parallel', () =>
      Promise.all(ids.map((id) => storage.getRuns(id, 10))),
    ),
    await measurePart('getRuns(id, 10) of its 50 jobs, one after another', async () => {
      for (const id of ids) await storage.getRuns(id, 10);
    }),
    await measurePart('getRuns(id, 10), one job with runs', () => storage.getRuns(firstJob, 10)),
    await measurePart('present() of its 50 jobs (next fires, schedule in words)', async () => {
      const now = Date.now();
      page.items.forEach((job, i) => adminJobs.present(job, recent[i]!, now));
    }),
    await measurePart('JSON.stringify of the page', async () =>
      JSON.stringify({ items: presented, nextCursor: page.nextCursor }),
    ),
  ];

  const files = pageWeight();
  const fillMs = filled.jobsMs + filled.runsMs + filled.analyzeMs;
  const sum = (kind: string, key: 'bytes' | 'gzipBytes'): number =>
    files.filter((f) => f.kind === kind).reduce((n, f) => n + f[key], 0);
  const weight = {
    scriptBytes: sum('script', 'bytes'),
    styleBytes: sum('style', 'bytes'),
    otherBytes: sum('other', 'bytes'),
    scriptGzipBytes: sum('script', 'gzipBytes'),
    styleGzipBytes: sum('style', 'gzipBytes'),
    otherGzipBytes: sum('other', 'gzipBytes'),
  };

  process.stdout.write(
    `${jobs.toLocaleString('en-US')} jobs (${counts!.paused} paused, ${counts!.failed_jobs} failed),` +
      ` ${Number(counts!.runs).toLocaleString('en-US')} runs of ${jobsWithRuns.toLocaleString('en-US')} jobs` +
      ` over ${days} days (${counts!.failed} failed, ${counts!.runs24h} in the last 24 h;` +
      ` run table ${(Number(counts!.run_bytes) / 1024 / 1024).toFixed(0)} MiB,` +
      ` job table ${(Number(counts!.job_bytes) / 1024 / 1024).toFixed(0)} MiB)` +
      ` filled in ${(fillMs / 1000).toFixed(1)} s (jobs ${filled.jobsMs.toFixed(0)} ms,` +
      ` runs ${filled.runsMs.toFixed(0)} ms, ANALYZE ${filled.analyzeMs.toFixed(0)} ms); app up in ${bootMs.toFixed(0)} ms\n` +
      `median / p95 of ${rounds} calls after ${warm} untimed; server: request in to response finished (Express middleware);` +
      ` round trip: fetch and body read\n`,
  );
  for (const p of pages) {
    process.stdout.write(
      `  ${p.name}: server ${p.medianMs.toFixed(2)} / ${p.p95Ms.toFixed(2)} ms,` +
        ` round trip ${p.clientMedianMs.toFixed(2)} / ${p.clientP95Ms.toFixed(2)} ms,` +
        ` ${p.items} items, ${(p.bytes / 1000).toFixed(1)} KB; GET ${p.paths.join(', ')}\n`,
    );
  }
  process.stdout.write(`the jobs page's parts, on the storage in this process:\n`);
  for (const p of parts) {
    const plan =
      p.plan === undefined
        ? ''
        : `; ${p.plan}, server ${p.serverMs!.toFixed(2)} ms, ${p.rowsRead} rows read`;
    process.stdout.write(
      `  ${p.name}: ${p.medianMs.toFixed(2)} / ${p.p95Ms.toFixed(2)} ms${plan}\n`,
    );
  }
  process.stdout.write(
    `page weight: ${files.map((f) => `${f.name} ${f.bytes} B (${f.gzipBytes} gzipped)`).join(', ')}\n`,
  );
  report({
    jobs,
    pausedJobs: Number(counts!.paused),
    failedJobs: Number(counts!.failed_jobs),
    jobsWithRuns,
    runsPerJob,
    days,
    runs: Number(counts!.runs),
    failedRuns: Number(counts!.failed),
    runsLast24h: Number(counts!.runs24h),
    runTableBytes: Number(counts!.run_bytes),
    jobTableBytes: Number(counts!.job_bytes),
    fillMs,
    fillJobsMs: filled.jobsMs,
    fillRunsMs: filled.runsMs,
    analyzeMs: filled.analyzeMs,
    bootMs,
    poolMax: poolMax(),
    warm,
    rounds,
    pages,
    parts,
    files,
    ...weight,
  });
} finally {
  await cleanUp();
}
