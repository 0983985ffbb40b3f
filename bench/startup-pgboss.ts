/**
 * Start-up, the peer pg-boss 10: `--jobs` jobs stored in one queue (all with `startAfter` in an hour
 * but one, due now), then a boot: `new PgBoss()`, `start()`, and the drain's workers (`--loops`
 * `work()` loops of `--batch-size`, polling every `--poll-ms`).
 *
 * - **first fire**: ms from `new PgBoss()` until the due job's handler is called.
 * - **heap**: heapUsed after full GCs once it fired, minus the same before the boot (the filling
 *   instance stopped), and the absolute figure.
 *
 * pg-boss keeps stored jobs in PostgreSQL and fetches due ones when polled, so neither figure grows
 * with the jobs stored. Its schema is unique and dropped afterwards, also on Ctrl-C.
 */
import type PgBoss from 'pg-boss';
import { intArg, report, settledHeap, sleep } from './common.js';
import { pgBossScene, startPgBoss } from './pgboss.js';
import { connectPostgresOrSkip } from './postgres.js';

const jobs = intArg('jobs', 100_000);
const loops = intArg('loops', 10);
const batchSize = intArg('batch-size', 500);
const pollMs = intArg('poll-ms', 500);
const QUEUE = 'startup';

const admin = await connectPostgresOrSkip();
let boss: PgBoss | undefined;
const { schema, cleanUp } = pgBossScene(admin, () => boss);

/** Stores `jobs` jobs: all due in an hour, one due now. */
async function fill(): Promise<number> {
  const { boss: filler } = await startPgBoss(schema);
  try {
    const start = performance.now();
    await filler.createQueue(QUEUE);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    for (let i = 1; i < jobs; i += 10_000) {
      const n = Math.min(10_000, jobs - i);
      await filler.insert(Array.from({ length: n }, () => ({ name: QUEUE, startAfter: later })));
    }
    await filler.insert([{ name: QUEUE }]);
    await admin.query(`ANALYZE "${schema}".job`);
    return performance.now() - start;
  } finally {
    await filler.stop({ graceful: false, wait: true });
  }
}

try {
  const fillMs = await fill();
  const baseline = settledHeap();

  let firstFireMs = NaN;
  const start = performance.now();
  boss = (await startPgBoss(schema)).boss;
  const startMs = performance.now() - start;
  for (let i = 0; i < loops; i++) {
    await boss.work<object>(
      QUEUE,
      { batchSize, pollingIntervalSeconds: pollMs / 1000 },
      async () => {
        if (Number.isNaN(firstFireMs)) firstFireMs = performance.now() - start;
      },
    );
  }
  while (Number.isNaN(firstFireMs)) await sleep(1);
  const heap = settledHeap();

  report({
    jobs,
    loops,
    batchSize,
    pollMs,
    fillMs,
    startMs,
    firstFireMs,
    heapRetained: heap - baseline,
    heapUsed: heap,
    rss: process.memoryUsage().rss,
  });
} finally {
  await cleanUp();
}
