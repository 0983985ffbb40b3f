import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';

/** A copy of a job that shares nothing mutable with it (the payload is deep-frozen, so shared). */
export function snapshotJob(job: Job): Job {
  return {
    ...job,
    runAt: copyDate(job.runAt),
    nextRunAt: copyDate(job.nextRunAt),
    lastRunAt: copyDate(job.lastRunAt),
    createdAt: new Date(job.createdAt.getTime()),
    updatedAt: new Date(job.updatedAt.getTime()),
  };
}

/** A copy of a run record that shares no Date with it. */
export function snapshotRun(run: Run): Run {
  return {
    ...run,
    startAt: new Date(run.startAt.getTime()),
    endAt: copyDate(run.endAt),
    scheduledAt: new Date(run.scheduledAt.getTime()),
    createdAt: new Date(run.createdAt.getTime()),
  };
}

function copyDate(date: Date | null): Date | null {
  return date === null ? null : new Date(date.getTime());
}
