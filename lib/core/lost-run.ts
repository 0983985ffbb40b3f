import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import type { Schedule } from './schedule/schedule.js';

/** A fire to book: when, which attempt, and the instant of the fire it belongs to. */
export interface BookedFire {
  at: number;
  attempt: number;
  scheduledAt: number;
}

/**
 * What comes after a run lost with its process (a crash, an instance whose lease expired): the lost
 * run counts as a failed attempt. While retries are left it is retried at once (as its next
 * attempt); else a once job fails, and a recurring one goes on to the fire after the lost one (or
 * after the fire already booked). Without a recorded run (the process died before recording it),
 * the job keeps its next fire. A paused job stays paused. Changes `job`; returns the fire to book.
 */
export function applyLostRun(
  job: Job,
  schedule: Schedule | null,
  lost: Run | undefined,
  now: number,
): BookedFire | null {
  const paused = job.status === 'paused';
  job.status = paused ? 'paused' : 'pending';
  if (lost === undefined) {
    const next = job.nextRunAt?.getTime();
    return paused || next === undefined ? null : { at: next, attempt: 1, scheduledAt: next };
  }
  job.lastResult = lost.error;
  const scheduledAt = lost.scheduledAt.getTime();
  let booked: BookedFire | null = null;
  if (job.retryCount < job.maxRetry) {
    job.retryCount++;
    job.nextRunAt = new Date(now);
    booked = { at: now, attempt: lost.attempt + 1, scheduledAt };
  } else if (job.type === 'once') {
    if (!paused) job.status = 'failed';
    job.nextRunAt = null;
  } else {
    job.retryCount = 0;
    const next =
      schedule?.next(Math.max(scheduledAt, (job.nextRunAt?.getTime() ?? now) - 1)) ?? null;
    job.nextRunAt = next === null ? null : new Date(next);
    if (next !== null) booked = { at: next, attempt: 1, scheduledAt: next };
  }
  if (paused) {
    job.nextRunAt = null;
    return null;
  }
  return booked;
}
