import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';

/** Primitives and frozen values are shared (the scheduler deep-freezes payloads); anything else is deep-copied. */
export function copyPayload(payload: unknown): unknown {
  return typeof payload !== 'object' || payload === null || Object.isFrozen(payload)
    ? payload
    : structuredClone(payload);
}

function copyDate(date: Date): Date {
  return new Date(date.getTime());
}

function copyDateOrNull(date: Date | null): Date | null {
  return date === null ? null : new Date(date.getTime());
}

/** A copy of a job that shares nothing mutable with it (a frozen payload excepted). Throws on a bad date. */
export function copyJob(job: Job): Job {
  return {
    id: job.id,
    name: job.name,
    description: job.description,
    type: job.type,
    cron: job.cron,
    interval: job.interval,
    timezone: job.timezone,
    runAt: copyDateOrNull(job.runAt),
    status: job.status,
    handlerName: job.handlerName,
    payload: copyPayload(job.payload),
    nextRunAt: copyDateOrNull(job.nextRunAt),
    lastRunAt: copyDateOrNull(job.lastRunAt),
    lastResult: job.lastResult,
    retryCount: job.retryCount,
    maxRetry: job.maxRetry,
    misfirePolicy: job.misfirePolicy,
    maxMisfires: job.maxMisfires,
    timeout: job.timeout,
    retryDelay: job.retryDelay,
    backoff: job.backoff,
    maxRetryDelay: job.maxRetryDelay,
    jitter: job.jitter,
    version: job.version,
    createdAt: copyDate(job.createdAt),
    updatedAt: copyDate(job.updatedAt),
  };
}

/** A copy of a run that shares nothing mutable with it. Throws on a bad date. */
export function copyRun(run: Run): Run {
  return {
    id: run.id,
    jobId: run.jobId,
    status: run.status,
    startAt: copyDate(run.startAt),
    endAt: copyDateOrNull(run.endAt),
    output: run.output,
    error: run.error,
    duration: run.duration,
    traceId: run.traceId,
    attempt: run.attempt,
    scheduledAt: copyDate(run.scheduledAt),
    createdAt: copyDate(run.createdAt),
  };
}
