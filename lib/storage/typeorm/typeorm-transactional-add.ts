import type { EntityManager, QueryRunner } from 'typeorm';
import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { JobRowCodec } from './job-row-codec.js';
import { JOB_WRITE_COLUMNS } from './job-sql.js';
import type { QueryResultLike, SqlSession } from './sql-session.js';
import { TransactionWatch } from './transaction-watch.js';

const EXPECTED_MANAGER =
  'an EntityManager of the DataSource this TypeOrmStorage uses (e.g. the manager of dataSource.transaction(async (manager) => ...))';

/**
 * `TypeOrmStorage.createJobInTransaction`: the job written through the app's `EntityManager`,
 * inside its open transaction, then the transaction watched (`TransactionWatch`) until it ends.
 */
export class TypeOrmTransactionalAdd {
  private readonly transactions = new TransactionWatch();

  constructor(
    private readonly session: SqlSession,
    private readonly codec: JobRowCodec,
    /** The storage's own writes and reads, for a manager outside a transaction and the outcome. */
    private readonly storage: {
      createJob(job: Job): Promise<void>;
      getJob(id: string): Promise<Job | null>;
    },
  ) {}

  async createJobInTransaction(
    job: Job,
    manager: object,
  ): Promise<{ committed: Promise<boolean> }> {
    const runner = this.transactionRunner(manager);
    if (runner === null) {
      await this.storage.createJob(job);
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
      async () => (await this.storage.getJob(job.id)) !== null,
    );
    return { committed };
  }

  /** Ends every watch (the storage closed). */
  close(): void {
    this.transactions.close();
  }

  /** The query runner of the manager's open transaction; `null` outside a transaction. */
  private transactionRunner(manager: object): QueryRunner | null {
    const given = manager as Partial<EntityManager> | null;
    if (typeof given !== 'object' || given === null || typeof given.query !== 'function') {
      throw new InvalidOptionsError('manager', manager, EXPECTED_MANAGER);
    }
    const dataSource = given.connection ?? (given as { dataSource?: unknown }).dataSource;
    if (dataSource !== this.session.dataSource) {
      throw new InvalidOptionsError(
        'manager',
        'an EntityManager of another DataSource',
        EXPECTED_MANAGER,
      );
    }
    const runner = given.queryRunner;
    return runner !== undefined && runner.isTransactionActive && !runner.isReleased ? runner : null;
  }
}
