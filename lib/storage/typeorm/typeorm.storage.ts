import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
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
import { checkJobWriteCondition, checkLeaseId, checkTtl } from '../cluster-arguments.js';
import { checkPruneCriteria } from '../prune-arguments.js';
import type {
  ClusterStorage,
  JobVersion,
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
  RunEndOutcome,
} from '../../interfaces/cluster-storage.js';
import {
  JobStorage,
  type BatchStorage,
  type PrunableStorage,
  type RunPruneCriteria,
  type TransactionalJobStorage,
} from '../../interfaces/job-storage.js';
import {
  finishRunAndWriteJob,
  SQLITE_CLUSTER_REASON,
  toLeaseRecord,
  toOrphanedJob,
} from './cluster-sql.js';
import {
  checkJobQuery,
  checkRunId,
  checkRunQuery,
  checkRunStatsQuery,
} from '../history/history-arguments.js';
import { jobPage, runPage, statsBuckets } from '../history/history-pages.js';
import { HistorySql } from './history-sql.js';
import { JobRowCodec } from './job-row-codec.js';
import {
  JOB_WRITE_COLUMNS,
  MAX_IDS_PER_STATEMENT,
  RUN_WRITE_COLUMNS,
  type JobSql,
} from './job-sql.js';
import { resolveJobTableNames } from './job-table-names.js';
import { SqlSession, type QueryResultLike } from './sql-session.js';
import { TransactionWatch } from './transaction-watch.js';
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
 *   parameter limit and 4 MiB of text; PostgreSQL binds one array per column (`unnest`), so a batch
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
  private historySql?: HistorySql;
  private readonly transactions = new TransactionWatch();

  /**
   * `ClusterStorage.finishRunAndWriteJob`: defined on PostgreSQL only (one statement of two
   * data-modifying CTEs); elsewhere a cluster ends a run in two statements.
   */
  declare readonly finishRunAndWriteJob?: (
    run: Run,
    job: Job,
    condition: JobWriteCondition,
  ) => Promise<RunEndOutcome>;

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
    if (dialect === 'postgres') {
      const finishAndWrite = (run: Run, job: Job, condition: JobWriteCondition) =>
        this.finishRunAndWrite(run, job, condition);
      Object.assign(this, { finishRunAndWriteJob: finishAndWrite });
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
   * open transaction, so the job exists only if that transaction commits. `committed` then tells the
   * outcome: the manager's query runner is looked at every 100 ms (no query while the transaction is
   * open), and once it is out of the transaction the job is read back. A manager outside any
   * transaction writes at once. `InvalidOptionsError` for a manager of another DataSource.
   */
  async createJobInTransaction(
    job: Job,
    manager: object,
  ): Promise<{ committed: Promise<boolean> }> {
    const runner = this.transactionRunner(manager);
    if (runner === null) {
      await this.createJob(job);
      return { committed: Promise.resolve(true) };
    }
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    // Not through the session's queue: the write belongs to the app's connection and transaction.
    const sql = await this.session.statements();
    let result: QueryResultLike;
    try {
      const statement = sql.insertJobInTransaction(values);
      result = (await runner.query(statement.sql, statement.params, true)) as QueryResultLike;
    } catch (error) {
      if (this.session.isUniqueViolation(error)) throw new JobAlreadyExistsError(job.id);
      throw error;
    }
    if (result.affected === 0) throw new JobAlreadyExistsError(job.id);
    const committed = this.transactions.watch(
      runner,
      async () => (await this.getJob(job.id)) !== null,
    );
    return { committed };
  }

  /** The query runner of the manager's open transaction; `null` outside a transaction. */
  private transactionRunner(manager: object): QueryRunner | null {
    const given = manager as Partial<EntityManager> | null;
    const expected =
      'an EntityManager of the DataSource this TypeOrmStorage uses (e.g. the manager of dataSource.transaction(async (manager) => ...))';
    if (typeof given !== 'object' || given === null || typeof given.query !== 'function') {
      throw new InvalidOptionsError('manager', manager, expected);
    }
    if (
      (given.connection ?? (given as { dataSource?: unknown }).dataSource) !==
      this.session.dataSource
    ) {
      throw new InvalidOptionsError('manager', 'an EntityManager of another DataSource', expected);
    }
    const runner = given.queryRunner;
    return runner !== undefined && runner.isTransactionActive && !runner.isReleased ? runner : null;
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
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS)];
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
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS)];
    await this.session.use((sql) => this.session.exec(sql.upsertRuns([row])));
  }

  /**
   * A run's end and its job: on PostgreSQL one statement (the run's upsert as a data-modifying CTE,
   * then the job's update), elsewhere the two writes in turn. `JobNotFoundError` when the job is
   * gone (the run is then not written either).
   */
  override async recordRunEnd(run: Run, job: Job | null): Promise<void> {
    if (job === null || this.dialect !== 'postgres') return super.recordRunEnd(run, job);
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS)];
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
  override async findJobs(query?: JobQuery): Promise<Page<Job>> {
    const q = checkJobQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.history(sql).findJobs(q));
      return jobPage(
        rows.map((row) => this.codec.toJob(row)),
        q,
      );
    });
  }

  /** One keyset `SELECT` (`limit + 1` rows, newest first by `(start_at, id)`). */
  override async findRuns(query?: RunQuery): Promise<Page<Run>> {
    const q = checkRunQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.history(sql).findRuns(q));
      return runPage(
        rows.map((row) => this.codec.toRun(row)),
        q,
      );
    });
  }

  override async getRun(runId: string): Promise<Run | null> {
    const id = checkRunId(runId);
    return this.session.use(async (sql) => {
      const [row] = await this.session.rows(this.history(sql).getRun(id));
      return row ? this.codec.toRun(row) : null;
    });
  }

  /** One `SELECT ... GROUP BY` over the runs' `(start_at, id)` index range. */
  override async runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    const q = checkRunStatsQuery(query);
    return this.session.use(async (sql) => {
      const rows = await this.session.rows(this.history(sql).runStats(q));
      return statsBuckets(
        q,
        rows.map((row) => ({
          bucket: Number(row.bucket),
          succeeded: Number(row.succeeded),
          failed: Number(row.failed),
          avgDurationMs: row.avg_ms === null ? null : Number(row.avg_ms),
          maxDurationMs: row.max_ms === null ? null : Number(row.max_ms),
        })),
      );
    });
  }

  private history(sql: JobSql): HistorySql {
    this.historySql ??= new HistorySql(sql, (ms) => this.codec.encodeInstant(new Date(ms)));
    return this.historySql;
  }

  /**
   * Replaces each job that still exists (one `UPDATE` per chunk, never an insert); jobs unknown or
   * deleted meanwhile are skipped. A job given twice is written as its last copy.
   */
  async batchUpdateJobs(jobs: Job[]): Promise<void> {
    const byId = new Map<string, unknown[]>();
    for (const job of jobs) byId.set(job.id, this.codec.jobValues(job, JOB_WRITE_COLUMNS));
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
    for (const run of runs) byId.set(run.id, this.codec.runValues(run, RUN_WRITE_COLUMNS));
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
    return this.session.useCluster(
      async (sql) => (await this.session.exec(sql.writeJobIf(values, checked))).affected === 1,
    );
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

  private async finishRunAndWrite(
    run: Run,
    job: Job,
    condition: JobWriteCondition,
  ): Promise<RunEndOutcome> {
    const runValues = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    const jobValues = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    const checked = checkJobWriteCondition(condition);
    return this.session.useCluster(async (sql) => {
      const [row] = await this.session.rows(
        finishRunAndWriteJob(sql, runValues, jobValues, checked),
      );
      return { finished: Number(row?.finished) === 1, released: Number(row?.released) === 1 };
    });
  }

  /** Marks the storage closed; the DataSource is the app's and stays open. Idempotent. */
  override async close(): Promise<void> {
    this.session.close();
    this.transactions.close();
  }

  /** Runs `SELECT 1`. */
  override async ping(): Promise<void> {
    await this.session.use((sql) => this.session.exec(sql.ping()));
  }
}
