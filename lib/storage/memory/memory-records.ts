import type {
  Job,
  JobBackoff,
  JobStatus,
  JobType,
  MisfirePolicy,
} from '../../interfaces/job.interface.js';
import type { Run, RunStatus } from '../../interfaces/run.interface.js';
import { copyPayload } from '../../core/record-copy.js';

/*
 * The records MemoryStorage keeps, and their copies to and from the public `Job` and `Run`. Each
 * field is spelled out so that every record of a kind has one shape (they are on the hot path).
 */

/** A stored job: the `Job` fields, with dates as epoch milliseconds. */
export interface JobRecord {
  id: string;
  name: string;
  description: string;
  type: JobType;
  cron: string | null;
  interval: number | null;
  timezone: string | null;
  runAt: number | null;
  status: JobStatus;
  handlerName: string;
  payload: unknown;
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastResult: string;
  retryCount: number;
  maxRetry: number;
  misfirePolicy: MisfirePolicy;
  maxMisfires: number;
  /** The job's run policy: one frozen object, shared by every job on the defaults. */
  policy: RunPolicy;
  /** Its runs, oldest first: in insertion order, which is `(startAt, seq)` order while `runsSorted`. */
  runs: RunRecord[] | null;
  /** Its runs by id, once it has enough of them (see `RunHistory`; null before). */
  runsById: Map<string, RunRecord> | null;
  /** Whether `runs` is known to be in `(startAt, seq)` order. */
  runsSorted: boolean;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** A stored run: the `Run` fields, with dates as epoch milliseconds, plus its insertion sequence. */
export interface RunRecord {
  id: string;
  jobId: string;
  status: RunStatus;
  startAt: number;
  endAt: number | null;
  output: string;
  error: string;
  duration: number;
  traceId: string;
  attempt: number;
  scheduledAt: number;
  createdAt: number;
  /** Insertion sequence: breaks `startAt` ties (a later-inserted run is newer). */
  seq: number;
}

/** A job's run policy, as a record holds it. */
interface RunPolicy {
  readonly timeout: number | null;
  readonly retryDelay: number | null;
  readonly backoff: JobBackoff;
  readonly maxRetryDelay: number | null;
  readonly jitter: number;
}

/** The policy of every job on the defaults: held once, not per job (most jobs have it). */
const DEFAULT_POLICY: RunPolicy = Object.freeze({
  timeout: null,
  retryDelay: null,
  backoff: 'fixed',
  maxRetryDelay: null,
  jitter: 0,
});

/** The job's policy: `held` (or the default) when the job's is the same, else a new frozen one. */
function policyOf(job: Job, held: RunPolicy = DEFAULT_POLICY): RunPolicy {
  if (samePolicy(job, held)) return held;
  if (samePolicy(job, DEFAULT_POLICY)) return DEFAULT_POLICY;
  return Object.freeze({
    timeout: job.timeout,
    retryDelay: job.retryDelay,
    backoff: job.backoff,
    maxRetryDelay: job.maxRetryDelay,
    jitter: job.jitter,
  });
}

function samePolicy(job: Job, policy: RunPolicy): boolean {
  return (
    job.timeout === policy.timeout &&
    job.retryDelay === policy.retryDelay &&
    job.backoff === policy.backoff &&
    job.maxRetryDelay === policy.maxRetryDelay &&
    job.jitter === policy.jitter
  );
}

function msOrNull(date: Date | null): number | null {
  return date ? date.getTime() : null;
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

export function toJobRecord(job: Job): JobRecord {
  return {
    id: job.id,
    name: job.name,
    description: job.description,
    type: job.type,
    cron: job.cron,
    interval: job.interval,
    timezone: job.timezone,
    runAt: msOrNull(job.runAt),
    status: job.status,
    handlerName: job.handlerName,
    payload: copyPayload(job.payload),
    nextRunAt: msOrNull(job.nextRunAt),
    lastRunAt: msOrNull(job.lastRunAt),
    lastResult: job.lastResult,
    retryCount: job.retryCount,
    maxRetry: job.maxRetry,
    misfirePolicy: job.misfirePolicy,
    maxMisfires: job.maxMisfires,
    policy: policyOf(job),
    runs: null,
    runsById: null,
    runsSorted: true,
    version: job.version,
    createdAt: job.createdAt.getTime(),
    updatedAt: job.updatedAt.getTime(),
  };
}

/** Overwrites a stored job's fields in place (no new record); the payload is copied first. */
export function assignJob(record: JobRecord, job: Job): void {
  const payload = copyPayload(job.payload);
  const runAt = msOrNull(job.runAt);
  const nextRunAt = msOrNull(job.nextRunAt);
  const lastRunAt = msOrNull(job.lastRunAt);
  const createdAt = job.createdAt.getTime();
  const updatedAt = job.updatedAt.getTime();
  record.name = job.name;
  record.description = job.description;
  record.type = job.type;
  record.cron = job.cron;
  record.interval = job.interval;
  record.timezone = job.timezone;
  record.runAt = runAt;
  record.status = job.status;
  record.handlerName = job.handlerName;
  record.payload = payload;
  record.nextRunAt = nextRunAt;
  record.lastRunAt = lastRunAt;
  record.lastResult = job.lastResult;
  record.retryCount = job.retryCount;
  record.maxRetry = job.maxRetry;
  record.misfirePolicy = job.misfirePolicy;
  record.maxMisfires = job.maxMisfires;
  record.policy = policyOf(job, record.policy);
  record.version = job.version;
  record.createdAt = createdAt;
  record.updatedAt = updatedAt;
}

export function toJob(record: JobRecord): Job {
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    type: record.type,
    cron: record.cron,
    interval: record.interval,
    timezone: record.timezone,
    runAt: dateOrNull(record.runAt),
    status: record.status,
    handlerName: record.handlerName,
    payload: copyPayload(record.payload),
    nextRunAt: dateOrNull(record.nextRunAt),
    lastRunAt: dateOrNull(record.lastRunAt),
    lastResult: record.lastResult,
    retryCount: record.retryCount,
    maxRetry: record.maxRetry,
    misfirePolicy: record.misfirePolicy,
    maxMisfires: record.maxMisfires,
    timeout: record.policy.timeout,
    retryDelay: record.policy.retryDelay,
    backoff: record.policy.backoff,
    maxRetryDelay: record.policy.maxRetryDelay,
    jitter: record.policy.jitter,
    version: record.version,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

export function toRunRecord(run: Run, seq: number): RunRecord {
  return {
    id: run.id,
    jobId: run.jobId,
    status: run.status,
    startAt: run.startAt.getTime(),
    endAt: msOrNull(run.endAt),
    output: run.output,
    error: run.error,
    duration: run.duration,
    traceId: run.traceId,
    attempt: run.attempt,
    scheduledAt: run.scheduledAt.getTime(),
    createdAt: run.createdAt.getTime(),
    seq,
  };
}

/** Overwrites a stored run's fields in place (its id, job and insertion sequence stay). */
export function assignRun(record: RunRecord, run: Run): void {
  // Read the dates first: a bad one throws before anything is overwritten.
  const startAt = run.startAt.getTime();
  const endAt = msOrNull(run.endAt);
  const scheduledAt = run.scheduledAt.getTime();
  const createdAt = run.createdAt.getTime();
  record.status = run.status;
  record.startAt = startAt;
  record.endAt = endAt;
  record.output = run.output;
  record.error = run.error;
  record.duration = run.duration;
  record.traceId = run.traceId;
  record.attempt = run.attempt;
  record.scheduledAt = scheduledAt;
  record.createdAt = createdAt;
}

export function toRun(record: RunRecord): Run {
  return {
    id: record.id,
    jobId: record.jobId,
    status: record.status,
    startAt: new Date(record.startAt),
    endAt: dateOrNull(record.endAt),
    output: record.output,
    error: record.error,
    duration: record.duration,
    traceId: record.traceId,
    attempt: record.attempt,
    scheduledAt: new Date(record.scheduledAt),
    createdAt: new Date(record.createdAt),
  };
}
