import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import { RunAlreadyRecordedError } from '../../errors/run-already-recorded.error.js';
import type {
  JobClaim,
  JobVersion,
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
  RunEndOutcome,
  RunRelease,
} from '../../interfaces/cluster-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { checkJobWriteCondition, checkLeaseId, checkTtl } from '../cluster-arguments.js';
import { claimJobs, finishRunsAndReleaseJobs, insertClaimedRuns } from './cluster-batch-sql.js';
import {
  finishRunAndWriteJob,
  SQLITE_CLUSTER_REASON,
  toLeaseRecord,
  toOrphanedJob,
} from './cluster-sql.js';
import type { JobRowCodec } from './job-row-codec.js';
import { JOB_WRITE_COLUMNS, MAX_IDS_PER_STATEMENT, RUN_WRITE_COLUMNS } from './job-sql.js';
import type { SqlSession } from './sql-session.js';
import type { SqlDialect } from './typeorm-dialect.js';

/**
 * `TypeOrmStorage`'s `ClusterStorage` methods (see there): each write one conditional statement,
 * refused on SQLite by `SqlSession.useCluster`.
 */
export class TypeOrmCluster {
  constructor(
    private readonly session: SqlSession,
    private readonly codec: JobRowCodec,
    private readonly dialect: SqlDialect,
  ) {}

  /** `null` on PostgreSQL and MySQL/MariaDB; on SQLite, why cluster mode cannot use it. */
  clusterUnsupportedReason(): string | null {
    return this.dialect === 'sqlite' ? SQLITE_CLUSTER_REASON : null;
  }

  /** The database's clock, epoch milliseconds. */
  async clusterNow(): Promise<number> {
    return this.session.useCluster(async (sql) =>
      Number((await this.session.rows(sql.clusterNow()))[0]?.now),
    );
  }

  /** Inserts the lease; `InvalidArgumentError` when `leaseId` is taken. */
  async acquireLease(leaseId: string, instanceId: string, ttlMs: number): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    const instance = checkLeaseId('instanceId', instanceId);
    const ttl = checkTtl(ttlMs);
    await this.session.useCluster(async (sql) => {
      try {
        await this.session.exec(sql.acquireLease(id, instance, ttl));
      } catch (error) {
        if (!this.session.isUniqueViolation(error)) throw error;
        throw new InvalidArgumentError('leaseId', leaseId, 'a lease id that is not taken');
      }
    });
  }

  async renewLease(leaseId: string, ttlMs: number): Promise<boolean> {
    const id = checkLeaseId('leaseId', leaseId);
    const ttl = checkTtl(ttlMs);
    return this.session.useCluster(
      async (sql) => (await this.session.exec(sql.renewLease(id, ttl))).affected === 1,
    );
  }

  async releaseLease(leaseId: string): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    await this.session.useCluster((sql) => this.session.exec(sql.releaseLease(id)));
  }

  async listLeases(): Promise<LeaseRecord[]> {
    return this.session.useCluster(async (sql) =>
      (await this.session.rows(sql.listLeases())).map(toLeaseRecord),
    );
  }

  /** Deletes the expired leases, then selects the orphaned jobs (two statements). */
  async findOrphanedJobs(): Promise<OrphanedJob[]> {
    return this.session.useCluster(async (sql) => {
      await this.session.exec(sql.deleteExpiredLeases());
      return (await this.session.rows(sql.orphanedJobs())).map(toOrphanedJob);
    });
  }

  /** One `SELECT id, version` of every job. */
  async listJobVersions(): Promise<JobVersion[]> {
    return this.session.useCluster(async (_cluster, sql) => {
      const rows = await this.session.rows(sql.listJobVersions());
      return rows.map((row) => ({ id: String(row.id), version: Number(row.version) }));
    });
  }

  /**
   * One `SELECT ... WHERE id = ANY($1)` on PostgreSQL; on MySQL/MariaDB one `IN (...)` per
   * `MAX_IDS_PER_STATEMENT` ids (each a consistent read of its own rows).
   */
  async getJobsById(ids: readonly string[]): Promise<Job[]> {
    if (!Array.isArray(ids)) throw new InvalidArgumentError('ids', ids, 'an array of job ids');
    const distinct = [...new Set(ids)];
    for (const id of distinct) {
      if (typeof id !== 'string') throw new InvalidArgumentError('ids', id, 'job ids (strings)');
    }
    return this.session.useCluster(async (_cluster, sql) => {
      const jobs: Job[] = [];
      const size = this.dialect === 'postgres' ? distinct.length : MAX_IDS_PER_STATEMENT;
      for (let from = 0; from < distinct.length; from += size) {
        const rows = await this.session.rows(sql.getJobsById(distinct.slice(from, from + size)));
        for (const row of rows) jobs.push(this.codec.toJob(row));
      }
      return jobs;
    });
  }

  /** One conditional `UPDATE` (a compare-and-set on `version`, the claim and the lease). */
  async writeJobIf(job: Job, condition: JobWriteCondition): Promise<boolean> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    const checked = checkJobWriteCondition(condition);
    return this.session.useCluster(async (sql) => {
      const lastRunAt = this.lastRunAtOf(checked);
      return (
        (await this.session.exec(sql.writeJobIf(values, checked, undefined, lastRunAt)))
          .affected === 1
      );
    });
  }

  /** One `INSERT ... SELECT ... WHERE EXISTS` (the claim); a recorded fire as `createRun` says it. */
  async createClaimedRun(run: Run, claimedBy: string): Promise<boolean> {
    const values = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    const lease = checkLeaseId('claimedBy', claimedBy);
    return this.session.useCluster(async (sql) => {
      try {
        return (
          (await this.session.exec(sql.insertClaimedRun(values, run.jobId, lease))).affected === 1
        );
      } catch (error) {
        if (!this.session.isUniqueViolation(error)) throw error;
        throw new RunAlreadyRecordedError(run.jobId, run.scheduledAt, run.attempt);
      }
    });
  }

  /** One `UPDATE ... WHERE status = 'running'` of the run's end fields. */
  async finishRun(run: Run): Promise<boolean> {
    const values = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    return this.session.useCluster(
      async (sql) => (await this.session.exec(sql.finishRun(values))).affected === 1,
    );
  }

  async finishRunAndWrite(
    run: Run,
    job: Job,
    condition: JobWriteCondition,
  ): Promise<RunEndOutcome> {
    const runValues = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    const jobValues = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    const checked = checkJobWriteCondition(condition);
    return this.session.useCluster(async (sql) => {
      const [row] = await this.session.rows(
        finishRunAndWriteJob(sql, runValues, jobValues, checked, this.lastRunAtOf(checked)),
      );
      return { finished: Number(row?.finished) === 1, released: Number(row?.released) === 1 };
    });
  }

  /** PostgreSQL: one `UPDATE ... FROM` its rows (`jsonRows`) over the rows it could lock (`SKIP LOCKED`). */
  async claimJobs(claims: readonly JobClaim[], lease: string): Promise<boolean[]> {
    const id = checkLeaseId('lease', lease);
    checkBatch('claims', claims, (c) => c.job?.id);
    if (claims.length === 0) return [];
    const rows = claims.map(({ job, version }) => {
      checkJobWriteCondition({ version });
      return [...this.codec.jobValues(job, JOB_WRITE_COLUMNS, true), version];
    });
    return this.session.useCluster(async (sql) => {
      const rowsOut = await this.session.rows(claimJobs(sql, rows, id));
      const claimed = new Set(rowsOut.map((row) => String(row.id)));
      return claims.map((c) => claimed.has(c.job.id));
    });
  }

  /** PostgreSQL: one `INSERT ... SELECT ... FROM` its rows `ON CONFLICT DO NOTHING`. */
  async createClaimedRuns(runs: readonly Run[], claimedBy: string): Promise<boolean[]> {
    const lease = checkLeaseId('claimedBy', claimedBy);
    checkBatch('runs', runs, (r) => r.id);
    if (runs.length === 0) return [];
    const rows = runs.map((run) => this.codec.runValues(run, RUN_WRITE_COLUMNS, true));
    return this.session.useCluster(async (sql) => {
      const rowsOut = await this.session.rows(insertClaimedRuns(sql, rows, lease));
      const stored = new Set(rowsOut.map((row) => String(row.id)));
      return runs.map((run) => stored.has(run.id));
    });
  }

  /** PostgreSQL: two data-modifying CTEs over its rows, one statement. */
  async finishRunsAndReleaseJobs(ends: readonly RunRelease[]): Promise<RunEndOutcome[]> {
    checkBatch(
      'ends',
      ends,
      (e) => e.run?.id,
      (e) => e.job?.id,
    );
    if (ends.length === 0) return [];
    const runRows = ends.map((e) => this.codec.runValues(e.run, RUN_WRITE_COLUMNS, true));
    const jobRows = ends.map((e) => {
      checkJobWriteCondition({ version: e.version });
      const claimed = checkLeaseId('claimedBy', e.claimedBy);
      return [
        ...this.codec.jobValues(e.job, JOB_WRITE_COLUMNS, true),
        e.version,
        claimed,
        e.run.id,
      ];
    });
    return this.session.useCluster(async (sql) => {
      const finished = new Set<string>();
      const released = new Set<string>();
      for (const row of await this.session.rows(finishRunsAndReleaseJobs(sql, runRows, jobRows))) {
        (row.kind === 'f' ? finished : released).add(String(row.id));
      }
      return ends.map((e) => ({
        finished: finished.has(e.run.id),
        released: released.has(e.job.id),
      }));
    });
  }

  /** A condition's `lastRunAt` as the column is written (null when none or not given). */
  private lastRunAtOf(condition: JobWriteCondition): unknown {
    return condition.lastRunAt ? this.codec.encodeInstant(condition.lastRunAt) : null;
  }
}

/**
 * A batch, checked: an array whose items each have string ids (one per `idOf`), distinct within the
 * batch. `InvalidArgumentError` naming `name` otherwise.
 */
function checkBatch<T>(
  name: string,
  batch: readonly T[],
  ...idOf: Array<(item: T) => unknown>
): void {
  if (!Array.isArray(batch)) throw new InvalidArgumentError(name, batch, 'an array');
  for (const id of idOf) {
    const seen = new Set<string>();
    for (const item of batch) {
      const value = typeof item === 'object' && item !== null ? id(item) : undefined;
      if (typeof value !== 'string') {
        throw new InvalidArgumentError(name, item, 'items with their ids (strings)');
      }
      if (seen.has(value)) throw new InvalidArgumentError(name, value, 'distinct ids in one batch');
      seen.add(value);
    }
  }
}
