/**
 * Start-up, the peer BullMQ: `--jobs` jobs stored in one queue on Redis (all delayed by an hour but
 * one, waiting), then a boot: `new Worker()` with `concurrency` `--concurrent` (it connects and
 * starts on its own).
 *
 * - **first fire**: ms from `new Worker()` until the waiting job's processor is called.
 * - **heap**: heapUsed after full GCs once it fired, minus the same before the boot (the filling
 *   queue closed), and the absolute figure.
 *
 * BullMQ keeps stored jobs in Redis and takes them one by one as workers ask, so neither figure
 * grows with the jobs stored. Keys get a unique prefix and are deleted afterwards, also on Ctrl-C.
 */
import { Queue, Worker } from 'bullmq';
import { onceCleanUp, intArg, report, settledHeap, sleep } from './common.js';
import { bullmqPrefix, connectRedisAdminOrSkip, redisConnection, removeKeys } from './redis.js';

const jobs = intArg('jobs', 100_000);
const concurrency = intArg('concurrent', 50);
const QUEUE = 'startup';

const admin = await connectRedisAdminOrSkip();
const prefix = bullmqPrefix();
let worker: Worker | undefined;
const cleanUp = onceCleanUp(async () => {
  await worker?.close(true).catch(() => {});
  await removeKeys(admin, prefix);
  admin.disconnect();
});

/** Stores `jobs` jobs: all delayed by an hour, one waiting. */
async function fill(): Promise<number> {
  const queue = new Queue(QUEUE, { connection: redisConnection(), prefix });
  try {
    const start = performance.now();
    for (let i = 1; i < jobs; i += 1000) {
      const n = Math.min(1000, jobs - i);
      await queue.addBulk(
        Array.from({ length: n }, () => ({ name: 'noop', data: {}, opts: { delay: 3_600_000 } })),
      );
    }
    await queue.add('noop', {});
    return performance.now() - start;
  } finally {
    await queue.close();
  }
}

try {
  const fillMs = await fill();
  const baseline = settledHeap();

  let firstFireMs = NaN;
  const start = performance.now();
  worker = new Worker(
    QUEUE,
    async () => {
      if (Number.isNaN(firstFireMs)) firstFireMs = performance.now() - start;
    },
    { connection: redisConnection(), prefix, concurrency },
  );
  worker.on('error', (error) => process.stderr.write(`BullMQ worker error: ${error.message}\n`));
  while (Number.isNaN(firstFireMs)) await sleep(1);
  const heap = settledHeap();

  report({
    jobs,
    concurrency,
    fillMs,
    firstFireMs,
    heapRetained: heap - baseline,
    heapUsed: heap,
    rss: process.memoryUsage().rss,
  });
} finally {
  await cleanUp();
}
