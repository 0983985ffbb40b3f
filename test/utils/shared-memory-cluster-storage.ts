import { RunAlreadyRecordedError } from '../../lib/errors/run-already-recorded.error.js';
import { StorageClosedError } from '../../lib/errors/storage-closed.error.js';
import { InvalidArgumentError } from '../../lib/errors/invalid-argument.error.js';
import type { Job } from '../../lib/interfaces/job.interface.js';
import type { Run } from '../../lib/interfaces/run.interface.js';
import {
  checkJobWriteCondition,
  checkLeaseId,
  checkTtl,
} from '../../lib/storage/cluster-arguments.js';
import type {
  ClusterStorage,
  JobVersion,
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
} from '../../lib/interfaces/cluster-storage.js';
import { MemoryStorage } from '../../lib/storage/memory/memory.storage.js';

/** What `SharedMemoryClusterStorage` takes. */
export interface SharedMemoryClusterStorageOptions {
  /** The "database's" clock, epoch milliseconds (default `Date.now`). */
  dbClock?: () => number;
}

/**
 * Test only: a `MemoryStorage` that is also a `ClusterStorage`, for several `Scheduler` instances in
 * one process sharing this one object as their database. It keeps the `ClusterStorage` contract (a
 * conformance suite checks it, as it checks `TypeOrmStorage`):
 *
 * - Leases expire by `dbClock` (swap it to move the "database's" time without waiting).
 * - A job's claim lives beside the job, never in it: `updateJob` and the batch writes keep it,
 *   `deleteJob` removes it; `claimOf(jobId)` shows it to tests.
 * - Every write (the conditional ones and the ordinary ones) runs one at a time, so that a condition
 *   checked and the write it allows are one step, as the database's single statement is.
 * - A fire `(jobId, scheduledAt, attempt)` or a run id recorded already is refused by
 *   `createClaimedRun` (`RunAlreadyRecordedError`), as the SQL tables' unique keys refuse it.
 */
export class SharedMemoryClusterStorage extends MemoryStorage implements ClusterStorage {
  /** The "database's" clock, epoch milliseconds; tests may replace it at any time. */
  dbClock: () => number;

  /** Leases by id, in acquisition order. */
  private readonly leases = new Map<string, LeaseRecord>();
  /** Claimed jobs: job id to lease id. */
  private readonly claims = new Map<string, string>();
  /** The tail of the writes, run one at a time. */
  private writes: Promise<unknown> = Promise.resolve();
  private isClosed = false;

  constructor(options: SharedMemoryClusterStorageOptions = {}) {
    super();
    this.dbClock = options.dbClock ?? Date.now;
  }

  /** The lease id that claims the job, or `null` (unclaimed, or no such job). */
  claimOf(jobId: string): string | null {
    return this.claims.get(jobId) ?? null;
  }

  clusterUnsupportedReason(): string | null {
    return null;
  }

  async clusterNow(): Promise<number> {
    this.assertUsable();
    return this.dbClock();
  }

  async acquireLease(leaseId: string, instanceId: string, ttlMs: number): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    const instance = checkLeaseId('instanceId', instanceId);
    const ttl = checkTtl(ttlMs);
    this.assertUsable();
    if (this.leases.has(id)) {
      throw new InvalidArgumentError('leaseId', leaseId, 'a lease id that is not taken');
    }
    const now = this.dbClock();
    this.leases.set(id, { id, instanceId: instance, acquiredAt: now, expiresAt: now + ttl });
  }

  async renewLease(leaseId: string, ttlMs: number): Promise<boolean> {
    const id = checkLeaseId('leaseId', leaseId);
    const ttl = checkTtl(ttlMs);
    this.assertUsable();
    const lease = this.leases.get(id);
    const now = this.dbClock();
    if (!lease || lease.expiresAt <= now) return false;
    lease.expiresAt = now + ttl;
    return true;
  }

  async releaseLease(leaseId: string): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    this.assertUsable();
    this.leases.delete(id);
  }

  async listLeases(): Promise<LeaseRecord[]> {
    this.assertUsable();
    return [...this.leases.values()]
      .map((lease) => ({ ...lease }))
      .sort((a, b) => a.acquiredAt - b.acquiredAt);
  }

  async findOrphanedJobs(): Promise<OrphanedJob[]> {
    this.assertUsable();
    const now = this.dbClock();
    for (const [id, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(id);
    const orphans: OrphanedJob[] = [];
    for (const job of await super.listJobs()) {
      const claim = this.claims.get(job.id);
      if (claim === undefined) {
        if (job.status === 'running') orphans.push({ jobId: job.id, claimedBy: null });
      } else if (!this.leases.has(claim)) {
        orphans.push({ jobId: job.id, claimedBy: claim });
      }
    }
    return orphans;
  }

  async listJobVersions(): Promise<JobVersion[]> {
    this.assertUsable();
    return (await super.listJobs()).map((job) => ({ id: job.id, version: job.version }));
  }

  async getJobsById(ids: readonly string[]): Promise<Job[]> {
    if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', ids, 'an array of job ids');
    this.assertUsable();
    const jobs: Job[] = [];
    for (const id of new Set(ids)) {
      if (typeof id !== 'string') throw new InvalidArgumentError('ids', id, 'job ids (strings)');
      const job = await super.getJob(id);
      if (job !== null) jobs.push(job);
    }
    return jobs;
  }

  async writeJobIf(job: Job, condition: JobWriteCondition): Promise<boolean> {
    const checked = checkJobWriteCondition(condition);
    return this.oneAtATime(async () => {
      const stored = await super.getJob(job.id);
      if (!stored || stored.version !== checked.version) return false;
      const claim = this.claims.get(job.id) ?? null;
      if (checked.claimedBy !== undefined && claim !== checked.claimedBy) return false;
      if (checked.lease !== undefined && !this.isLive(checked.lease)) return false;
      if (
        checked.lastRunAt !== undefined &&
        (stored.lastRunAt?.getTime() ?? null) !== (checked.lastRunAt?.getTime() ?? null)
      ) {
        return false;
      }
      await super.updateJob(job);
      if (checked.claim === null) this.claims.delete(job.id);
      else if (checked.claim !== undefined) this.claims.set(job.id, checked.claim);
      return true;
    });
  }

  async createClaimedRun(run: Run, claimedBy: string): Promise<boolean> {
    const lease = checkLeaseId('claimedBy', claimedBy);
    return this.oneAtATime(async () => {
      if (this.claims.get(run.jobId) !== lease || !(await super.getJob(run.jobId))) return false;
      const recorded = (await super.getRuns(run.jobId, Infinity)).some(
        (stored) =>
          stored.id === run.id ||
          (stored.scheduledAt.getTime() === run.scheduledAt.getTime() &&
            stored.attempt === run.attempt),
      );
      if (recorded) throw new RunAlreadyRecordedError(run.jobId, run.scheduledAt, run.attempt);
      await super.createRun(run);
      return true;
    });
  }

  async finishRun(run: Run): Promise<boolean> {
    return this.oneAtATime(async () => {
      const stored = (await super.getRuns(run.jobId, Infinity)).find(
        (found) => found.id === run.id,
      );
      if (!stored || stored.status !== 'running') return false;
      await super.updateRun({
        ...stored,
        status: run.status,
        endAt: run.endAt,
        output: run.output,
        error: run.error,
        duration: run.duration,
        traceId: run.traceId,
      });
      return true;
    });
  }

  // The ordinary writes, one at a time with the conditional ones; the claim is left alone.

  override createJob(job: Job): Promise<void> {
    return this.oneAtATime(async () => {
      await super.createJob(job);
      this.claims.delete(job.id);
    });
  }

  override updateJob(job: Job): Promise<void> {
    return this.oneAtATime(() => super.updateJob(job));
  }

  override deleteJob(id: string): Promise<void> {
    return this.oneAtATime(async () => {
      await super.deleteJob(id);
      this.claims.delete(id);
    });
  }

  override batchUpdateJobs(jobs: Job[]): Promise<void> {
    return this.oneAtATime(() => super.batchUpdateJobs(jobs));
  }

  override createRun(run: Run): Promise<void> {
    return this.oneAtATime(() => super.createRun(run));
  }

  override updateRun(run: Run): Promise<void> {
    return this.oneAtATime(() => super.updateRun(run));
  }

  override batchUpdateRuns(runs: Run[]): Promise<void> {
    return this.oneAtATime(() => super.batchUpdateRuns(runs));
  }

  override async close(): Promise<void> {
    this.isClosed = true;
    this.leases.clear();
    this.claims.clear();
    await super.close();
  }

  private isLive(leaseId: string): boolean {
    const lease = this.leases.get(leaseId);
    return lease !== undefined && lease.expiresAt > this.dbClock();
  }

  private assertUsable(): void {
    if (this.isClosed) throw new StorageClosedError('SharedMemoryClusterStorage');
  }

  /** Runs `work` after every write queued before it (a failed one does not stop the queue). */
  private oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
