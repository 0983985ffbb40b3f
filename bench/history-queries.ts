/**
 * History queries of `TypeOrmStorage` on PostgreSQL (`findJobs`, `findRuns`, `getRun`, `runStats`):
 * `--jobs` jobs (1,000) and `--runs-per-job` runs each (1,000: 1,000,000 runs), one run per job per
 * hour over the last ~42 days, ~5% failed, ~0.1% running. Then each query through the storage's
 * public methods: `--warm` untimed calls (3), then `--rounds` timed ones (20), median and p95; and
 * its plan (`EXPLAIN (FORMAT JSON)` of the statement the storage ran, captured by a TypeORM logger):
 * the indexes it reads, whether it scans a table whole, whether it sorts; and the server's own time
 * for it (`EXPLAIN (ANALYZE)`, once).
 *
 * The tables are the storage's own (made by `initialize()`, with its indexes), filled with two
 * set-based `INSERT ... SELECT FROM generate_series` (timed, with the ANALYZE after), and dropped at
 * the end, on an error and on Ctrl-C. Alone:
 * `node --expose-gc --import tsx bench/history-queries.ts` (prints its table, then `RESULT {json}`).
 */
import type { DataSource, DataSourceOptions, Logger } from 'typeorm';
import type { RunStatsQuery } from '../lib/interfaces/history-query.interface.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/index.js';
import { intArg, onceCleanUp, percentiles, report } from './common.js';
import {
  benchPrefix,
  cancelStatementsNaming,
  connectPostgres,
  connectPostgresOrSkip,
  dropStorageTables,
} from './postgres.js';
import type { HistoryQueryFigures } from './section-history.js';

const jobs = intArg('jobs', 1_000);
const runsPerJob = intArg('runs-per-job', 1_000);
const warm = intArg('warm', 3);
const rounds = intArg('rounds', 20);
const HOUR = 3_600_000;

/** Records the last `SELECT` the storage's DataSource ran, while armed. */
class StatementCatcher implements Logger {
  armed = false;
  last: { sql: string; params: unknown[] } | undefined;
  logQuery(query: string, parameters?: unknown[]): void {
    if (this.armed && /^\s*SELECT/i.test(query)) {
      this.last = { sql: query, params: parameters ?? [] };
    }
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

/** What a plan node of `EXPLAIN (FORMAT JSON)` holds that we read. */
interface PlanNode {
  'Node Type': string;
  'Scan Direction'?: string;
  Strategy?: string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** The plan tree's nodes, depth first. */
function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** A node's name as `EXPLAIN`'s text format writes it (`Index Scan Backward`, `HashAggregate`). */
function nodeName(plan: PlanNode): string {
  const type = plan['Node Type'];
  if (type === 'Aggregate' && plan.Strategy === 'Hashed') return 'HashAggregate';
  if (type === 'Aggregate' && plan.Strategy === 'Sorted') return 'GroupAggregate';
  return plan['Scan Direction'] === 'Backward' ? `${type} Backward` : type;
}

/** `Limit > Index Scan Backward (job_runs_recent_idx)`: the plan's shape in one line. */
function shape(plan: PlanNode, strip: (name: string) => string): string {
  const here = `${nodeName(plan)}${plan['Index Name'] ? ` (${strip(plan['Index Name'])})` : ''}`;
  const below = (plan.Plans ?? []).map((p) => shape(p, strip));
  if (below.length === 0) return here;
  return `${here} > ${below.length === 1 ? below[0] : `[${below.join(', ')}]`}`;
}

const admin = await connectPostgresOrSkip();
const prefix = benchPrefix();
const catcher = new StatementCatcher();
const dataSource = await connectPostgres({ logger: catcher } as Partial<DataSourceOptions>);
const storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
const cleanUp = onceCleanUp(async () => {
  await cancelStatementsNaming(admin, prefix);
  await dropStorageTables(admin, storage);
  if (dataSource.isInitialized) await dataSource.destroy();
  await admin.destroy();
});

/** Fills the tables; resolves to the ms it took (the two INSERTs and the ANALYZE). */
async function fill(
  db: DataSource,
): Promise<{ jobsMs: number; runsMs: number; analyzeMs: number }> {
  const jt = `"${storage.jobTableName}"`;
  const rt = `"${storage.runTableName}"`;
  // Job ids md5('job-' || n), n from 0: the runs name their job by the same formula, with no join.
  // Made ~90 days ago onwards, an hour apart; 5% paused, 1% failed, 1% running, the rest pending.
  let started = performance.now();
  await db.query(
    `INSERT INTO ${jt} ("id", "name", "description", "type", "cron", "interval_ms", "timezone",
        "run_at", "status", "handler_name", "payload", "next_run_at", "last_run_at", "last_result",
        "retry_count", "max_retry", "misfire_policy", "max_misfires", "version", "created_at",
        "updated_at")
      SELECT md5('job-' || n), 'job ' || n, '', 'cron', '0 * * * *', NULL, NULL,
        NULL,
        CASE WHEN n % 20 = 0 THEN 'paused' WHEN n % 100 = 1 THEN 'failed'
             WHEN n % 100 = 2 THEN 'running' ELSE 'pending' END,
        'handler-' || (n % 10), '{"n":' || n || '}',
        date_trunc('hour', now()) + interval '1 hour', date_trunc('hour', now()), '',
        0, 3, 'fire-once', 0, 1,
        now() - interval '90 days' + n * interval '1 hour' + (random() * 60) * interval '1 second',
        now()
      FROM generate_series(0, $1::int - 1) AS n`,
    [jobs],
  );
  const jobsMs = performance.now() - started;
  // Run g: job g % jobs, h = runsPerJob - 1 - g / jobs hours ago (oldest first, as they would be
  // written), scheduled a minute before that hour mark, started up to 50 s after it.
  started = performance.now();
  await db.query(
    `INSERT INTO ${rt} ("id", "job_id", "status", "start_at", "end_at", "output", "error",
        "duration_ms", "trace_id", "attempt", "scheduled_at", "created_at")
      SELECT gen_random_uuid()::text, md5('job-' || (g % $1::int)), status,
        start_at, CASE WHEN status = 'running' THEN NULL ELSE start_at + duration * interval '1 millisecond' END,
        CASE WHEN status = 'success' THEN '{"ok":true}' ELSE '' END,
        CASE WHEN status = 'failed' THEN 'Error: handler failed (run ' || g || ')' ELSE '' END,
        CASE WHEN status = 'running' THEN 0 ELSE duration END,
        md5('trace-' || g), 1, scheduled_at, start_at
      FROM (
        SELECT g, scheduled_at, scheduled_at + round(jitter * 50000) * interval '1 millisecond' AS start_at,
          CASE WHEN r < 0.001 THEN 'running' WHEN r < 0.051 THEN 'failed' ELSE 'success' END AS status,
          floor(d * d * 5000)::bigint AS duration
        FROM (
          SELECT g, random() AS r, random() AS d, random() AS jitter,
            date_trunc('second', now()) - interval '1 minute'
              - ($2::int - 1 - g / $1::int) * interval '1 hour' AS scheduled_at
          FROM generate_series(0, $1::int * $2::int - 1) AS g
        ) AS drawn
      ) AS run`,
    [jobs, runsPerJob],
  );
  const runsMs = performance.now() - started;
  started = performance.now();
  await db.query(`ANALYZE ${jt}`);
  await db.query(`ANALYZE ${rt}`);
  return { jobsMs, runsMs, analyzeMs: performance.now() - started };
}

try {
  await storage.initialize();
  const filled = await fill(admin);
  const [counts] = (await admin.query(
    `SELECT (SELECT COUNT(*) FROM "${storage.jobTableName}") AS jobs,
        (SELECT COUNT(*) FROM "${storage.runTableName}") AS runs,
        (SELECT COUNT(*) FROM "${storage.runTableName}" WHERE status = 'failed') AS failed,
        (SELECT COUNT(*) FROM "${storage.runTableName}" WHERE status = 'running') AS running,
        pg_total_relation_size('"${storage.runTableName}"') AS run_bytes`,
  )) as Record<string, string>[];
  if (Number(counts?.runs) !== jobs * runsPerJob || Number(counts?.jobs) !== jobs) {
    throw new Error(`filled ${counts?.jobs} jobs and ${counts?.runs} runs`);
  }

  const now = Date.now();
  const someJob = (await storage.findJobs({ limit: 1 })).items[0]!;
  const firstPage = await storage.findRuns({ limit: 50 });
  const someRun = firstPage.items[17]!;
  const stats: RunStatsQuery = { from: now - 24 * HOUR, to: now, bucket: '1h' };
  const queries: { name: string; call: () => Promise<unknown> }[] = [
    { name: 'findRuns, all, first page', call: () => storage.findRuns({ limit: 50 }) },
    {
      name: 'findRuns, all, second page (nextCursor)',
      call: () => storage.findRuns({ limit: 50, cursor: firstPage.nextCursor }),
    },
    {
      name: 'findRuns, by job',
      call: () => storage.findRuns({ jobId: someJob.id, limit: 50 }),
    },
    {
      name: "findRuns, by status 'failed'",
      call: () => storage.findRuns({ status: 'failed', limit: 50 }),
    },
    {
      name: 'findRuns, time range (now-6h to now-5h)',
      call: () => storage.findRuns({ from: now - 6 * HOUR, to: now - 5 * HOUR, limit: 50 }),
    },
    { name: "runStats, 24 h in '1h' buckets", call: () => storage.runStats(stats) },
    { name: 'findJobs, all', call: () => storage.findJobs({ limit: 50 }) },
    {
      name: "findJobs, by status 'paused'",
      call: () => storage.findJobs({ status: 'paused', limit: 50 }),
    },
    { name: 'getRun(id)', call: () => storage.getRun(someRun.id) },
  ];

  const strip = (name: string): string => name.replace(prefix, '');
  const figures: HistoryQueryFigures[] = [];
  const times = new Float64Array(rounds);
  for (const q of queries) {
    catcher.take();
    catcher.armed = true;
    const result = await q.call();
    catcher.armed = false;
    const statement = catcher.take();
    if (statement === undefined) throw new Error(`${q.name}: no SELECT seen`);
    for (let i = 1; i < warm; i++) await q.call();
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      await q.call();
      times[i] = performance.now() - start;
    }
    const [median, p95] = percentiles(times, rounds, [0.5, 0.95]);
    const explain = async (
      options: string,
    ): Promise<{ Plan: PlanNode } & Record<string, unknown>> =>
      (
        (await admin.query(`EXPLAIN (${options}) ${statement.sql}`, statement.params)) as {
          'QUERY PLAN': ({ Plan: PlanNode } & Record<string, unknown>)[];
        }[]
      )[0]!['QUERY PLAN'][0]!;
    const plan = (await explain('FORMAT JSON')).Plan;
    const analyzed = await explain('ANALYZE, FORMAT JSON');
    const all = nodes(plan);
    const actual = nodes(analyzed.Plan);
    const scanned = actual
      .filter((n) => /Scan/.test(n['Node Type']) && n['Relation Name'] !== undefined)
      .reduce((sum, n) => sum + (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1), 0);
    const items = Array.isArray(result)
      ? result.length
      : result !== null && typeof result === 'object' && 'items' in result
        ? (result.items as unknown[]).length
        : 1;
    figures.push({
      name: q.name,
      medianMs: median!,
      p95Ms: p95!,
      items,
      indexes: [...new Set(all.flatMap((n) => (n['Index Name'] ? [strip(n['Index Name'])] : [])))],
      seqScan: all.some((n) => n['Node Type'] === 'Seq Scan'),
      sort: all.some((n) => /Sort/.test(n['Node Type'])),
      plan: shape(plan, strip),
      serverMs: Number(analyzed['Execution Time']),
      rowsScanned: scanned,
    });
  }

  const fillMs = filled.jobsMs + filled.runsMs + filled.analyzeMs;
  process.stdout.write(
    `${jobs} jobs, ${Number(counts!.runs).toLocaleString('en-US')} runs (${counts!.failed} failed,` +
      ` ${counts!.running} running; run table ${(Number(counts!.run_bytes) / 1024 / 1024).toFixed(0)} MiB)` +
      ` filled in ${(fillMs / 1000).toFixed(1)} s (jobs ${filled.jobsMs.toFixed(0)} ms,` +
      ` runs ${filled.runsMs.toFixed(0)} ms, ANALYZE ${filled.analyzeMs.toFixed(0)} ms)\n` +
      `median / p95 of ${rounds} calls after ${warm} untimed; server: EXPLAIN ANALYZE's execution time\n`,
  );
  for (const f of figures) {
    process.stdout.write(
      `  ${f.name}: ${f.medianMs.toFixed(2)} / ${f.p95Ms.toFixed(2)} ms, ${f.items} items;` +
        ` server ${f.serverMs.toFixed(2)} ms, ${f.rowsScanned} rows read; ${f.plan}\n`,
    );
  }
  report({
    jobs,
    runs: Number(counts!.runs),
    failedRuns: Number(counts!.failed),
    runningRuns: Number(counts!.running),
    runTableBytes: Number(counts!.run_bytes),
    fillMs,
    fillJobsMs: filled.jobsMs,
    fillRunsMs: filled.runsMs,
    analyzeMs: filled.analyzeMs,
    warm,
    rounds,
    queries: figures,
  });
} finally {
  await cleanUp();
}
