/**
 * Persisted drain on PostgreSQL: `--jobs` once-jobs already due, a no-op handler, `concurrentRuns`
 * `--concurrent`, the Scheduler on a TypeOrmStorage. `--mode`:
 *
 * - `off`: batching off; `on`: `enableBatchUpdate` with `--batch-size` and `--flush` (ms). Runs/s
 *   counts from `start()` (which loads the jobs) until every run row is in the table with status
 *   `success` (an admin connection polls `COUNT(*)`); statements are counted through the DataSource's
 *   TypeORM `logger` (`logQuery`) over the same window, by kind.
 * - `bound`: what the server does on one connection of the same kind of DataSource: sequential
 *   single-row INSERT commits/s and 100-row INSERTs rows/s into a table shaped like the run table,
 *   through TypeORM's QueryRunner and through the bare `pg` client.
 *
 * Unreachable server: reports `{ skipped: true, reason }`. Tables get a unique prefix and are dropped.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, DataSourceOptions, Logger, QueryRunner } from 'typeorm';
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/index.js';
import { JOB_WRITE_COLUMNS, RUN_WRITE_COLUMNS } from '../lib/storage/typeorm/job-sql.js';
import { intArg, report, sleep } from './common.js';
import {
  benchPrefix,
  connectPostgres,
  connectPostgresOrSkip,
  dropStorageTables,
  dropTables,
  postgresCpuFor,
} from './postgres.js';

const jobs = intArg('jobs', 20_000);
const concurrentRuns = intArg('concurrent', 50);
const batchSize = intArg('batch-size', 500);
const flushMs = intArg('flush', 100);
const mode = process.argv.find((a) => a.startsWith('--mode='))?.slice(7) ?? 'on';
if (!['on', 'off', 'bound'].includes(mode)) throw new Error(`--mode must be on, off or bound`);

type Kind =
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'select'
  | 'runUpsert'
  | 'jobUpdate'
  | 'jobBatchUpdate'
  | 'other';

/** Counts statements by kind, rows per batch statement, and (over 1 ms) their time (a TypeORM Logger). */
class StatementCounter implements Logger {
  counting = false;
  readonly count: Record<Kind, number> = {
    begin: 0,
    commit: 0,
    rollback: 0,
    select: 0,
    runUpsert: 0,
    jobUpdate: 0,
    jobBatchUpdate: 0,
    other: 0,
  };
  readonly ms: Record<Kind, number> = { ...this.count };
  upsertedRuns = 0;
  batchUpdatedJobs = 0;
  maxRunsPerUpsert = 0;

  constructor(
    private readonly runTable: string,
    private readonly jobTable: string,
  ) {}

  kind(query: string): Kind {
    const head = query.trimStart().slice(0, 40).toUpperCase();
    if (head.startsWith('BEGIN') || head.startsWith('START TRANSACTION')) return 'begin';
    if (head.startsWith('COMMIT')) return 'commit';
    if (head.startsWith('ROLLBACK')) return 'rollback';
    if (head.startsWith('SELECT')) return 'select';
    if (head.startsWith('INSERT') && query.includes(`"${this.runTable}"`)) return 'runUpsert';
    if (head.startsWith('UPDATE') && query.includes(`"${this.jobTable}"`)) {
      return query.includes('jsonb_array_elements(') || query.includes('FROM (VALUES')
        ? 'jobBatchUpdate'
        : 'jobUpdate';
    }
    return 'other';
  }

  logQuery(query: string, parameters?: unknown[]): void {
    if (!this.counting) return;
    const kind = this.kind(query);
    this.count[kind]++;
    const params = parameters?.length ?? 0;
    // Rows: one JSON array of rows (`jsonRows`), or one parameter per value (`VALUES`).
    const rowsOf = (columns: number): number =>
      typeof parameters?.[0] === 'string' && params === 1
        ? jsonRowCount(parameters[0])
        : params / columns;
    if (kind === 'runUpsert') {
      const rows = rowsOf(RUN_WRITE_COLUMNS.length + 1);
      this.upsertedRuns += rows;
      this.maxRunsPerUpsert = Math.max(this.maxRunsPerUpsert, rows);
    } else if (kind === 'jobBatchUpdate') {
      this.batchUpdatedJobs += rowsOf(JOB_WRITE_COLUMNS.length);
    }
  }
  logQuerySlow(time: number, query: string): void {
    if (this.counting) this.ms[this.kind(query)] += time;
  }
  logQueryError(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  total(): number {
    return Object.values(this.count).reduce((a, b) => a + b, 0);
  }
}

function noop(): void {}

/** Rows in a `jsonRows` parameter (an array of arrays of scalars), without parsing it. */
function jsonRowCount(json: string): number {
  let rows = 1;
  for (let at = json.indexOf('],['); at !== -1; at = json.indexOf('],[', at + 3)) rows++;
  return rows;
}

function spread(statement: { sql: string; params: unknown[] }): [string, unknown[]] {
  return [statement.sql, statement.params];
}

/** Times `body` repeatedly for about `ms`; resolves to calls per second. */
async function perSecond(ms: number, body: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 10; i++) await body(); // warm-up
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await body();
    calls++;
  }
  return calls / ((performance.now() - start) / 1000);
}

async function bound(admin: DataSource): Promise<Record<string, unknown>> {
  const p = benchPrefix();
  const storage = new TypeOrmStorage(admin, { tablePrefix: p });
  await storage.initialize();
  const table = `${p}bound`;
  await admin.query(
    `CREATE TABLE "${table}" (LIKE "${storage.runTableName}" INCLUDING DEFAULTS INCLUDING INDEXES)`,
  );
  try {
    const columns = RUN_WRITE_COLUMNS.map((c) => `"${c.name}"`).join(', ');
    const jobId = randomUUID();
    let n = 0;
    /** One run-like row: unique id and fire, 12 values. */
    const row = (): unknown[] => {
      const at = new Date(Date.UTC(2030, 0, 1) + n++).toISOString();
      return [randomUUID(), jobId, 'success', at, at, '', '', 0, '', 1, at, at];
    };
    const values = (rows: number): { sql: string; params: unknown[] } => {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const start = params.length;
        params.push(...row());
        tuples.push(`(${RUN_WRITE_COLUMNS.map((_, i) => `$${start + i + 1}`).join(', ')})`);
      }
      return { sql: `INSERT INTO "${table}" (${columns}) VALUES ${tuples.join(', ')}`, params };
    };

    const runner: QueryRunner = admin.createQueryRunner();
    await runner.connect();
    const pool = admin.driver as unknown as {
      master: {
        connect(): Promise<{
          query(sql: string, params: unknown[]): Promise<unknown>;
          release(): void;
        }>;
      };
    };
    const client = await pool.master.connect();
    /** A statement through a fresh QueryRunner (as TypeOrmStorage runs a lone statement). */
    const fresh = async (sql: string, params: unknown[]): Promise<void> => {
      const own = admin.createQueryRunner();
      try {
        await own.query(sql, params);
      } finally {
        await own.release();
      }
    };
    const variants: Record<string, () => Promise<void>> = {
      commits: () => runner.query(...spread(values(1))).then(noop),
      commitsRaw: () => client.query(...spread(values(1))).then(noop),
      commitsFreshRunner: () => fresh(...spread(values(1))),
      inserts100: () => runner.query(...spread(values(100))).then(noop),
      inserts100Raw: () => client.query(...spread(values(100))).then(noop),
      // Round trips with no write: the client's cost per statement (TypeORM vs bare pg).
      selects: () => runner.query('SELECT 1').then(noop),
      selectsRaw: () => client.query('SELECT 1', []).then(noop),
      selectsFreshRunner: () => fresh('SELECT 1', []),
    };
    /** Best of 3 interleaved rounds of 500 ms each: other load on the machine only lowers a round. */
    const best: Record<string, number> = {};
    try {
      for (let round = 0; round < 3; round++) {
        for (const [name, body] of Object.entries(variants)) {
          best[name] = Math.max(best[name] ?? 0, await perSecond(500, body));
        }
      }
      const [settings] = (await admin.query(
        `SELECT current_setting('server_version') AS sv, current_setting('synchronous_commit') AS sc, current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS wsm`,
      )) as { sv: string; sc: string; fsync: string; wsm: string }[];
      return {
        commitsPerSec: best.commits,
        commitsPerSecRaw: best.commitsRaw,
        commitsPerSecFreshRunner: best.commitsFreshRunner,
        rowsPerSec100: (best.inserts100 as number) * 100,
        rowsPerSec100Raw: (best.inserts100Raw as number) * 100,
        selectsPerSec: best.selects,
        selectsPerSecRaw: best.selectsRaw,
        selectsPerSecFreshRunner: best.selectsFreshRunner,
        settings: `PostgreSQL ${settings?.sv}, synchronous_commit=${settings?.sc}, fsync=${settings?.fsync}, wal_sync_method=${settings?.wsm}`,
      };
    } finally {
      client.release();
      await runner.release();
    }
  } finally {
    await dropTables(admin, [table]);
    await dropStorageTables(admin, storage);
  }
}

async function drain(admin: DataSource, batched: boolean): Promise<Record<string, unknown>> {
  const p = benchPrefix();
  const counter = new StatementCounter(`${p}job_runs`, `${p}jobs`);
  const applicationName = `${p}scheduler`;
  const dataSource = await connectPostgres({
    logger: counter,
    maxQueryExecutionTime: 0.5,
    applicationName,
  } as Partial<DataSourceOptions>);
  const storage = new TypeOrmStorage(dataSource, { tablePrefix: p });
  try {
    await storage.initialize();
    const scheduler = new Scheduler(storage, {
      concurrentRuns,
      logger: new NopLogger(),
      enableBatchUpdate: batched,
      batchSize,
      batchFlushInterval: flushMs,
    });
    scheduler.registerHandlerFunc('noop', async () => {});

    // One job through addJob, then copies of its row (new ids) in one statement.
    const addStart = performance.now();
    await scheduler.addJob({ runAt: new Date(Date.now() - 1000), handlerName: 'noop' });
    const copied = JOB_WRITE_COLUMNS.filter((c) => c.name !== 'id').map((c) => `"${c.name}"`);
    await admin.query(
      `INSERT INTO "${storage.jobTableName}" ("id", ${copied.join(', ')})
        SELECT gen_random_uuid()::text, ${copied.join(', ')}
        FROM "${storage.jobTableName}" CROSS JOIN generate_series(2, $1) AS g`,
      [jobs],
    );
    await admin.query(`ANALYZE "${storage.jobTableName}"`);
    const addMs = performance.now() - addStart;

    const progress = async (): Promise<{ runs: number; jobs: number }> => {
      const [row] = (await admin.query(
        `SELECT (SELECT COUNT(*) FROM "${storage.runTableName}" WHERE "status" = 'success') AS runs,
                (SELECT COUNT(*) FROM "${storage.jobTableName}" WHERE "status" = 'completed') AS jobs`,
      )) as { runs: string; jobs: string }[];
      return { runs: Number(row?.runs), jobs: Number(row?.jobs) };
    };

    const cpu0 = process.cpuUsage();
    const pgCpuWindow = await postgresCpuFor(admin, applicationName);
    counter.counting = true;
    const start = performance.now();
    await scheduler.start();
    const startMs = performance.now() - start;
    // Handlers done (their writes may still be under way or buffered).
    while (scheduler.metrics().runsSucceeded + scheduler.metrics().runsFailed < jobs) {
      await sleep(5);
    }
    const handlersMs = performance.now() - start;
    let runsMs = NaN;
    let jobsMs = NaN;
    for (;;) {
      const now = await progress();
      const at = performance.now() - start;
      if (Number.isNaN(runsMs) && now.runs >= jobs) runsMs = at;
      if (Number.isNaN(jobsMs) && now.jobs >= jobs) jobsMs = at;
      if (now.runs >= jobs && now.jobs >= jobs) break;
      await sleep(10);
    }
    counter.counting = false;
    const cpu = process.cpuUsage(cpu0);
    const pgCpu = (await pgCpuWindow()) / 1000;
    // The write buffer's counters, as the scheduler reports them (present when batching is on).
    const batchMetrics = scheduler.metrics().batch;
    await scheduler.stop();
    const metrics = scheduler.metrics();
    const statements = counter.total();
    const control = counter.count.begin + counter.count.commit + counter.count.rollback;
    return {
      jobs,
      concurrentRuns,
      batched,
      batchSize: batched ? batchSize : undefined,
      flushMs: batched ? flushMs : undefined,
      addMs,
      startMs,
      handlersMs,
      runsMs,
      jobsMs,
      runsPerSec: jobs / (runsMs / 1000),
      statements,
      statementsPerRun: statements / jobs,
      controlStatements: control,
      counts: counter.count,
      slowMs: counter.ms,
      upsertedRuns: counter.upsertedRuns,
      batchUpdatedJobs: counter.batchUpdatedJobs,
      maxRunsPerUpsert: counter.maxRunsPerUpsert,
      flushes: batchMetrics?.flushes,
      flushFailures: batchMetrics?.flushFailures,
      nodeCpuMs: (cpu.user + cpu.system) / 1000,
      postgresCpuMs: pgCpu * 1000,
      succeeded: metrics.runsSucceeded,
      failed: metrics.runsFailed,
    };
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropStorageTables(admin, storage);
  }
}

const admin = await connectPostgresOrSkip();
try {
  report(mode === 'bound' ? await bound(admin) : await drain(admin, mode === 'on'));
} finally {
  await admin.destroy();
}
