/**
 * Persisted drain, the peer BullMQ: `--jobs` jobs waiting in a queue on Redis (`TEST_REDIS_URL`,
 * default 127.0.0.1:6379), a Worker with `concurrency` `--concurrent` and an async no-op processor.
 * Completed jobs are kept (BullMQ's default: its completed set is the history, as our run rows are;
 * https://docs.bullmq.io/guide/workers/auto-removal-of-jobs). Concurrency:
 * https://docs.bullmq.io/guide/workers/concurrency.
 *
 * Runs/s counts from `worker.run()` (connections already up) until a second connection sees every
 * job in the completed set (it polls `ZCARD` every 10 ms). The jobs are added with `addBulk` before
 * (timed apart). Keys get a unique prefix and are deleted afterwards, also on Ctrl-C. An unreachable
 * server reports `{ skipped: true, reason }`.
 */
import { Queue, Worker } from 'bullmq';
import { onceCleanUp, intArg, report, sleep } from './common.js';
import {
  bullmqPrefix,
  connectRedisAdminOrSkip,
  redisConnection,
  redisCpuMs,
  redisPersistence,
  redisScriptCalls,
  redisVersion,
  removeKeys,
} from './redis.js';

const jobs = intArg('jobs', 20_000);
const concurrency = intArg('concurrent', 50);
const QUEUE = 'drain';

const admin = await connectRedisAdminOrSkip();
const prefix = bullmqPrefix();
let queue: Queue | undefined;
let worker: Worker | undefined;
const cleanUp = onceCleanUp(async () => {
  await worker?.close(true).catch(() => {});
  await queue?.close().catch(() => {});
  await removeKeys(admin, prefix);
  admin.disconnect();
});

try {
  const connection = redisConnection();
  queue = new Queue(QUEUE, { connection, prefix });
  const addStart = performance.now();
  for (let i = 0; i < jobs; i += 1000) {
    const chunk = Array.from({ length: Math.min(1000, jobs - i) }, () => ({
      name: 'noop',
      data: {},
    }));
    await queue.addBulk(chunk);
  }
  const addMs = performance.now() - addStart;

  let handled = 0;
  let handlersMs = NaN;
  worker = new Worker(
    QUEUE,
    async () => {
      if (++handled === jobs) handlersMs = performance.now() - start;
    },
    { connection, prefix, concurrency, autorun: false },
  );
  worker.on('error', (error) => process.stderr.write(`BullMQ worker error: ${error.message}\n`));
  await worker.waitUntilReady();
  const completedKey = `${prefix}:${QUEUE}:completed`;

  const scripts0 = await redisScriptCalls(admin);
  const cpu0 = process.cpuUsage();
  const redis0 = await redisCpuMs(admin);
  const start = performance.now();
  void worker.run();
  while ((await admin.zcard(completedKey)) < jobs) await sleep(10);
  const runsMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const redisCpu = (await redisCpuMs(admin)) - redis0;
  const scriptCalls = (await redisScriptCalls(admin)) - scripts0;

  report({
    jobs,
    concurrency,
    addMs,
    handlersMs,
    runsMs,
    runsPerSec: jobs / (runsMs / 1000),
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    redisCpuMs: redisCpu,
    // Server-wide: anything else running scripts on this Redis meanwhile is counted too.
    scriptCallsPerJob: scriptCalls / jobs,
    completedKept: await admin.zcard(completedKey),
    persistence: await redisPersistence(admin),
    redisVersion: await redisVersion(admin),
  });
} finally {
  await cleanUp();
}
