/**
 * The floor of a run on this machine: the records a run of ours writes (the job written `running`,
 * a run record inserted, the run ended, the job written back), each a copy into a Map-held record
 * behind a settled promise, with one id and one async frame per run, and nothing else: no time-out,
 * no retries, no events, no telemetry, no misfire policy. `burst-floor.ts` and `drain-floor.ts`
 * drive it as `burst-ours.ts` and `drain-ours.ts` drive the scheduler, to show how far a run of
 * ours is from what the same work costs at the least.
 */
import { randomUUID } from 'node:crypto';

export interface FloorJob {
  id: string;
  status: string;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastResult: string;
  version: number;
  updatedAt: Date;
}

interface JobRow {
  status: string;
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastResult: string;
  version: number;
  updatedAt: number;
}

interface RunRow {
  id: string;
  jobId: string;
  status: string;
  startAt: number;
  endAt: number | null;
  output: string;
  duration: number;
  attempt: number;
  scheduledAt: number;
}

export interface FloorRun {
  id: string;
  jobId: string;
  status: string;
  startAt: Date;
  endAt: Date | null;
  output: string;
  duration: number;
  attempt: number;
  scheduledAt: number;
}

const DONE = Promise.resolve();
const ms = (date: Date | null): number | null => (date === null ? null : date.getTime());
const date = (value: number | null): Date | null => (value === null ? null : new Date(value));

/** Jobs and runs as copies held in a Map, as `MemoryStorage` holds them. */
export class FloorStore {
  private readonly rows = new Map<string, { job: JobRow; runs: RunRow[] }>();

  add(job: FloorJob): void {
    this.rows.set(job.id, { job: toRow(job), runs: [] });
  }

  list(): FloorJob[] {
    const jobs: FloorJob[] = [];
    for (const [id, { job }] of this.rows) {
      jobs.push({
        id,
        status: job.status,
        nextRunAt: date(job.nextRunAt),
        lastRunAt: date(job.lastRunAt),
        lastResult: job.lastResult,
        version: job.version,
        updatedAt: new Date(job.updatedAt),
      });
    }
    return jobs;
  }

  writeJob(job: FloorJob): Promise<void> {
    const row = (this.rows.get(job.id) as { job: JobRow }).job;
    row.status = job.status;
    row.nextRunAt = ms(job.nextRunAt);
    row.lastRunAt = ms(job.lastRunAt);
    row.lastResult = job.lastResult;
    row.version = job.version;
    row.updatedAt = job.updatedAt.getTime();
    return DONE;
  }

  insertRun(run: FloorRun): Promise<void> {
    (this.rows.get(run.jobId) as { runs: RunRow[] }).runs.push({
      ...run,
      startAt: run.startAt.getTime(),
      endAt: ms(run.endAt),
    });
    return DONE;
  }

  endRun(run: FloorRun): Promise<void> {
    const runs = (this.rows.get(run.jobId) as { runs: RunRow[] }).runs;
    const row = runs[runs.length - 1] as RunRow;
    row.status = run.status;
    row.endAt = ms(run.endAt);
    row.output = run.output;
    row.duration = run.duration;
    return DONE;
  }
}

function toRow(job: FloorJob): JobRow {
  return {
    status: job.status,
    nextRunAt: ms(job.nextRunAt),
    lastRunAt: ms(job.lastRunAt),
    lastResult: job.lastResult,
    version: job.version,
    updatedAt: job.updatedAt.getTime(),
  };
}

export function floorJob(nextRunAt: Date | null): FloorJob {
  return {
    id: randomUUID(),
    status: 'pending',
    nextRunAt,
    lastRunAt: null,
    lastResult: '',
    version: 1,
    updatedAt: new Date(),
  };
}

/**
 * One run: the job written `running` and the run inserted, the handler called (`then` is what
 * follows a recurring fire, `null` for a once job), the run ended and the job written back.
 */
export async function floorRun(
  store: FloorStore,
  job: FloorJob,
  scheduledAt: number,
  next: Date | null,
  handler: (job: FloorJob, run: FloorRun) => unknown,
): Promise<void> {
  const startedAt = Date.now();
  const run: FloorRun = {
    id: randomUUID(),
    jobId: job.id,
    status: 'running',
    startAt: new Date(startedAt),
    endAt: null,
    output: '',
    duration: 0,
    attempt: 1,
    scheduledAt,
  };
  job.status = 'running';
  job.lastRunAt = run.startAt;
  job.version++;
  await store.writeJob(job);
  await store.insertRun(run);
  await handler(job, run);
  const endedAt = Date.now();
  run.status = 'success';
  run.endAt = new Date(endedAt);
  run.duration = endedAt - startedAt;
  job.status = next === null ? 'completed' : 'pending';
  job.nextRunAt = next;
  job.version++;
  job.updatedAt = run.endAt;
  await store.endRun(run);
  await store.writeJob(job);
}
