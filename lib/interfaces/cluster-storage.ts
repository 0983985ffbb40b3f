import type { Job } from './job.interface.js';
import type { Run } from './run.interface.js';

/**
 * The longest lease id and instance id a `ClusterStorage` takes (`TypeOrmStorage`: `varchar(128)`);
 * a longer one is refused with `InvalidArgumentError`.
 */
export const MAX_LEASE_ID_LENGTH = 128;

/**
 * The condition and the claim change of `writeJobIf`: a compare-and-set on the stored job row, done
 * by the database in one conditional statement (never a read followed by a write).
 */
export interface JobWriteCondition {
  /** The stored `version` must equal this (the version the writer last saw). */
  version: number;
  /** When given, the stored claim must be this lease id (`null`: the job is claimed by nobody). */
  claimedBy?: string | null;
  /** When given, the job's claim is set to this lease id (`null`: released); otherwise kept. */
  claim?: string | null;
  /** When given, the write happens only while this lease exists and has not expired (database clock). */
  lease?: string;
  /**
   * When given, the stored `lastRunAt` must be this instant (`null`: none). With `version` and
   * `claimedBy` it names one claim exactly: a claim writes the start of its run there, so a later
   * claim by the same lease that reached the same version number is not mistaken for it.
   */
  lastRunAt?: Date | null;
}

/** A lease row, as `listLeases` returns it. Instants are epoch milliseconds by the database's clock. */
export interface LeaseRecord {
  /** The lease id: unique per start of an instance (`<instanceId>#<random>`). */
  id: string;
  /** The instance's `cluster.instanceId`. */
  instanceId: string;
  acquiredAt: number;
  expiresAt: number;
}

/** A job's id and version: what the poll of each instance reads first (`listJobVersions`). */
export interface JobVersion {
  id: string;
  version: number;
}

/** A job claimed by a lease that no longer exists (its instance died or lost it). */
export interface OrphanedJob {
  jobId: string;
  /** The dead lease id; `null` for a job left `running` with no claim (a single-instance crash). */
  claimedBy: string | null;
}

/**
 * Optional: storages that several scheduler instances (processes, hosts) can share: `cluster` mode.
 * Every write is one atomic statement on the database (`findOrphanedJobs` is two: a removal, then a
 * read); every time in a lease is the database's clock, never a host's. `TypeOrmStorage` implements
 * it on PostgreSQL and MySQL/MariaDB. Lease ids, instance ids and ttls are checked first: a bad one
 * is refused with `InvalidArgumentError` (ids: non-empty, at most `MAX_LEASE_ID_LENGTH` characters,
 * no NUL; ttls: milliseconds >= 1).
 */
export interface ClusterStorage {
  /** `null` when several instances can share this storage; otherwise why not (an error shows it). */
  clusterUnsupportedReason(): string | null;
  /** The database's clock, epoch milliseconds. */
  clusterNow(): Promise<number>;
  /**
   * Creates lease `leaseId` for `instanceId`, expiring `ttlMs` after the database's now;
   * `InvalidArgumentError` when `leaseId` is taken (expired leases included, until removed).
   */
  acquireLease(leaseId: string, instanceId: string, ttlMs: number): Promise<void>;
  /**
   * Extends the lease to `ttlMs` after the database's now if it still exists and has not expired;
   * resolves false when it was lost (expired or removed): the instance must not claim with it again.
   */
  renewLease(leaseId: string, ttlMs: number): Promise<boolean>;
  /** Removes the lease (a graceful stop). Idempotent. */
  releaseLease(leaseId: string): Promise<void>;
  /** The live and expired leases not removed yet, oldest first (by `acquiredAt`). */
  listLeases(): Promise<LeaseRecord[]>;
  /**
   * Removes the leases expired by the database's clock, then lists the jobs whose claim names no
   * existing lease, plus the jobs `running` with no claim. It changes no job: an orphan stays listed
   * until its claim is taken over or released (`writeJobIf`), or the job is removed.
   */
  findOrphanedJobs(): Promise<OrphanedJob[]>;
  /**
   * Every job's id and version, in no particular order: one narrow read, so that an instance's poll
   * costs little when nothing changed (it then reads in full only the jobs `getJobsById` names).
   */
  listJobVersions(): Promise<JobVersion[]>;
  /**
   * The stored jobs among `ids`, in no particular order: an unknown id is left out, an id given twice
   * is returned once, and `[]` reads nothing. Any number of ids (a SQL storage splits a long list).
   */
  getJobsById(ids: readonly string[]): Promise<Job[]>;
  /**
   * Writes every field of `job` (and the claim, when `condition.claim` is given) if the stored row
   * meets `condition`; resolves false otherwise (changed by another writer, claimed by another
   * lease, the lease expired, or the job removed).
   */
  writeJobIf(job: Job, condition: JobWriteCondition): Promise<boolean>;
  /**
   * Stores a new run if its job is still claimed by `claimedBy`; false otherwise (the claim was
   * taken over, or the job removed). `RunAlreadyRecordedError` when its fire `(jobId, scheduledAt,
   * attempt)` is recorded (by any run), or a run with its id is stored already.
   */
  createClaimedRun(run: Run, claimedBy: string): Promise<boolean>;
  /**
   * Writes a run's end (`status`, `endAt`, `output`, `error`, `duration`, `traceId`) only while the
   * stored run is still `running`: a run recorded ended (by this instance, or as lost by another) is
   * never overwritten. False when nothing was written (also for an unknown run).
   */
  finishRun(run: Run): Promise<boolean>;
  /**
   * Optional (`TypeOrmStorage` on PostgreSQL): `finishRun(run)`, then, only if it wrote, `writeJobIf(job,
   * condition)`, both in one atomic statement: either both land or neither. `finished` tells the
   * first, `released` the second.
   */
  finishRunAndWriteJob?(run: Run, job: Job, condition: JobWriteCondition): Promise<RunEndOutcome>;
  /**
   * Optional (`TypeOrmStorage` on PostgreSQL), a batch of claims in one statement: for each, what
   * `writeJobIf(job, { version, claimedBy: null, claim: lease, lease })` does, except that a job row
   * another writer holds locked at that moment is skipped (false), not waited for. Resolves, in
   * order, whether each job was claimed. Job ids must be distinct.
   */
  claimJobs?(claims: readonly JobClaim[], lease: string): Promise<boolean[]>;
  /**
   * Optional (`TypeOrmStorage` on PostgreSQL), `createClaimedRun` for many runs in one statement:
   * resolves, in order, true for each run stored; false for a run not stored, because its job is not
   * claimed by `claimedBy`, or because its fire or id is recorded already (`createClaimedRun` tells
   * which). Run ids must be distinct.
   */
  createClaimedRuns?(runs: readonly Run[], claimedBy: string): Promise<boolean[]>;
  /**
   * Optional (`TypeOrmStorage` on PostgreSQL), `finishRunAndWriteJob(run, job, { version, claimedBy,
   * claim: null })` for many runs in one statement: each end and its release land both or neither.
   * Resolves the outcomes in order. Run ids and job ids must be distinct.
   */
  finishRunsAndReleaseJobs?(ends: readonly RunRelease[]): Promise<RunEndOutcome[]>;
}

/** One claim of `claimJobs`: the job as it is to be stored, and the version it must be stored at. */
export interface JobClaim {
  job: Job;
  version: number;
}

/** One end of `finishRunsAndReleaseJobs`: the run's end, then the job, released, if still so. */
export interface RunRelease {
  run: Run;
  job: Job;
  /** The stored job's version must be this. */
  version: number;
  /** The stored job must be claimed by this lease id. */
  claimedBy: string;
}

/** What `finishRunAndWriteJob` wrote. */
export interface RunEndOutcome {
  /** The run's end was written (it was still `running`). */
  finished: boolean;
  /** The job was written too (its condition held). */
  released: boolean;
}

const CLUSTER_METHODS = [
  'clusterUnsupportedReason',
  'clusterNow',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'listLeases',
  'findOrphanedJobs',
  'listJobVersions',
  'getJobsById',
  'writeJobIf',
  'createClaimedRun',
  'finishRun',
] as const;

/** Detects `ClusterStorage` at run time. */
export function isClusterStorage(storage: unknown): storage is ClusterStorage {
  return (
    typeof storage === 'object' &&
    storage !== null &&
    CLUSTER_METHODS.every(
      (method) => typeof (storage as Record<string, unknown>)[method] === 'function',
    )
  );
}
