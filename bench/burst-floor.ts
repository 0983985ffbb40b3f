/**
 * Fire burst, the floor: what `burst-ours.ts` measures, for the least code that writes the same
 * records (`floor.ts`): `--jobs` jobs due every second, started `--concurrent` at a time in due
 * order from one timer, each run a job write, a run insert, the handler, the run's end and the job
 * written back. Lateness is the handler's start minus the fire's instant.
 */
import { LatenessRecorder, intArg, nextSecond, report, settledHeap, sleepUntil } from './common.js';
import { FloorStore, floorJob, floorRun, type FloorJob } from './floor.js';

const jobs = intArg('jobs', 10_000);
const seconds = intArg('seconds', 10);
const warmup = intArg('warmup', 2);
const concurrent = intArg('concurrent', 5);

const recorder = new LatenessRecorder(jobs * (seconds + 1));
const store = new FloorStore();
const baseline = settledHeap();
await sleepUntil(nextSecond() + 20);
const addStart = performance.now();
const held: FloorJob[] = [];
for (let i = 0; i < jobs; i++) {
  const job = floorJob(new Date(nextSecond()));
  store.add(job);
  held.push(job);
}
const addMs = performance.now() - addStart;
const heap = settledHeap();
const measuredAt = Date.now();

recorder.windowStart = nextSecond(measuredAt) + warmup * 1000;
recorder.windowEnd = recorder.windowStart + seconds * 1000;
const handler = (_job: FloorJob, run: { scheduledAt: number }): void => {
  recorder.record(run.scheduledAt, Date.now());
};

/** The fires waiting for a slot, in due order. */
let waiting: FloorJob[] = [];
let head = 0;
let at = nextSecond(measuredAt);
let active = 0;
/** The instant of the fires waiting. */
let dueAt = at;
const start = (job: FloorJob): void => {
  active++;
  const next = new Date(dueAt + 1000);
  void floorRun(store, job, dueAt, next, handler).then(() => {
    active--;
    pump();
  });
};
function pump(): void {
  while (active < concurrent && head < waiting.length) start(waiting[head++] as FloorJob);
}
const stopAt = recorder.windowEnd + 1000;
function wake(): void {
  // A second whose fires are still waiting when the next falls due: they are skipped.
  waiting = held.slice();
  head = 0;
  dueAt = at;
  pump();
  at += 1000;
  if (at < stopAt) setTimeout(wake, at - Date.now());
}
setTimeout(wake, at - Date.now());
await sleepUntil(stopAt + 500);

const expected = jobs * seconds;
const summary = recorder.summary();
report({
  jobs,
  seconds,
  warmup,
  concurrentRuns: concurrent,
  expected,
  ...summary,
  firesPerSec: summary.fires / seconds,
  missed: expected - summary.fires,
  heapPerJob: (heap - baseline) / jobs,
  idleClean: true,
  retainedPerRun: NaN,
  addsPerSec: jobs / (addMs / 1000),
});
