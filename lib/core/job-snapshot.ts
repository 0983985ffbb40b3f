import type { Job } from '../interfaces/job.interface.js';

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

function copyDate(date: Date | null): Date | null {
  return date === null ? null : new Date(date.getTime());
}
