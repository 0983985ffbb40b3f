import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import { StorageClosedError } from '../../errors/storage-closed.error.js';
import type { Job, JobStatus, JobType, MisfirePolicy } from '../../interfaces/job.interface.js';
import type { Run, RunStatus } from '../../interfaces/run.interface.js';
import { copyPayload } from '../../core/record-copy.js';
import {
  JobStorage,
  type BatchStorage,
  type PrunableStorage,
  type RunPruneCriteria,
} from '../../interfaces/job-storage.js';

/** A stored job: the `Job` fields, with dates as epoch milliseconds. */
interface JobRecord {
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
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** A stored run: the `Run` fields, with dates as epoch milliseconds, plus its insertion sequence. */
interface RunRecord {
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

/** A job and its run history. */
interface JobEntry {
  job: JobRecord;
  /** Runs oldest first: in insertion order, which is `(startAt, seq)` order while `runsSorted`. */
  runs: RunRecord[] | null;
  /** The runs by id, once there are `INDEX_RUNS_FROM` of them (null before). */
  runsById: Map<string, RunRecord> | null;
  /** Whether `runs` is known to be in `(startAt, seq)` order. */
  runsSorted: boolean;
}

/**
 * The default storage: jobs and runs kept in this process's memory, lost when it exits.
 *
 * Every method returns copies and stores copies. Payloads that are primitives or frozen (the scheduler
 * deep-freezes them) are shared as is; any other payload is `structuredClone`d on write and on read.
 */
export class MemoryStorage extends JobStorage implements BatchStorage, PrunableStorage {
  /** Jobs by id, in creation order. */
  private readonly jobs = new Map<string, JobEntry>();
  /** Next run insertion sequence number. */
  private nextSeq = 0;
  private closed = false;
  /** One settled promise returned by every write that succeeds: a write allocates no promise. */
  private readonly done: Promise<void> = Promise.resolve();

  override async createJob(job: Job): Promise<void> {
    this.assertOpen();
    if (this.jobs.has(job.id)) throw new JobAlreadyExistsError(job.id);
    const record = toJobRecord(job);
    this.jobs.set(record.id, { job: record, runs: null, runsById: null, runsSorted: true });
  }

  override async getJob(id: string): Promise<Job | null> {
    this.assertOpen();
    const entry = this.jobs.get(id);
    return entry ? toJob(entry.job) : null;
  }

  override updateJob(job: Job): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(job.id);
      if (!entry) throw new JobNotFoundError(job.id);
      assignJob(entry.job, job);
      return this.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override async deleteJob(id: string): Promise<void> {
    this.assertOpen();
    if (!this.jobs.delete(id)) throw new JobNotFoundError(id);
  }

  override async listJobs(status?: JobStatus): Promise<Job[]> {
    this.assertOpen();
    const jobs: Job[] = [];
    for (const entry of this.jobs.values()) {
      if (status === undefined || entry.job.status === status) jobs.push(toJob(entry.job));
    }
    return jobs;
  }

  override createRun(run: Run): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(run.jobId);
      if (!entry) throw new JobNotFoundError(run.jobId);
      this.putRun(entry, run);
      return this.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override updateRun(run: Run): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(run.jobId);
      if (entry) this.putRun(entry, run);
      return this.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Both writes at once, with one settled promise, unless a subclass overrides `updateRun` or
   * `updateJob` (a test's fault injection): then the job is written once the run's write settles.
   */
  override recordRunEnd(run: Run, job: Job | null): Promise<void> {
    const ran = this.updateRun(run);
    if (job === null) return ran;
    if (ran !== this.done) return ran.then(() => this.updateJob(job));
    return this.updateJob(job);
  }

  override async getRuns(jobId: string, limit: number): Promise<Run[]> {
    this.assertOpen();
    const count = Math.floor(limit);
    const entry = this.jobs.get(jobId);
    if (!entry || !(count > 0)) return [];
    const runs = entry.runs;
    if (runs === null) return [];
    if (!entry.runsSorted) {
      runs.sort(compareRuns);
      entry.runsSorted = true;
    }
    const end = Math.max(0, runs.length - count);
    const result: Run[] = [];
    for (let i = runs.length - 1; i >= end; i--) result.push(toRun(runs[i]));
    return result;
  }

  override async getJobRunCount(jobId: string): Promise<number> {
    this.assertOpen();
    return this.jobs.get(jobId)?.runs?.length ?? 0;
  }

  /** Replaces each job that still exists; jobs removed meanwhile are skipped. */
  async batchUpdateJobs(jobs: Job[]): Promise<void> {
    this.assertOpen();
    // Copy everything first, so a payload that cannot be cloned leaves nothing half-written.
    const records = jobs.map(toJobRecord);
    for (const record of records) {
      const entry = this.jobs.get(record.id);
      if (entry) entry.job = record;
    }
  }

  /** Writes each run like `updateRun`: inserted when absent, ignored when its job was removed. */
  async batchUpdateRuns(runs: Run[]): Promise<void> {
    this.assertOpen();
    for (const run of runs) {
      const entry = this.jobs.get(run.jobId);
      if (entry) this.putRun(entry, run);
    }
  }

  /**
   * Removes up to `limit` finished runs beyond the newest `maxRunsPerJob` of each job, or started
   * before `olderThan`; runs still `running` stay.
   */
  async pruneRuns({ maxRunsPerJob, olderThan, limit }: RunPruneCriteria): Promise<number> {
    this.assertOpen();
    const before = olderThan?.getTime() ?? -Infinity;
    let removed = 0;
    for (const entry of this.jobs.values()) {
      if (removed >= limit) break;
      const runs = entry.runs;
      if (runs === null || runs.length === 0) continue;
      if (!entry.runsSorted) {
        runs.sort(compareRuns);
        entry.runsSorted = true;
      }
      // Runs are oldest first: the first `excess` are beyond the newest maxRunsPerJob.
      const excess = maxRunsPerJob === undefined ? 0 : runs.length - maxRunsPerJob;
      let kept = 0;
      for (let i = 0; i < runs.length; i++) {
        const run = runs[i]!;
        const prune =
          removed < limit && run.status !== 'running' && (i < excess || run.startAt < before);
        if (prune) {
          entry.runsById?.delete(run.id);
          removed++;
        } else {
          runs[kept++] = run;
        }
      }
      runs.length = kept;
    }
    return removed;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.jobs.clear();
  }

  override async ping(): Promise<void> {
    this.assertOpen();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError('MemoryStorage');
  }

  /** Replaces the run with `run.id` in place (keeping its position), or appends it. */
  private putRun(entry: JobEntry, run: Run): void {
    const existing = findRun(entry, run.id);
    if (existing) {
      const previousStartAt = existing.startAt;
      assignRun(existing, run);
      if (existing.startAt !== previousStartAt) entry.runsSorted = false;
      return;
    }
    const record = toRunRecord(run, this.nextSeq++);
    const runs = (entry.runs ??= []);
    if (runs.length > 0 && record.startAt < runs[runs.length - 1].startAt) entry.runsSorted = false;
    runs.push(record);
    if (entry.runsById !== null) entry.runsById.set(record.id, record);
    else if (runs.length >= INDEX_RUNS_FROM) entry.runsById = new Map(runs.map((r) => [r.id, r]));
  }
}

/**
 * A job's runs get an index by id once it has this many: below it, a scan from the newest (the run
 * being ended is nearly always the last one) is as fast, and a job with a few runs holds no Map.
 */
const INDEX_RUNS_FROM = 16;

function findRun(entry: JobEntry, id: string): RunRecord | undefined {
  if (entry.runsById !== null) return entry.runsById.get(id);
  const runs = entry.runs;
  if (runs === null) return undefined;
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.id === id) return runs[i];
  return undefined;
}

/** Oldest first: by `startAt`, then by insertion. */
function compareRuns(a: RunRecord, b: RunRecord): number {
  return a.startAt - b.startAt || a.seq - b.seq;
}

function msOrNull(date: Date | null): number | null {
  return date ? date.getTime() : null;
}

function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function toJobRecord(job: Job): JobRecord {
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
    version: job.version,
    createdAt: job.createdAt.getTime(),
    updatedAt: job.updatedAt.getTime(),
  };
}

/** Overwrites a stored job's fields in place (no new record); the payload is copied first. */
function assignJob(record: JobRecord, job: Job): void {
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
  record.version = job.version;
  record.createdAt = createdAt;
  record.updatedAt = updatedAt;
}

function toJob(record: JobRecord): Job {
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
    version: record.version,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
  };
}

function toRunRecord(run: Run, seq: number): RunRecord {
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
function assignRun(record: RunRecord, run: Run): void {
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

function toRun(record: RunRecord): Run {
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
