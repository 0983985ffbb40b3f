/**
 * Memory over time, ours: `--jobs` in-memory cron jobs on `* * * * * *` with a no-op handler and
 * every default (`MemoryStorage`'s bounded run history among them), for `--seconds`. The heap
 * after full GCs is read at `--early` seconds and at the end: flat memory keeps them close.
 */
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { intArg, nextSecond, report, settledHeap, sleepUntil } from './common.js';

const jobs = intArg('jobs', 10_000);
const seconds = intArg('seconds', 60);
const early = intArg('early', 15);

const scheduler = new Scheduler(undefined, { logger: new NopLogger() });
scheduler.registerHandlerFunc('noop', () => undefined);
for (let i = 0; i < jobs; i++) await scheduler.addJob({ cron: '* * * * * *', handlerName: 'noop' });
const startedAt = nextSecond();
await sleepUntil(startedAt);
await scheduler.start();
// Read mid-second, between two bursts of fires.
await sleepUntil(startedAt + early * 1000 + 500);
const heapEarly = settledHeap();
await sleepUntil(startedAt + seconds * 1000 + 500);
const heapLate = settledHeap();
const metrics = scheduler.metrics();
await scheduler.stop();

report({
  jobs,
  seconds,
  early,
  runs: metrics.runsSucceeded,
  heapEarlyMiB: heapEarly / 2 ** 20,
  heapLateMiB: heapLate / 2 ** 20,
  growth: heapLate / heapEarly - 1,
});
