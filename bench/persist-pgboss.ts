/**
 * Persisted drain, the peer pg-boss 10: `--jobs` jobs due now in one queue on the benchmarks'
 * PostgreSQL, drained by `--loops` `work()` loops, each fetching up to `--batch-size` jobs per poll,
 * polling every `--poll-ms` (pg-boss's least is 500 ms), a pool of `--pool` connections, and a
 * handler that awaits an async no-op per job. A completed job stays in the job table with state
 * `completed` (until archived, 12 h later by default): its history, as our run rows are.
 *
 * pg-boss 10 has no per-worker concurrency option: its fast path is several loops with large batches
 * (https://github.com/timgit/pg-boss/blob/10.4.0/docs/api/workers.md). A loop fetches a batch, runs
 * the handler on it, starts completing it (one statement for the batch, not awaited) and fetches
 * again, at most once per polling interval. The table is ANALYZEd after filling: without
 * statistics, the completion's `id IN (SELECT UNNEST($2::uuid[]))` is planned as a scan per batch.
 *
 * Runs/s counts from the first `work()` until a second connection sees every job `completed`
 * (polling every 10 ms). pg-boss's schema is unique and dropped afterwards, also on Ctrl-C.
 */
import type PgBoss from 'pg-boss';
import { intArg, report, sleep } from './common.js';
import { pgBossScene, startPgBoss } from './pgboss.js';
import { connectPostgresOrSkip, postgresCpuFor } from './postgres.js';

const jobs = intArg('jobs', 20_000);
const loops = intArg('loops', 10);
const batchSize = intArg('batch-size', 500);
const pollMs = intArg('poll-ms', 500);
const pool = intArg('pool', 10);
const QUEUE = 'drain';

const admin = await connectPostgresOrSkip();
let boss: PgBoss | undefined;
const { schema, cleanUp } = pgBossScene(admin, () => boss);

try {
  const started = await startPgBoss(schema, { max: pool, application_name: schema });
  boss = started.boss;
  await boss.createQueue(QUEUE);
  const addStart = performance.now();
  for (let i = 0; i < jobs; i += 5_000) {
    const chunk = Array.from({ length: Math.min(5_000, jobs - i) }, () => ({
      name: QUEUE,
      data: {},
    }));
    await boss.insert(chunk);
  }
  const addMs = performance.now() - addStart;
  await admin.query(`ANALYZE "${schema}".job`);

  const noop = async (_job: PgBoss.Job<object>): Promise<void> => {};
  let handled = 0;
  let handlersMs = NaN;
  const completed = async (): Promise<number> => {
    const [row] = (await admin.query(
      `SELECT COUNT(*) AS n FROM "${schema}".job WHERE name = $1 AND state = 'completed'`,
      [QUEUE],
    )) as { n: string }[];
    return Number(row?.n);
  };

  const statements0 = started.statements();
  const cpu0 = process.cpuUsage();
  const pgCpuWindow = await postgresCpuFor(admin, schema);
  const start = performance.now();
  for (let i = 0; i < loops; i++) {
    await boss.work<object>(
      QUEUE,
      { batchSize, pollingIntervalSeconds: pollMs / 1000 },
      async (batch) => {
        for (const job of batch) await noop(job);
        handled += batch.length;
        if (handled === jobs) handlersMs = performance.now() - start;
      },
    );
  }
  while ((await completed()) < jobs) await sleep(10);
  const runsMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const pgCpu = await pgCpuWindow();
  const statements = started.statements() - statements0;

  report({
    jobs,
    loops,
    batchSize,
    pollMs,
    pool,
    addMs,
    handlersMs,
    runsMs,
    runsPerSec: jobs / (runsMs / 1000),
    // Includes the polls of loops that found the queue empty at the end.
    statements,
    statementsPerRun: statements / jobs,
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    postgresCpuMs: pgCpu,
  });
} finally {
  await cleanUp();
}
