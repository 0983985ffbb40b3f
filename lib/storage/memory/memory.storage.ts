import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import { StorageClosedError } from '../../errors/storage-closed.error.js';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import type { Job, JobStatus } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import {
  JobStorage,
  type BatchStorage,
  type PrunableStorage,
  type RunPruneCriteria,
} from '../../interfaces/job-storage.js';
import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../../interfaces/history-query.interface.js';
import {
  checkJobQuery,
  checkRunId,
  checkRunQuery,
  checkRunStatsQuery,
} from '../history/history-arguments.js';
import { findJobRecords, findRunRecords, runRecordStats } from './memory-history.js';
import {
  assignJob,
  toJob,
  toJobRecord,
  toRun,
  type JobRecord,
  type RunRecord,
} from './memory-records.js';
import { RunHistory, type JobRuns } from './run-history.js';

/** Options of `MemoryStorage`. */
export interface MemoryStorageOptions {
  /** The newest runs kept of each job (default 1000); `Infinity` keeps them all. */
  maxRunsPerJob?: number;
  /**
   * The newest runs kept in all (default 100,000, about 30 MB): the oldest of all go first, so that
   * many jobs firing often hold flat memory too. `Infinity` keeps them all.
   */
  maxRuns?: number;
}

/** A job and its run history, in one record. */
type JobEntry = JobRecord & JobRuns;

/**
 * The default storage: jobs and runs kept in this process's memory, lost when it exits. The run
 * history is bounded (`maxRunsPerJob`, `maxRuns`): past it the oldest finished runs go.
 *
 * Every method returns copies and stores copies. Payloads that are primitives or frozen (the scheduler
 * deep-freezes them) are shared as is; any other payload is `structuredClone`d on write and on read.
 */
export class MemoryStorage extends JobStorage implements BatchStorage, PrunableStorage {
  /** Jobs by id, in creation order. */
  private readonly jobs = new Map<string, JobEntry>();
  private readonly history: RunHistory;
  private closed = false;
  /** One settled promise returned by every write that succeeds: a write allocates no promise. */
  private readonly done: Promise<void> = Promise.resolve();

  constructor(options: MemoryStorageOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionsError('MemoryStorage options', options, 'an object');
    }
    this.history = new RunHistory(
      {
        maxRunsPerJob: runLimit('maxRunsPerJob', options.maxRunsPerJob, 1000),
        maxRuns: runLimit('maxRuns', options.maxRuns, 100_000),
      },
      (jobId) => this.jobs.get(jobId),
    );
  }

  override async createJob(job: Job): Promise<void> {
    this.assertOpen();
    if (this.jobs.has(job.id)) throw new JobAlreadyExistsError(job.id);
    const record = toJobRecord(job);
    this.jobs.set(record.id, record);
  }

  override async getJob(id: string): Promise<Job | null> {
    this.assertOpen();
    const entry = this.jobs.get(id);
    return entry ? toJob(entry) : null;
  }

  override updateJob(job: Job): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(job.id);
      if (!entry) throw new JobNotFoundError(job.id);
      assignJob(entry, job);
      return this.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override async deleteJob(id: string): Promise<void> {
    this.assertOpen();
    const entry = this.jobs.get(id);
    if (entry === undefined) throw new JobNotFoundError(id);
    this.jobs.delete(id);
    this.history.dropJob(entry);
  }

  override async listJobs(status?: JobStatus): Promise<Job[]> {
    this.assertOpen();
    const jobs: Job[] = [];
    for (const entry of this.jobs.values()) {
      if (status === undefined || entry.status === status) jobs.push(toJob(entry));
    }
    return jobs;
  }

  override createRun(run: Run): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(run.jobId);
      if (!entry) throw new JobNotFoundError(run.jobId);
      this.history.put(entry, run);
      return this.done;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override updateRun(run: Run): Promise<void> {
    try {
      this.assertOpen();
      const entry = this.jobs.get(run.jobId);
      if (entry) this.history.put(entry, run);
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
    const runs = this.history.sorted(entry);
    const end = Math.max(0, runs.length - count);
    const result: Run[] = [];
    for (let i = runs.length - 1; i >= end; i--) result.push(toRun(runs[i]));
    return result;
  }

  override async getJobRunCount(jobId: string): Promise<number> {
    this.assertOpen();
    return this.jobs.get(jobId)?.runs?.length ?? 0;
  }

  override async findJobs(query?: JobQuery): Promise<Page<Job>> {
    const q = checkJobQuery(query);
    this.assertOpen();
    return findJobRecords(this.jobs.values(), q);
  }

  override async findRuns(query?: RunQuery): Promise<Page<Run>> {
    const q = checkRunQuery(query);
    this.assertOpen();
    return findRunRecords(this.runsOf(q.jobId), q);
  }

  override async getRun(runId: string): Promise<Run | null> {
    const id = checkRunId(runId);
    this.assertOpen();
    for (const entry of this.jobs.values()) {
      const run = this.history.find(entry, id);
      if (run !== undefined) return toRun(run);
    }
    return null;
  }

  override async runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    const q = checkRunStatsQuery(query);
    this.assertOpen();
    return runRecordStats(this.runsOf(q.jobId), q);
  }

  /** Replaces each job that still exists; jobs removed meanwhile are skipped. */
  async batchUpdateJobs(jobs: Job[]): Promise<void> {
    this.assertOpen();
    // Copy everything first, so a payload that cannot be cloned leaves nothing half-written.
    jobs.forEach(toJobRecord);
    for (const job of jobs) {
      const entry = this.jobs.get(job.id);
      if (entry) assignJob(entry, job);
    }
  }

  /** Writes each run like `updateRun`: inserted when absent, ignored when its job was removed. */
  async batchUpdateRuns(runs: Run[]): Promise<void> {
    this.assertOpen();
    for (const run of runs) {
      const entry = this.jobs.get(run.jobId);
      if (entry) this.history.put(entry, run);
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
      const runs = this.history.sorted(entry);
      // Runs are oldest first: the first `excess` are beyond the newest maxRunsPerJob.
      const excess = maxRunsPerJob === undefined ? 0 : runs.length - maxRunsPerJob;
      this.history.retain(entry, (run, i) => {
        const prune =
          removed < limit && run.status !== 'running' && (i < excess || run.startAt < before);
        if (prune) removed++;
        return !prune;
      });
    }
    return removed;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.jobs.clear();
    this.history.clear();
  }

  override async ping(): Promise<void> {
    this.assertOpen();
  }

  /** The run lists of one job (`jobId`) or of all. */
  private *runsOf(jobId: string | null): Iterable<RunRecord[] | null> {
    if (jobId === null) {
      for (const entry of this.jobs.values()) yield entry.runs;
    } else {
      yield this.jobs.get(jobId)?.runs ?? null;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError('MemoryStorage');
  }
}

/** A run limit option: a positive integer or Infinity (default `fallback`). */
function runLimit(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Infinity || (Number.isSafeInteger(value) && (value as number) >= 1)) {
    return value as number;
  }
  throw new InvalidOptionsError(
    option,
    value,
    'a whole number of at least 1, or Infinity to keep every run',
  );
}
