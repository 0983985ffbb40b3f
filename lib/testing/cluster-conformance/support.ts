import type { ClusterStorage, OrphanedJob } from '../../interfaces/cluster-storage.js';
import type { JobStorage } from '../../interfaces/job-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { TestApi } from '../test-api.js';

/** What the sections of the `ClusterStorage` conformance suite share. */
export interface ClusterSuite {
  readonly api: TestApi;
  /** The storage of the test running (a fresh one per test). */
  readonly storage: SharedStorage;
  /** A fresh id, unique across tests and runs (and at most 64 characters). */
  uid(prefix?: string): string;
  /** A fresh lease id, shaped as the scheduler makes them (`<instanceId>#<random>`). */
  leaseId(instance?: string): string;
  addJob(overrides?: Partial<Job>): Promise<Job>;
  /** Takes a lease (long by default); resolves to its id. */
  lease(ttl?: number, instance?: string): Promise<string>;
  /** Claims an unclaimed job for `leaseId`; resolves to the job as now stored. */
  claim(job: Job, by: string): Promise<Job>;
  /** Whether the job's claim is `by` (`null`: unclaimed), seen through a no-op conditional write. */
  claimedBy(jobId: string, by: string | null): Promise<boolean>;
  /** `findOrphanedJobs()` restricted to some jobs, by job id. */
  orphansAmong(jobIds: readonly string[]): Promise<OrphanedJob[]>;
  leaseIds(): Promise<string[]>;
}

/** A storage that several scheduler instances can share. */
export type SharedStorage = JobStorage & ClusterStorage;

/** A lease short enough to expire within a test, and how long to wait for it to (database clock). */
export const SHORT_TTL = 200;
export const PAST_SHORT_TTL = 450;
/** A lease that outlives any test. */
export const LONG_TTL = 60_000;
/** How many writers race in the concurrency tests. */
export const RACERS = 20;
