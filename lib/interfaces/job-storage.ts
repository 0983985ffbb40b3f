import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from './history-query.interface.js';
import type { Job, JobStatus } from './job.interface.js';
import type { Run } from './run.interface.js';

/**
 * Where jobs and their run history live. Implementations return copies (never live objects) and
 * throw `JobNotFoundError` / `JobAlreadyExistsError` / `StorageClosedError` where those apply.
 */
export abstract class JobStorage {
  /** Stores a new job; `JobAlreadyExistsError` if its id is taken. */
  abstract createJob(job: Job): Promise<void>;
  /** The job, or `null` when there is none with that id. */
  abstract getJob(id: string): Promise<Job | null>;
  /** Replaces a stored job; `JobNotFoundError` if there is none with its id. */
  abstract updateJob(job: Job): Promise<void>;
  /** Removes a job and its run history; `JobNotFoundError` if there is none. */
  abstract deleteJob(id: string): Promise<void>;
  /** All jobs, or those with the given status, oldest first. */
  abstract listJobs(status?: JobStatus): Promise<Job[]>;
  /** Stores a new run record. */
  abstract createRun(run: Run): Promise<void>;
  /** Replaces a stored run record (ignored when its job was removed meanwhile). */
  abstract updateRun(run: Run): Promise<void>;
  /**
   * A run's end: writes the run, then its job (`null`: the job was removed, only the run is
   * written), the job only once the run is written. The scheduler calls it once per run and, when
   * it fails, again until it lands, so it must be safe to repeat. The default makes the two calls
   * in turn; a storage that can write both at once (in memory, in one round trip) overrides it.
   */
  async recordRunEnd(run: Run, job: Job | null): Promise<void> {
    await this.updateRun(run);
    if (job !== null) await this.updateJob(job);
  }
  /** Up to `limit` runs of the job, newest first. */
  abstract getRuns(jobId: string, limit: number): Promise<Run[]>;
  /** How many runs of the job are stored. */
  abstract getJobRunCount(jobId: string): Promise<number>;
  /**
   * A page of jobs, oldest first by `(createdAt, id)`, filtered by status, handler and a
   * case-insensitive `search` in id or name. Paged by key (`cursor`), never by offset.
   * `InvalidArgumentError` for a bad filter, a `limit` outside 1..500 or a cursor not made by the
   * same query.
   */
  abstract findJobs(query?: JobQuery): Promise<Page<Job>>;
  /**
   * A page of runs, newest first by `(startAt, id)`, filtered by job, status, start time
   * (`[from, to)`) and a case-insensitive `search` in error or output text. Paged by key: a walk
   * while runs are added returns each older run exactly once.
   */
  abstract findRuns(query?: RunQuery): Promise<Page<Run>>;
  /** The run with this id, or `null`. */
  abstract getRun(runId: string): Promise<Run | null>;
  /**
   * The finished runs that started in `[from, to)`, counted per `bucket` (from `from`), computed
   * where the runs are (GROUP BY in SQL), never by loading them: one row per bucket, empty ones too.
   */
  abstract runStats(query: RunStatsQuery): Promise<RunStatsBucket[]>;
  /** Releases resources; later calls fail with `StorageClosedError`. Idempotent. */
  abstract close(): Promise<void>;
  /** Resolves when the storage is reachable, rejects otherwise. */
  abstract ping(): Promise<void>;
}

/** Optional: storages that write many records in one go (one transaction, one round trip). */
export interface BatchStorage {
  batchUpdateJobs(jobs: Job[]): Promise<void>;
  batchUpdateRuns(runs: Run[]): Promise<void>;
}

/** Detects `BatchStorage` at run time (an interface leaves no trace in JavaScript). */
export function isBatchStorage(storage: unknown): storage is BatchStorage {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof (storage as Partial<BatchStorage>).batchUpdateJobs === 'function' &&
    typeof (storage as Partial<BatchStorage>).batchUpdateRuns === 'function'
  );
}

/** What `pruneRuns` removes: finished runs beyond a per-job count, or older than an instant. */
export interface RunPruneCriteria {
  /** Keep at most this many newest runs per job (by `startAt`); older finished runs go. */
  maxRunsPerJob?: number;
  /** Finished runs that started before this instant go. */
  olderThan?: Date;
  /** Delete at most this many runs in this call (a bounded batch). */
  limit: number;
}

/**
 * Optional: storages that can prune run history in bounded batches (the scheduler's retention).
 * Runs still `running` are never removed.
 */
export interface PrunableStorage {
  /** Deletes at most `criteria.limit` runs matching the criteria; resolves to how many it deleted. */
  pruneRuns(criteria: RunPruneCriteria): Promise<number>;
}

/** Detects `PrunableStorage` at run time. */
export function isPrunableStorage(storage: unknown): storage is PrunableStorage {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof (storage as Partial<PrunableStorage>).pruneRuns === 'function'
  );
}

/**
 * Optional: storages that can write a new job through the app's own open transaction (`addJob(definition,
 * { manager })`), so that the job exists if and only if that transaction commits.
 */
export interface TransactionalJobStorage {
  /**
   * Writes the job through `manager` (for `TypeOrmStorage`, a TypeORM `EntityManager`); resolves
   * once written, `JobAlreadyExistsError` when its id is taken (the transaction stays usable). Then
   * `committed` resolves `true` once the transaction committed with the job in it, `false` once it
   * rolled back (or the storage closed first); it rejects when the outcome could not be read.
   */
  createJobInTransaction(job: Job, manager: object): Promise<{ committed: Promise<boolean> }>;
}

/** Detects `TransactionalJobStorage` at run time. */
export function isTransactionalJobStorage(storage: unknown): storage is TransactionalJobStorage {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof (storage as Partial<TransactionalJobStorage>).createJobInTransaction === 'function'
  );
}
