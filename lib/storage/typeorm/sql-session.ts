import type { DataSource, QueryRunner } from 'typeorm';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { StorageClosedError } from '../../errors/storage-closed.error.js';
import { ClusterSql, SQLITE_CLUSTER_REASON } from './cluster-sql.js';
import type { DbRow } from './job-row-codec.js';
import { JobSql } from './job-sql.js';
import type { Statement } from './sql-params.js';
import { ensureJobTables } from './job-tables.js';
import { guardPgClientErrors } from './pg-client-error-guard.js';
import type { SqlDialect } from './typeorm-dialect.js';

/** What `QueryRunner.query(sql, params, true)` resolves to (TypeORM's `QueryResult`). */
export interface QueryResultLike {
  records?: unknown[];
  affected?: number;
}

/**
 * How `TypeOrmStorage` talks to its database: the app's DataSource (checked, and the tables made,
 * on first use), one query runner per statement or transaction, and on SQLite one call at a time
 * (one connection for everything). The statements themselves come from `JobSql` and `ClusterSql`.
 */
export class SqlSession {
  private sqlCache?: JobSql;
  private clusterSqlCache?: ClusterSql;
  private ready?: Promise<void>;
  private closed = false;
  /** SQLite: one connection for everything, so this storage's work is run one call at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The app's DataSource. */
    readonly dataSource: DataSource,
    readonly dialect: SqlDialect,
    private readonly tables: { jobTable: string; runTable: string; leaseTable: string },
    private readonly schema: string | undefined,
    private readonly createTables: boolean,
  ) {}

  /**
   * Checks the DataSource and creates the tables if needed (once; later calls return the same
   * promise, a failure is retried by the next call).
   */
  initialize(): Promise<void> {
    this.assertOpen();
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Marks the storage closed: later calls fail with `StorageClosedError`. */
  close(): void {
    this.closed = true;
  }

  /** Checks that the storage is open, initialises it, then runs `work` (one at a time on SQLite). */
  async use<T>(work: (sql: JobSql) => Promise<T>): Promise<T> {
    this.assertOpen();
    await this.initialize();
    this.assertOpen();
    const sql = this.sqlCache as JobSql;
    if (this.dialect !== 'sqlite') return work(sql);
    const result = this.queue.then(() => work(sql));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The statements, once the storage is initialised, for work outside this session's connections
   * (a write through the app's transaction), so outside the SQLite queue too.
   */
  async statements(): Promise<JobSql> {
    this.assertOpen();
    await this.initialize();
    return this.sqlCache as JobSql;
  }

  /** `use()` for the `ClusterStorage` methods: refused on SQLite, whatever the storage's state. */
  async useCluster<T>(work: (sql: ClusterSql, jobs: JobSql) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') {
      throw new InvalidOptionsError(
        'dataSource',
        'a better-sqlite3 DataSource',
        `a PostgreSQL, MySQL or MariaDB DataSource for cluster mode (${SQLITE_CLUSTER_REASON})`,
      );
    }
    return this.use((jobs) => work(this.clusterSqlCache as ClusterSql, jobs));
  }

  async exec(statement: Statement, runner?: QueryRunner): Promise<QueryResultLike> {
    if (runner)
      return (await runner.query(statement.sql, statement.params, true)) as QueryResultLike;
    const own = this.dataSource.createQueryRunner();
    try {
      return (await own.query(statement.sql, statement.params, true)) as QueryResultLike;
    } finally {
      await own.release();
    }
  }

  async rows(statement: Statement): Promise<DbRow[]> {
    return ((await this.exec(statement)).records ?? []) as DbRow[];
  }

  async exists(statement: Statement): Promise<boolean> {
    return (await this.rows(statement)).length > 0;
  }

  async transaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
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
  async inTransactionIfMany(
    chunks: unknown[][][],
    write: (chunk: unknown[][], runner?: QueryRunner) => Promise<unknown>,
  ): Promise<void> {
    if (chunks.length === 1) {
      await write(chunks[0]!);
      return;
    }
    await this.transaction(async (runner) => {
      for (const chunk of chunks) await write(chunk, runner);
    });
  }

  /** Whether a failed statement broke a unique key (a primary key included). */
  isUniqueViolation(error: unknown): boolean {
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

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError('TypeOrmStorage');
  }

  private async setUp(): Promise<void> {
    const { dataSource, dialect, schema, tables } = this;
    if (!dataSource.isInitialized) {
      throw new InvalidOptionsError(
        'dataSource',
        `a ${dataSource.options.type} DataSource that is not initialized`,
        'an initialized DataSource: call dataSource.initialize() before using TypeOrmStorage (with @nestjs/typeorm, inject the DataSource it provides, which is initialized)',
      );
    }
    guardPgClientErrors(dataSource);
    const escape = (name: string): string => dataSource.driver.escape(name);
    this.sqlCache ??= new JobSql(dialect, escape, tables.jobTable, tables.runTable, schema);
    if (dialect !== 'sqlite')
      this.clusterSqlCache ??= new ClusterSql(dialect, escape, tables, schema);
    if (!this.createTables) return;
    const runner = dataSource.createQueryRunner();
    try {
      await ensureJobTables(runner, tables, dialect, schema);
    } finally {
      await runner.release();
    }
  }
}
