/**
 * Drain, the floor: what `drain-ours.ts` measures, for the least code that writes the same records
 * (`floor.ts`): `--jobs` once-jobs due now are read from the store (copies, as a start loads them),
 * ordered by due time, and run by `--concurrent` workers with an async no-op handler. Runs/s counts
 * from the load until every run is written back, adds excluded.
 */
import { intArg, report, settledHeap } from './common.js';
import { FloorStore, floorJob, floorRun, type FloorJob } from './floor.js';

const jobs = intArg('jobs', 100_000);
const concurrent = intArg('concurrent', 50);

const store = new FloorStore();
const due = new Date(Date.now() - 1000);
for (let i = 0; i < jobs; i++) store.add(floorJob(due));
settledHeap();

const handler = async (): Promise<void> => {};
const start = performance.now();
const queue = store
  .list()
  .filter((job) => job.status === 'pending')
  .sort((a, b) => (a.nextRunAt as Date).getTime() - (b.nextRunAt as Date).getTime());
const loadMs = performance.now() - start;
let head = 0;
let ran = 0;
async function worker(): Promise<void> {
  while (head < queue.length) {
    const job = queue[head++] as FloorJob;
    await floorRun(store, job, (job.nextRunAt as Date).getTime(), null, handler);
    ran++;
  }
}
await Promise.all(Array.from({ length: concurrent }, worker));
const drainMs = performance.now() - start;
if (ran !== jobs) throw new Error(`ran ${ran} of ${jobs}`);

report({ jobs, concurrent, runsPerSec: jobs / (drainMs / 1000), drainMs, startMs: loadMs });
