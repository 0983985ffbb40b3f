import { randomUUID } from 'node:crypto';
import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';

/** Fixed instants with a non-zero millisecond part, so a storage that drops milliseconds shows. */
export const FIXTURE_CREATED_AT_MS = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
export const FIXTURE_NEXT_RUN_AT_MS = Date.UTC(2030, 0, 2, 3, 4, 10, 123);
export const FIXTURE_RUN_START_AT_MS = Date.UTC(2030, 0, 2, 3, 4, 10, 456);

/** A complete, valid `cron` job (every 5 seconds, UTC, pending); `overrides` replace its fields. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: `job-${randomUUID()}`,
    name: 'fixture job',
    description: 'A job built by makeJob()',
    type: 'cron',
    cron: '*/5 * * * * *',
    interval: null,
    timezone: null,
    runAt: null,
    status: 'pending',
    handlerName: 'fixtureHandler',
    payload: { greeting: 'hello', count: 1 },
    nextRunAt: new Date(FIXTURE_NEXT_RUN_AT_MS),
    lastRunAt: null,
    lastResult: '',
    retryCount: 0,
    maxRetry: 0,
    misfirePolicy: 'fire-all',
    maxMisfires: 7,
    timeout: null,
    retryDelay: null,
    backoff: 'fixed',
    maxRetryDelay: null,
    jitter: 0,
    version: 0,
    createdAt: new Date(FIXTURE_CREATED_AT_MS),
    updatedAt: new Date(FIXTURE_CREATED_AT_MS),
    ...overrides,
  };
}

/** A complete, valid first-attempt run of `jobId`, still running; `overrides` replace its fields. */
/** Counts runs made, so each gets a fire of its own (the SQL tables record one fire once). */
let firesMade = 0;

export function makeRun(jobId: string, overrides: Partial<Run> = {}): Run {
  return {
    id: `run-${randomUUID()}`,
    jobId,
    status: 'running',
    startAt: new Date(FIXTURE_RUN_START_AT_MS),
    endAt: null,
    output: '',
    error: '',
    duration: 0,
    traceId: '',
    attempt: 1,
    scheduledAt: new Date(FIXTURE_NEXT_RUN_AT_MS + ++firesMade),
    createdAt: new Date(FIXTURE_RUN_START_AT_MS),
    ...overrides,
  };
}
