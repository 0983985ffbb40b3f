import type { DataSource, QueryRunner } from 'typeorm';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import { RunAlreadyRecordedError } from '../../errors/run-already-recorded.error.js';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import { StorageClosedError } from '../../errors/storage-closed.error.js';
import type { Job, JobStatus } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { checkJobWriteCondition, checkLeaseId, checkTtl } from '../cluster-arguments.js';
import type {
  ClusterStorage,
  JobVersion,
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
} from '../../interfaces/cluster-storage.js';
import {
  JobStorage,
  type BatchStorage,
  type PrunableStorage,
  type RunPruneCriteria,
} from '../../interfaces/job-storage.js';
import { ClusterSql, SQLITE_CLUSTER_REASON, toLeaseRecord, toOrphanedJob } from './cluster-sql.js';
import { JobRowCodec, type DbRow } from './job-row-codec.js';
import {
  JOB_WRITE_COLUMNS,
  JobSql,
  MAX_IDS_PER_STATEMENT,
  RUN_WRITE_COLUMNS,
  type Statement,
} from './job-sql.js';
import { resolveJobTableNames } from './job-table-names.js';
import { ensureJobTables } from './job-tables.js';
import { guardPgClientErrors } from './pg-client-error-guard.js';
import { dialectOf, SUPPORTED_DATA_SOURCE_TYPES_TEXT, type SqlDialect } from './typeorm-dialect.js';
import type { TypeOrmStorageOptions } from './typeorm-storage-options.interface.js';

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'tablePrefix',
  'jobTableName',
  'runTableName',
  'leaseTableName',
  'createTables',
]);

/** What `QueryRunner.query(sql, params, true)` resolves to (TypeORM's `QueryResult`). */
interface QueryResultLike {
  records?: unknown[];
  affected?: number;
}

/**
 * Jobs and run history in SQL tables, on an app's TypeORM `DataSource` (PostgreSQL, MySQL/MariaDB or
 * SQLite through better-sqlite3): the seed's GORM storage.
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
  implements BatchStorage, PrunableStorage, ClusterStorage
{
  /** The jobs table's name. */
  readonly jobTableName: string;
  /** The run history table's name. */
  readonly runTableName: string;
  /** The lease table's name (cluster mode). */
  readonly leaseTableName: string;
  /** The SQL dialect of the DataSource. */
  readonly dialect: SqlDialect;

  private readonly dataSource: DataSource;
  private readonly createTables: boolean;
  private readonly schema: string | undefined;
  private readonly codec: JobRowCodec;
  private sqlCache?: JobSql;
  private clusterSqlCache?: ClusterSql;
  private ready?: Promise<void>;
  private closed = false;
  /** SQLite: one connection for everything, so this storage's work is run one call at a time. */
  private queue: Promise<unknown> = Promise.resolve();

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
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidOptionsError(
        'options',
        options,
        'an object with tablePrefix, jobTableName, runTableName, leaseTableName and/or createTables',
      );
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new InvalidOptionsError(
          key,
          (options as Record<string, unknown>)[key],
          `no such option of TypeOrmStorage (known: ${[...OPTION_KEYS].join(', ')})`,
        );
      }
    }
    const createTables = options.createTables ?? true;
    if (typeof createTables !== 'boolean') {
      throw new InvalidOptionsError('createTables', options.createTables, 'true or false');
    }
    const names = resolveJobTableNames(options, dialect);
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.jobTableName = names.jobTable;
    this.runTableName = names.runTable;
    this.leaseTableName = names.leaseTable;
    this.createTables = createTables;
    const schema =
      dialect === 'postgres' ? (dataSource.options as { schema?: unknown }).schema : undefined;
    this.schema = typeof schema === 'string' && schema !== '' ? schema : undefined;
    this.codec = new JobRowCodec(dialect);
  }

  /**
   * Checks the DataSource and creates the tables if needed (once; later calls return the same
   * promise, a failure is retried by the next call). Every method awaits it first.
   */
  initialize(): Promise<void> {
    this.assertOpen();
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  override async createJob(job: Job): Promise<void> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    await this.use(async (sql) => {
      try {
        await this.exec(sql.insertJob(values));
      } catch (error) {
        if (this.isUniqueViolation(error)) throw new JobAlreadyExistsError(job.id);
        throw error;
      }
    });
  }

  override async getJob(id: string): Promise<Job | null> {
    return this.use(async (sql) => {
      const [row] = await this.rows(sql.getJob(id));
      return row ? this.codec.toJob(row) : null;
    });
  }

  override async updateJob(job: Job): Promise<void> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    await this.use(async (sql) => {
      const result = await this.exec(sql.updateJob(values));
      if (result.affected === 0 && !(await this.exists(sql.jobExists(job.id)))) {
        throw new JobNotFoundError(job.id);
      }
    });
  }

  override async deleteJob(id: string): Promise<void> {
    await this.use(async (sql) => {
      const deleted = await this.transaction(async (runner) => {
        const result = await this.exec(sql.deleteJob(id), runner);
        if (result.affected === 0) return false;
        await this.exec(sql.deleteRunsOfJob(id), runner);
        return true;
      });
      if (!deleted) throw new JobNotFoundError(id);
    });
  }

  override async listJobs(status?: JobStatus): Promise<Job[]> {
    return this.use(async (sql) => {
      const rows = await this.rows(sql.listJobs(status));
      return rows.map((row) => this.codec.toJob(row));
    });
  }

  /**
   * Stores a run (replacing the one with its id, if any, in place). `JobNotFoundError` when its job
   * does not exist; `RunAlreadyRecordedError` when another run already records its fire.
   */
  override async createRun(run: Run): Promise<void> {
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS)];
    await this.use(async (sql) => {
      const result = await this.exec(sql.upsertRuns([row]));
      if (result.affected !== 0) return;
      if (!(await this.exists(sql.jobExists(run.jobId)))) throw new JobNotFoundError(run.jobId);
      // MySQL without FOUND_ROWS reports an unchanged row as 0 affected: the run is there.
      if (await this.exists(sql.runExists(run.id))) return;
      throw new RunAlreadyRecordedError(run.jobId, run.scheduledAt, run.attempt);
    });
  }

  /** Writes a run: inserted when absent, updated in place otherwise, ignored when its job is gone. */
  override async updateRun(run: Run): Promise<void> {
    const row = [0, ...this.codec.runValues(run, RUN_WRITE_COLUMNS)];
    await this.use((sql) => this.exec(sql.upsertRuns([row])));
  }

  override async getRuns(jobId: string, limit: number): Promise<Run[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) {
      await this.use(async () => undefined);
      return [];
    }
    return this.use(async (sql) => {
      const rows = await this.rows(sql.getRuns(jobId, count > 1_000_000_000 ? null : count));
      return rows.map((row) => this.codec.toRun(row));
    });
  }

  override async getJobRunCount(jobId: string): Promise<number> {
    return this.use(async (sql) => {
      const [row] = await this.rows(sql.countRuns(jobId));
      return Number(row?.count ?? 0);
    });
  }

  /**
   * Replaces each job that still exists (one `UPDATE` per chunk, never an insert); jobs unknown or
   * deleted meanwhile are skipped. A job given twice is written as its last copy.
   */
  async batchUpdateJobs(jobs: Job[]): Promise<void> {
    const byId = new Map<string, unknown[]>();
    for (const job of jobs) byId.set(job.id, this.codec.jobValues(job, JOB_WRITE_COLUMNS));
    await this.use(async (sql) => {
      if (byId.size === 0) return;
      const chunks = sql.chunk([...byId.values()], JOB_WRITE_COLUMNS.length);
      await this.inTransactionIfMany(chunks, (chunk, runner) =>
        this.exec(sql.updateJobs(chunk), runner),
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
    await this.use(async (sql) => {
      if (byId.size === 0) return;
      const rows = [...byId.values()].map((values, i) => [i, ...values]);
      const chunks = sql.chunk(rows, RUN_WRITE_COLUMNS.length + 1);
      await this.inTransactionIfMany(chunks, (chunk, runner) =>
        this.exec(sql.upsertRuns(chunk), runner),
      );
    });
  }

  /**
   * Deletes at most `limit` finished runs (never `running` ones), oldest first: those beyond the
   * newest `maxRunsPerJob` of their job, and those started before `olderThan` (either rule removes a
   * run). One statement; nothing is loaded into memory. Resolves to how many were deleted.
   */
  async pruneRuns(criteria: RunPruneCriteria): Promise<number> {
    if (typeof criteria !== 'object' || criteria === null) {
      throw new InvalidArgumentError('criteria', criteria, 'an object with limit');
    }
    const { maxRunsPerJob, olderThan, limit } = criteria;
    if (
      maxRunsPerJob !== undefined &&
      (typeof maxRunsPerJob !== 'number' ||
        !Number.isSafeInteger(maxRunsPerJob) ||
        maxRunsPerJob < 0)
    ) {
      throw new InvalidArgumentError('maxRunsPerJob', maxRunsPerJob, 'an integer >= 0');
    }
    if (
      olderThan !== undefined &&
      (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime()))
    ) {
      throw new InvalidArgumentError('olderThan', olderThan, 'a valid Date');
    }
    if (typeof limit !== 'number' || Number.isNaN(limit)) {
      throw new InvalidArgumentError('limit', limit, 'a number (at most this many runs go)');
    }
    const count = Math.floor(limit);
    return this.use(async (sql) => {
      if (count <= 0 || (maxRunsPerJob === undefined && olderThan === undefined)) return 0;
      const result = await this.exec(
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
    return this.useCluster(async (sql) => Number((await this.rows(sql.clusterNow()))[0]?.now));
  }

  /** Inserts the lease; `InvalidArgumentError` when `leaseId` is taken. */
  async acquireLease(leaseId: string, instanceId: string, ttlMs: number): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    const instance = checkLeaseId('instanceId', instanceId);
    const ttl = checkTtl(ttlMs);
    await this.useCluster(async (sql) => {
      try {
        await this.exec(sql.acquireLease(id, instance, ttl));
      } catch (error) {
        if (!this.isUniqueViolation(error)) throw error;
        throw new InvalidArgumentError('leaseId', leaseId, 'a lease id that is not taken');
      }
    });
  }

  async renewLease(leaseId: string, ttlMs: number): Promise<boolean> {
    const id = checkLeaseId('leaseId', leaseId);
    const ttl = checkTtl(ttlMs);
    return this.useCluster(
      async (sql) => (await this.exec(sql.renewLease(id, ttl))).affected === 1,
    );
  }

  async releaseLease(leaseId: string): Promise<void> {
    const id = checkLeaseId('leaseId', leaseId);
    await this.useCluster((sql) => this.exec(sql.releaseLease(id)));
  }

  async listLeases(): Promise<LeaseRecord[]> {
    return this.useCluster(async (sql) => (await this.rows(sql.listLeases())).map(toLeaseRecord));
  }

  /** Deletes the expired leases, then selects the orphaned jobs (two statements). */
  async findOrphanedJobs(): Promise<OrphanedJob[]> {
    return this.useCluster(async (sql) => {
      await this.exec(sql.deleteExpiredLeases());
      return (await this.rows(sql.orphanedJobs())).map(toOrphanedJob);
    });
  }

  /** One `SELECT id, version` of every job. */
  async listJobVersions(): Promise<JobVersion[]> {
    return this.useCluster(async () => {
      const rows = await this.rows((this.sqlCache as JobSql).listJobVersions());
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
    return this.useCluster(async () => {
      const sql = this.sqlCache as JobSql;
      const jobs: Job[] = [];
      const size = this.dialect === 'postgres' ? distinct.length : MAX_IDS_PER_STATEMENT;
      for (let from = 0; from < distinct.length; from += size) {
        const rows = await this.rows(sql.getJobsById(distinct.slice(from, from + size)));
        for (const row of rows) jobs.push(this.codec.toJob(row));
      }
      return jobs;
    });
  }

  /** One conditional `UPDATE` (a compare-and-set on `version`, the claim and the lease). */
  async writeJobIf(job: Job, condition: JobWriteCondition): Promise<boolean> {
    const values = this.codec.jobValues(job, JOB_WRITE_COLUMNS);
    const checked = checkJobWriteCondition(condition);
    return this.useCluster(
      async (sql) => (await this.exec(sql.writeJobIf(values, checked))).affected === 1,
    );
  }

  /** One `INSERT ... SELECT ... WHERE EXISTS` (the claim); a recorded fire as `createRun` says it. */
  async createClaimedRun(run: Run, claimedBy: string): Promise<boolean> {
    const values = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    const lease = checkLeaseId('claimedBy', claimedBy);
    return this.useCluster(async (sql) => {
      try {
        return (await this.exec(sql.insertClaimedRun(values, run.jobId, lease))).affected === 1;
      } catch (error) {
        if (!this.isUniqueViolation(error)) throw error;
        throw new RunAlreadyRecordedError(run.jobId, run.scheduledAt, run.attempt);
      }
    });
  }

  /** One `UPDATE ... WHERE status = 'running'` of the run's end fields. */
  async finishRun(run: Run): Promise<boolean> {
    const values = this.codec.runValues(run, RUN_WRITE_COLUMNS);
    return this.useCluster(async (sql) => (await this.exec(sql.finishRun(values))).affected === 1);
  }

  /** Marks the storage closed; the DataSource is the app's and stays open. Idempotent. */
  override async close(): Promise<void> {
    this.closed = true;
  }

  /** Runs `SELECT 1`. */
  override async ping(): Promise<void> {
    await this.use((sql) => this.exec(sql.ping()));
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError('TypeOrmStorage');
  }

  private async setUp(): Promise<void> {
    if (!this.dataSource.isInitialized) {
      throw new InvalidOptionsError(
        'dataSource',
        `a ${this.dataSource.options.type} DataSource that is not initialized`,
        'an initialized DataSource: call dataSource.initialize() before using TypeOrmStorage (with @nestjs/typeorm, inject the DataSource it provides, which is initialized)',
      );
    }
    guardPgClientErrors(this.dataSource);
    this.sqlCache ??= new JobSql(
      this.dialect,
      (name) => this.dataSource.driver.escape(name),
      this.jobTableName,
      this.runTableName,
      this.schema,
    );
    const tables = {
      jobTable: this.jobTableName,
      runTable: this.runTableName,
      leaseTable: this.leaseTableName,
    };
    if (this.dialect !== 'sqlite') {
      this.clusterSqlCache ??= new ClusterSql(
        this.dialect,
        (name) => this.dataSource.driver.escape(name),
        tables,
        this.schema,
      );
    }
    if (!this.createTables) return;
    const runner = this.dataSource.createQueryRunner();
    try {
      await ensureJobTables(runner, tables, this.dialect, this.schema);
    } finally {
      await runner.release();
    }
  }

  /** Checks that the storage is open, initialises it, then runs `work` (one at a time on SQLite). */
  private async use<T>(work: (sql: JobSql) => Promise<T>): Promise<T> {
    this.assertOpen();
    await this.initialize();
    this.assertOpen();
    const sql = this.sqlCache as JobSql;
    if (this.dialect !== 'sqlite') return work(sql);
    const result = this.queue.then(() => work(sql));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** `use()` for the `ClusterStorage` methods: refused on SQLite, whatever the storage's state. */
  private async useCluster<T>(work: (sql: ClusterSql) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') {
      throw new InvalidOptionsError(
        'dataSource',
        'a better-sqlite3 DataSource',
        `a PostgreSQL, MySQL or MariaDB DataSource for cluster mode (${SQLITE_CLUSTER_REASON})`,
      );
    }
    return this.use(() => work(this.clusterSqlCache as ClusterSql));
  }

  private async exec(statement: Statement, runner?: QueryRunner): Promise<QueryResultLike> {
    if (runner)
      return (await runner.query(statement.sql, statement.params, true)) as QueryResultLike;
    const own = this.dataSource.createQueryRunner();
    try {
      return (await own.query(statement.sql, statement.params, true)) as QueryResultLike;
    } finally {
      await own.release();
    }
  }

  private async rows(statement: Statement): Promise<DbRow[]> {
    return ((await this.exec(statement)).records ?? []) as DbRow[];
  }

  private async exists(statement: Statement): Promise<boolean> {
    return (await this.rows(statement)).length > 0;
  }

  private async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      let result: T;
      try {
        result = await work(runner);
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
      await runner.commitTransaction();
      return result;
    } finally {
      await runner.release();
    }
  }

  /** One chunk: one statement, atomic by itself. Several: one transaction. */
  private async inTransactionIfMany(
    chunks: unknown[][][],
    write: (chunk: unknown[][], runner?: QueryRunner) => Promise<unknown>,
  ): Promise<void> {
    if (chunks.length === 1) {
      await write(chunks[0]);
      return;
    }
    await this.transaction(async (runner) => {
      for (const chunk of chunks) await write(chunk, runner);
    });
  }

  private isUniqueViolation(error: unknown): boolean {
    const driverError = (error as { driverError?: { code?: unknown; errno?: unknown } })
      ?.driverError;
    const code = driverError?.code;
    switch (this.dialect) {
      case 'postgres':
        return code === '23505';
      case 'mysql':
        return code === 'ER_DUP_ENTRY' || driverError?.errno === 1062;
      case 'sqlite':
        return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
    }
  }
}
