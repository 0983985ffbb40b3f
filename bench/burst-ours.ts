/**
 * Fire burst, ours: `--jobs` in-memory cron jobs on `* * * * * *` with a no-op handler, observed for
 * `--seconds` whole seconds. Lateness is the handler's start minus `ctx.run.scheduledAt`.
 */
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../lib/storage/memory/memory.storage.js';
import { LatenessRecorder, intArg, nextSecond, report, settledHeap, sleepUntil } from './common.js';

const jobs = intArg('jobs', 10_000);
const seconds = intArg('seconds', 10);
/** Whole seconds of fires before the window (JIT warm-up, young generation grown back after the forced GCs). */
const warmup = intArg('warmup', 2);
const concurrentRuns = intArg('concurrent', 10_000);

const recorder = new LatenessRecorder(jobs * (seconds + 1));
const scheduler = new Scheduler(new MemoryStorage(), {
  concurrentRuns,
  logger: new NopLogger(),
});
scheduler.registerHandlerFunc('noop', (_payload, ctx) => {
  recorder.record(ctx.run.scheduledAt.getTime(), Date.now());
});
const baseline = settledHeap();

// Add and start early in a second, so the heap is measured before the first fire.
await sleepUntil(nextSecond() + 20);
const addStart = performance.now();
for (let i = 0; i < jobs; i++) {
  await scheduler.addJob({ cron: '* * * * * *', handlerName: 'noop' });
}
const addMs = performance.now() - addStart;
await scheduler.start();
const heap = settledHeap();
const measuredAt = Date.now();
const idleClean = measuredAt < nextSecond(addStart + performance.timeOrigin);

recorder.windowStart = nextSecond(measuredAt) + warmup * 1000;
recorder.windowEnd = recorder.windowStart + seconds * 1000;
const heapBeforeWindow = settledHeap();
await sleepUntil(recorder.windowEnd + 1500);
const metrics = scheduler.metrics();
const heapAfterWindow = settledHeap();
await scheduler.stop();

const expected = jobs * seconds;
const summary = recorder.summary();
report({
  jobs,
  seconds,
  warmup,
  concurrentRuns,
  expected,
  ...summary,
  firesPerSec: summary.fires / seconds,
  missed: expected - summary.fires,
  firesSkipped: metrics.firesSkipped,
  runsStarted: metrics.runsStarted,
  heapPerJob: (heap - baseline) / jobs,
  idleClean,
  // Every fire between the two measurements: the window's, the warm-up's and those after the window.
  retainedPerRun:
    (heapAfterWindow - heapBeforeWindow) / Math.max(1, summary.fires + recorder.outside),
  addsPerSec: jobs / (addMs / 1000),
});
