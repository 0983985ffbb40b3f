import type { Job, JobStatus } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';

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
  /** Up to `limit` runs of the job, newest first. */
  abstract getRuns(jobId: string, limit: number): Promise<Run[]>;
  /** How many runs of the job are stored. */
  abstract getJobRunCount(jobId: string): Promise<number>;
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

/** Detects `BatchStorage` at run time, as the seed's type assertion does. */
export function isBatchStorage(storage: unknown): storage is BatchStorage {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof (storage as Partial<BatchStorage>).batchUpdateJobs === 'function' &&
    typeof (storage as Partial<BatchStorage>).batchUpdateRuns === 'function'
  );
}
