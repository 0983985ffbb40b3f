/**
 * Drain, ours: `--jobs` once-jobs already due, `concurrentRuns` `--concurrent`, an async no-op
 * handler. Runs/s counts from `start()` until every run is recorded (metrics), adds excluded.
 */
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../lib/storage/memory/memory.storage.js';
import { intArg, report, settledHeap } from './common.js';

const jobs = intArg('jobs', 100_000);
const concurrentRuns = intArg('concurrent', 50);

const scheduler = new Scheduler(new MemoryStorage(), {
  concurrentRuns,
  logger: new NopLogger(),
});
scheduler.registerHandlerFunc('noop', async () => {});

const runAt = new Date(Date.now() - 1000);
const addStart = performance.now();
for (let i = 0; i < jobs; i++) await scheduler.addJob({ runAt, handlerName: 'noop' });
const addMs = performance.now() - addStart;
settledHeap();

const done = (): boolean => {
  const m = scheduler.metrics();
  return m.runsSucceeded + m.runsFailed >= jobs;
};
const start = performance.now();
await scheduler.start();
const startedMs = performance.now() - start;
// A no-op handler keeps the drain in microtasks: this poll runs once the loop gets a turn.
await new Promise<void>((resolve) => {
  const poll = setInterval(() => {
    if (!done()) return;
    clearInterval(poll);
    resolve();
  }, 1);
});
const drainMs = performance.now() - start;
const metrics = scheduler.metrics();
await scheduler.stop();

report({
  jobs,
  concurrentRuns,
  runsPerSec: jobs / (drainMs / 1000),
  drainMs,
  startMs: startedMs,
  addsPerSec: jobs / (addMs / 1000),
  addMs,
  succeeded: metrics.runsSucceeded,
  failed: metrics.runsFailed,
});
