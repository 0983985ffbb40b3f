import type { DataSource } from 'typeorm';
import { RunAlreadyRecordedError } from '../../errors/run-already-recorded.error.js';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../../interfaces/history-query.interface.js';
import type { Job, JobStatus } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { checkPruneCriteria } from '../prune-arguments.js';
import type {
  ClusterStorage,
  JobClaim,
  JobVersion,
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
  RunEndOutcome,
  RunRelease,
} from '../../interfaces/cluster-storage.js';
import {
  JobStorage,
  type BatchStorage,
  type PrunableStorage,
  type RunPruneCriteria,
  type TransactionalJobStorage,
} from '../../interfaces/job-storage.js';
import { JobRowCodec } from './job-row-codec.js';
import { JOB_WRITE_COLUMNS, RUN_WRITE_COLUMNS } from './job-sql.js';
import { resolveJobTableNames } from './job-table-names.js';
import { SqlSession } from './sql-session.js';
import { TypeOrmCluster } from './typeorm-cluster.js';
import { TypeOrmHistory } from './typeorm-history.js';
import { TypeOrmTransactionalAdd } from './typeorm-transactional-add.js';
import { checkStorageOptions } from './typeorm-storage-options.js';
import { dialectOf, SUPPORTED_DATA_SOURCE_TYPES_TEXT, type SqlDialect } from './typeorm-dialect.js';
import type { TypeOrmStorageOptions } from './typeorm-storage-options.interface.js';

/**
 * Jobs and run history in SQL tables, on an app's TypeORM `DataSource` (PostgreSQL, MySQL/MariaDB or
 * SQLite through better-sqlite3).
 *
 * - Tables: `jobs`, `job_runs` and `job_leases` (cluster mode) by default (`tablePrefix` goes before
 *   those; `jobTableName` / `runTableName` / `leaseTableName` are used as given). They are created
 *   with their indexes on first use when missing (`createTables`, default true), through TypeORM's
 *   QueryRunner schema API, never `synchronize`; `createJobTablesMigration` and the entity schema
 *   factories describe the same tables.
 * - Initialisation is lazy: the first call of any method (or `initialize()`) checks that the DataSource
 *   is initialised (it is the app's: this storage never initialises nor destroys it) and creates the
 *   tables. `close()` only marks this storage closed.
 * - Batches (`batchUpdateJobs`, `batchUpdateRuns`) cost one statement per chunk of rows, in one
 *   transaction when there are several. MySQL/MariaDB and SQLite chunks keep under the dialect's
 *   parameter limit and 4 MiB of text; PostgreSQL binds the rows as one `jsonb` parameter (`jsonRows`), so a batch
 *   is one statement whatever its row count, split only past 64 MiB of text.
 * - Payloads are JSON text of at most 1 MiB (`TYPEORM_MAX_PAYLOAD_BYTES`). NUL characters are refused
 *   in the text fields a caller chooses (ids, names, cron...) and replaced by U+FFFD in run output,
 *   run error and `lastResult`; PostgreSQL text cannot hold them.
 * - A run's fire `(jobId, scheduledAt, attempt)` is unique: a second run (another id) for a recorded
 *   fire is refused by `createRun` and skipped by `updateRun` / `batchUpdateRuns`.
 * - `ClusterStorage` (several scheduler instances on one database) on PostgreSQL and MySQL/MariaDB:
 *   leases in the lease table, a job's claim in the jobs table's `claimed_by` column (never written
 *   by the ordinary writes, never part of a `Job`). SQLite refuses it (`clusterUnsupportedReason()`).
 */
export class TypeOrmStorage
  extends JobStorage
  implements BatchStorage, PrunableStorage, ClusterStorage, TransactionalJobStorage
{
  /** The jobs table's name. */
  readonly jobTableName: string;
  /** The run history table's name. */
  readonly runTableName: string;
  /** The lease table's name (cluster mode). */
  readonly leaseTableName: string;
  /** The SQL dialect of the DataSource. */
  readonly dialect: SqlDialect;

  private readonly codec: JobRowCodec;
  private readonly session: SqlSession;
  private readonly history: TypeOrmHistory;
  private readonly transactional: TypeOrmTransactionalAdd;
  private readonly cluster: TypeOrmCluster;

  /**
   * `ClusterStorage.finishRunAndWriteJob`: defined on PostgreSQL only (one statement of two
   * data-modifying CTEs); elsewhere a cluster ends a run in two statements.
   */
  declare readonly finishRunAndWriteJob?: (
    run: Run,
    job: Job,
    condition: JobWriteCondition,
  ) => Promise<RunEndOutcome>;
  /** `ClusterStorage.claimJobs`, on PostgreSQL only (elsewhere a cluster claims one by one). */
  declare readonly claimJobs?: (claims: readonly JobClaim[], lease: string) => Promise<boolean[]>;
  /** `ClusterStorage.createClaimedRuns`, on PostgreSQL only. */
  declare readonly createClaimedRuns?: (
    runs: readonly Run[],
    claimedBy: string,
  ) => Promise<boolean[]>;
  /** `ClusterStorage.finishRunsAndReleaseJobs`, on PostgreSQL only. */
  declare readonly finishRunsAndReleaseJobs?: (
    ends: readonly RunRelease[],
  ) => Promise<RunEndOutcome[]>;

  constructor(dataSource: DataSource, options: TypeOrmStorageOptions = {}) {
    super();
    if (
      typeof dataSource !== 'object' ||
      dataSource === null ||
      typeof (dataSource as Partial<DataSource>).createQueryRunner !== 'function' ||
      typeof (dataSource as Partial<DataSource>).options !== 'object'
    ) {
      throw new InvalidOptionsError(
        'dataSource',
        dataSource,
        `a TypeORM DataSource (the app's, e.g. injected from @nestjs/typeorm): ${SUPPORTED_DATA_SOURCE_TYPES_TEXT}`,
      );
    }
    const dialect = dialectOf(dataSource.options.type);
    if (!dialect) {
      throw new InvalidOptionsError(
        'dataSource',
        `a DataSource of type "${String(dataSource.options.type)}"`,
        `${SUPPORTED_DATA_SOURCE_TYPES_TEXT} (TypeOrmStorage speaks PostgreSQL, MySQL/MariaDB and SQLite)`,
      );
    }
    const createTables = checkStorageOptions(options);
    const names = resolveJobTableNames(options, dialect);
    this.dialect = dialect;
    this.jobTableName = names.jobTable;
    this.runTableName = names.runTable;
    this.leaseTableName = names.leaseTable;
    const schema =
      dialect === 'postgres' ? (dataSource.options as { schema?: unknown }).schema : undefined;
    this.session = new SqlSession(
      dataSource,
      dialect,
      names,
      typeof schema === 'string' && schema !== '' ? schema : undefined,
      createTables,
    );
    this.codec = new JobRowCodec(dialect);
    this.history = new TypeOrmHistory(this.session, this.codec);
    this.transactional = new TypeOrmTransactionalAdd(this.session, this.codec, this);
    this.cluster = new TypeOrmCluster(this.session, this.codec, dialect);
    if (dialect === 'postgres') {
      const cluster = this.cluster;
      const batched: Pick<
        ClusterStorage,
        'finishRunAndWriteJob' | 'claimJobs' | 'createClaimedRuns' | 'finishRunsAndReleaseJobs'
      > = {
        finishRunAndWriteJob: (run, job, condition) =>
          cluster.finishRunAndWrite(run, job, condition),
        claimJobs: (claims, lease) => cluster.claimJobs(claims, lease),
        createClaimedRuns: (runs, claimedBy) => cluster.createClaimedRuns(runs, claimedBy),
        finishRunsAndReleaseJobs: (ends) => cluster.finishRunsAndReleaseJobs(ends),
      };
      Object.assign(this, batched);
    }
  }

  /**
   * Checks the DataSource and creates the tables if needed (once; later calls return the same
   * promise, a failure is retried by the next call). Every method awaits it first.
   */
  initialize(): Promise<void> {
    return this.session.initialize();
  }

  override async createJob(job: Job): Promise<void> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    await this.session.use(async (sql) => {
      try {
        await this.session.exec(sql.insertJob(values));
      } catch (error) {
        if (this.session.isUniqueViolation(error)) throw new JobAlreadyExistsError(job.id);
        throw error;
      }
    });
  }

  /**
   * Writes the job through the app's `EntityManager` (`addJob(definition, { manager })`): inside its
   * open transaction, so the job exists only if that transaction commits; `committed` tells the
   * outcome (see `TypeOrmTransactionalAdd`). `InvalidOptionsError` for a manager of another DataSource.
   */
  createJobInTransaction(job: Job, manager: object): Promise<{ committed: Promise<boolean> }> {
    return this.transactional.createJobInTransaction(job, manager);
  }

  override async getJob(id: string): Promise<Job | null> {
    return this.session.use(async (sql) => {
      const [row] = await this.session.rows(sql.getJob(id));
      return row ? this.codec.toJob(row) : null;
    });
  }

  override async updateJob(job: Job): Promise<void> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    await this.session.use(async (sql) => {
      const result = await this.session.exec(sql.updateJob(values));
      if (result.affected === 0 && !(await this.session.exists(sql.jobExists(job.id)))) {
        throw new JobNotFoundError(job.id);
      }
    });
  }

  override async deleteJob(id: string): Promise<void> {
    await this.session.use(async (sql) => {
      const deleted = await this.session.transaction(async (runner) => {
        const result = await this.session.exec(sql.deleteJob(id), runner);
        if (result.affected === 0) return false;
        await this.session.exec(sql.deleteRunsOfJob(id), runner);
        return true;
      });
      if (!deleted) throw new JobNotFoundError(id);
    });
  }

  override async listJobs(status?: JobStatus): Promise<Job[]> {
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(sql.listJobs(status));
      return rows.map((row) => this.codec.toJob(row));
    });
  }

  /**
   * Stores a run (replacing the one with its id, if any, in place). `JobNotFoundError` when its job
   * does not exist; `RunAlreadyRecordedError` when another run already records its fire.
   */
  override async createRun(run: Run): Promise<void> {
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS, true)];
    await this.session.use(async (sql) => {
      const result = await this.session.exec(sql.upsertRuns([row]));
      if (result.affected !== 0) return;
      if (!(await this.session.exists(sql.jobExists(run.jobId))))
        throw new JobNotFoundError(run.jobId);
      // MySQL without FOUND_ROWS reports an unchanged row as 0 affected: the run is there.
      if (await this.session.exists(sql.runExists(run.id))) return;
      throw new RunAlreadyRecordedError(run.jobId, run.scheduledAt, run.attempt);
    });
  }

  /** Writes a run: inserted when absent, updated in place otherwise, ignored when its job is gone. */
  override async updateRun(run: Run): Promise<void> {
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS, true)];
    await this.session.use((sql) => this.session.exec(sql.upsertRuns([row])));
  }

  /**
   * A run's end and its job: on PostgreSQL one statement (the run's upsert as a data-modifying CTE,
   * then the job's update), elsewhere the two writes in turn. `JobNotFoundError` when the job is
   * gone (the run is then not written either).
   */
  override async recordRunEnd(run: Run, job: Job | null): Promise<void> {
    if (job === null || this.dialect !== 'postgres') return super.recordRunEnd(run, job);
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS, true)];
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    await this.session.use(async (sql) => {
      const result = await this.session.exec(sql.recordRunEnd(row, values));
      if (result.affected === 0 && !(await this.session.exists(sql.jobExists(job.id)))) {
        throw new JobNotFoundError(job.id);
      }
    });
  }

  override async getRuns(jobId: string, limit: number): Promise<Run[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) {
      await this.session.use(async () => undefined);
      return [];
    }
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(
        sql.getRuns(jobId, count > 1_000_000_000 ? null : count),
      );
      return rows.map((row) => this.codec.toRun(row));
    });
  }

  override async getJobRunCount(jobId: string): Promise<number> {
    return this.session.use(async (sql) => {
      const [row] = await this.session.rows(sql.countRuns(jobId));
      return Number(row?.count ?? 0);
    });
  }

  /** One keyset `SELECT` (`limit + 1` rows, in `(created_at, id)` order); no OFFSET, no COUNT. */
  override findJobs(query?: JobQuery): Promise<Page<Job>> {
    return this.history.findJobs(query);
  }

  /** One keyset `SELECT` (`limit + 1` rows, newest first by `(start_at, id)`). */
  override findRuns(query?: RunQuery): Promise<Page<Run>> {
    return this.history.findRuns(query);
  }

  override getRun(runId: string): Promise<Run | null> {
    return this.history.getRun(runId);
  }

  /** One `SELECT ... GROUP BY` over the runs' `(start_at, id)` index range. */
  override runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    return this.history.runStats(query);
  }

  /**
   * Replaces each job that still exists (one `UPDATE` per chunk, never an insert); jobs unknown or
   * deleted meanwhile are skipped. A job given twice is written as its last copy.
   */
  async batchUpdateJobs(jobs: Job[]): Promise<void> {
    const byId = new Map<string, unknown[]>();
    for (const job of jobs) byId.set(job.id, this.codec.jobValues(job, JOB_WRITE_COLUMNS, true));
    await this.session.use(async (sql) => {
      if (byId.size === 0) return;
      const chunks = sql.chunk([...byId.values()], JOB_WRITE_COLUMNS.length);
      await this.session.inTransactionIfMany(chunks, (chunk, runner) =>
        this.session.exec(sql.updateJobs(chunk), runner),
      );
    });
  }

  /**
   * Writes each run like `updateRun` (one upsert per chunk): inserted when absent, updated in place
   * otherwise, skipped when its job is gone. A run given twice is written as its last copy, in the
   * place of its first.
   */
  async batchUpdateRuns(runs: Run[]): Promise<void> {
    const byId = new Map<string, unknown[]>();
    for (const run of runs) byId.set(run.id, this.codec.runValues(run, RUN_WRITE_COLUMNS, true));
    await this.session.use(async (sql) => {
      if (byId.size === 0) return;
      const rows = [...byId.values()].map((values, i) => [i, ...values]);
      const chunks = sql.chunk(rows, RUN_WRITE_COLUMNS.length + 1);
      await this.session.inTransactionIfMany(chunks, (chunk, runner) =>
        this.session.exec(sql.upsertRuns(chunk), runner),
      );
    });
  }

  /**
   * Deletes at most `limit` finished runs (never `running` ones), oldest first: those beyond the
   * newest `maxRunsPerJob` of their job, and those started before `olderThan` (either rule removes a
   * run). One statement; nothing is loaded into memory. Resolves to how many were deleted.
   */
  async pruneRuns(criteria: RunPruneCriteria): Promise<number> {
    const { maxRunsPerJob, olderThan, limit } = checkPruneCriteria(criteria);
    const count = Math.floor(limit);
    return this.session.use(async (sql) => {
      if (count <= 0 || (maxRunsPerJob === undefined && olderThan === undefined)) return 0;
      const result = await this.session.exec(
        sql.pruneRuns(
          maxRunsPerJob,
          olderThan === undefined ? undefined : this.codec.encodeInstant(olderThan),
          Number.isFinite(count) ? count : null,
        ),
      );
      return result.affected ?? 0;
    });
  }

  /** `null` on PostgreSQL and MySQL/MariaDB; on SQLite, why cluster mode cannot use it. */
  clusterUnsupportedReason(): string | null {
    return this.cluster.clusterUnsupportedReason();
  }

  /** The database's clock, epoch milliseconds. */
  clusterNow(): Promise<number> {
    return this.cluster.clusterNow();
  }

  /** Inserts the lease; `InvalidArgumentError` when `leaseId` is taken. */
  acquireLease(leaseId: string, instanceId: string, ttlMs: number): Promise<void> {
    return this.cluster.acquireLease(leaseId, instanceId, ttlMs);
  }

  renewLease(leaseId: string, ttlMs: number): Promise<boolean> {
    return this.cluster.renewLease(leaseId, ttlMs);
  }

  releaseLease(leaseId: string): Promise<void> {
    return this.cluster.releaseLease(leaseId);
  }

  listLeases(): Promise<LeaseRecord[]> {
    return this.cluster.listLeases();
  }

  /** Deletes the expired leases, then selects the orphaned jobs (two statements). */
  findOrphanedJobs(): Promise<OrphanedJob[]> {
    return this.cluster.findOrphanedJobs();
  }

  /** One `SELECT id, version` of every job. */
  listJobVersions(): Promise<JobVersion[]> {
    return this.cluster.listJobVersions();
  }

  /** The jobs with these ids (PostgreSQL: one `= ANY($1)`; MySQL: `IN` lists of 1,000). */
  getJobsById(ids: readonly string[]): Promise<Job[]> {
    return this.cluster.getJobsById(ids);
  }

  /** One conditional `UPDATE` (a compare-and-set on `version`, the claim and the lease). */
  writeJobIf(job: Job, condition: JobWriteCondition): Promise<boolean> {
    return this.cluster.writeJobIf(job, condition);
  }

  /** One `INSERT ... SELECT ... WHERE EXISTS` (the claim); a recorded fire as `createRun` says it. */
  createClaimedRun(run: Run, claimedBy: string): Promise<boolean> {
    return this.cluster.createClaimedRun(run, claimedBy);
  }

  /** One `UPDATE ... WHERE status = 'running'` of the run's end fields. */
  finishRun(run: Run): Promise<boolean> {
    return this.cluster.finishRun(run);
  }

  /** Marks the storage closed; the DataSource is the app's and stays open. Idempotent. */
  override async close(): Promise<void> {
    this.session.close();
    this.transactional.close();
  }

  /** Runs `SELECT 1`. */
  override async ping(): Promise<void> {
    await this.session.use((sql) => this.session.exec(sql.ping()));
  }
}
