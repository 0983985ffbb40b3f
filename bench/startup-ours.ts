/**
 * Start-up, ours: `--jobs` jobs stored in a TypeOrmStorage on `--db` (`postgres`: the benchmarks'
 * server; `sqlite`: better-sqlite3 on a file in a temporary directory), all once-jobs due in an hour
 * but one, due now. Then a boot as an app makes it: a new DataSource, `storage.initialize()`, a
 * `Scheduler` (`concurrentRuns` 50, the rest defaults), `start()` (which loads every stored job).
 *
 * - **first fire**: ms from the new DataSource until the due job's handler is called.
 * - **heap**: heapUsed after full GCs once it fired, minus the same before the boot (the filling
 *   connection closed), and the absolute figure.
 *
 * The jobs are made by one `addJob` and copies of its row in one `INSERT ... SELECT` (new ids).
 * Tables get a unique prefix and are dropped (the SQLite directory removed), also on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/index.js';
import { JOB_WRITE_COLUMNS } from '../lib/storage/typeorm/job-sql.js';
import { choiceArg, onceCleanUp, intArg, report, settledHeap, sleep } from './common.js';
import { benchPrefix, connectPostgresOrSkip, dropStorageTables, POSTGRES_URL } from './postgres.js';

const jobs = intArg('jobs', 100_000);
const db = choiceArg('db', ['postgres', 'sqlite'] as const);

const sqliteDir = db === 'sqlite' ? mkdtempSync(join(tmpdir(), 'bench-startup-')) : undefined;
const options: DataSourceOptions =
  db === 'postgres'
    ? { type: 'postgres', url: POSTGRES_URL, connectTimeoutMS: 2_000 }
    : { type: 'better-sqlite3', database: join(sqliteDir!, 'jobs.db') };
/** PostgreSQL: the admin connection, open throughout (for the drop); SQLite: none. */
const admin = db === 'postgres' ? await connectPostgresOrSkip() : undefined;
const prefix = benchPrefix();
const tableNames = admin && new TypeOrmStorage(admin, { tablePrefix: prefix });
let booted: DataSource | undefined;
let scheduler: Scheduler | undefined;
const cleanUp = onceCleanUp(async () => {
  await scheduler?.stop().catch(() => {});
  if (booted?.isInitialized) await booted.destroy();
  if (admin && tableNames) {
    await dropStorageTables(admin, tableNames);
    await admin.destroy();
  }
  if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
});

/** Stores `jobs` jobs: all due in an hour, one due now. */
async function fill(): Promise<number> {
  const filler = await new DataSource(options).initialize();
  try {
    const storage = new TypeOrmStorage(filler, { tablePrefix: prefix });
    await storage.initialize();
    const maker = new Scheduler(storage, { logger: new NopLogger() });
    maker.registerHandlerFunc('noop', () => {});
    const start = performance.now();
    await maker.addJob({ runAt: new Date(Date.now() + 3_600_000), handlerName: 'noop' });
    const table = `"${storage.jobTableName}"`;
    const copied = JOB_WRITE_COLUMNS.filter((c) => c.name !== 'id').map((c) => `"${c.name}"`);
    const columns = copied.join(', ');
    if (db === 'postgres') {
      await filler.query(
        `INSERT INTO ${table} ("id", ${columns})
          SELECT gen_random_uuid()::text, ${columns} FROM ${table} CROSS JOIN generate_series(2, $1) AS g`,
        [jobs - 1],
      );
      await filler.query(`ANALYZE ${table}`);
    } else {
      await filler.query(
        `WITH RECURSIVE g(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM g WHERE n < ?)
          INSERT INTO ${table} ("id", ${columns})
          SELECT lower(hex(randomblob(16))), ${columns} FROM ${table} CROSS JOIN g`,
        [jobs - 1],
      );
    }
    await maker.addJob({ runAt: new Date(Date.now() - 1000), handlerName: 'noop' });
    const [row] = (await filler.query(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: unknown }[];
    if (Number(row?.n) !== jobs) throw new Error(`stored ${String(row?.n)} jobs, not ${jobs}`);
    return performance.now() - start;
  } finally {
    await filler.destroy();
  }
}

try {
  const fillMs = await fill();
  const baseline = settledHeap();

  let firstFireMs = NaN;
  const start = performance.now();
  booted = await new DataSource(options).initialize();
  const connectMs = performance.now() - start;
  const storage = new TypeOrmStorage(booted, { tablePrefix: prefix });
  await storage.initialize();
  scheduler = new Scheduler(storage, { concurrentRuns: 50, logger: new NopLogger() });
  scheduler.registerHandlerFunc('noop', () => {
    if (Number.isNaN(firstFireMs)) firstFireMs = performance.now() - start;
  });
  const startCalled = performance.now();
  await scheduler.start();
  const startMs = performance.now() - startCalled;
  while (Number.isNaN(firstFireMs)) await sleep(1);
  const heap = settledHeap();

  report({
    db,
    jobs,
    fillMs,
    connectMs,
    startMs,
    firstFireMs,
    heapRetained: heap - baseline,
    heapPerJob: (heap - baseline) / jobs,
    heapUsed: heap,
    rss: process.memoryUsage().rss,
  });
} finally {
  await cleanUp();
}
