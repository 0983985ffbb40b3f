/**
 * Fire burst, the peer: `--jobs` `CronJob`s of the `cron` package (what @nestjs/schedule runs on)
 * on `* * * * * *` with a no-op onTick. Lateness is the tick minus the start of its second.
 */
import { CronJob } from 'cron';
import { LatenessRecorder, intArg, nextSecond, report, settledHeap, sleepUntil } from './common.js';

const jobs = intArg('jobs', 10_000);
const seconds = intArg('seconds', 10);
/** Whole seconds of fires before the window (JIT warm-up, young generation grown back after the forced GCs). */
const warmup = intArg('warmup', 2);

const recorder = new LatenessRecorder(jobs * (seconds + 1));
// cron warns on stderr for each tick it runs late or skips (past its 250 ms threshold): count them.
let warnings = 0;
let skippedWarnings = 0;
console.warn = (message: unknown) => {
  warnings++;
  if (String(message).includes('Skipping')) skippedWarnings++;
};
const onTick = (): void => {
  const now = Date.now();
  recorder.record(now - (now % 1000), now);
};
const baseline = settledHeap();

await sleepUntil(nextSecond() + 20);
const addStart = performance.now();
const cronJobs: CronJob[] = [];
for (let i = 0; i < jobs; i++) {
  cronJobs.push(CronJob.from({ cronTime: '* * * * * *', onTick, start: true }));
}
const addMs = performance.now() - addStart;
const heap = settledHeap();
const measuredAt = Date.now();
const idleClean = measuredAt < nextSecond(addStart + performance.timeOrigin);

recorder.windowStart = nextSecond(measuredAt) + warmup * 1000;
recorder.windowEnd = recorder.windowStart + seconds * 1000;
const heapBeforeWindow = settledHeap();
await sleepUntil(recorder.windowEnd + 1500);
const heapAfterWindow = settledHeap();
for (const job of cronJobs) void job.stop();

const expected = jobs * seconds;
const summary = recorder.summary();
report({
  jobs,
  seconds,
  warmup,
  expected,
  ...summary,
  firesPerSec: summary.fires / seconds,
  missed: expected - summary.fires,
  warnings,
  skippedWarnings,
  heapPerJob: (heap - baseline) / jobs,
  idleClean,
  // Every fire between the two measurements: the window's, the warm-up's and those after the window.
  retainedPerRun:
    (heapAfterWindow - heapBeforeWindow) / Math.max(1, summary.fires + recorder.outside),
  addsPerSec: jobs / (addMs / 1000),
});
