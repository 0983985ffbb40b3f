import { vitestApi } from '../../../utils/vitest-api.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  TableIndex,
  type DataSource,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import { InvalidArgumentError } from '../../../../lib/errors/invalid-argument.error.js';
import { RunAlreadyRecordedError } from '../../../../lib/errors/run-already-recorded.error.js';
import { InvalidJobError } from '../../../../lib/errors/invalid-job.error.js';
import type { Run } from '../../../../lib/interfaces/run.interface.js';
import { isPrunableStorage, type JobStorage } from '../../../../lib/interfaces/job-storage.js';
import {
  createJobSchedulerEntitySchemas,
  addJobHistoryIndexesMigration,
  addJobRunPolicyColumnsMigration,
  createJobTablesMigration,
  TYPEORM_MAX_PAYLOAD_BYTES,
  TypeOrmStorage,
  type TypeOrmStorageOptions,
} from '../../../../lib/storage/typeorm/index.js';
import {
  JobSql,
  JOB_WRITE_COLUMNS,
  MAX_STATEMENT_TEXT_BYTES,
  RUN_WRITE_COLUMNS,
} from '../../../../lib/storage/typeorm/job-sql.js';
import { MAX_PARAMETERS } from '../../../../lib/storage/typeorm/typeorm-dialect.js';
import { HistorySql } from '../../../../lib/storage/typeorm/history-sql.js';
import { JobRowCodec } from '../../../../lib/storage/typeorm/job-row-codec.js';
import { checkRunQuery } from '../../../../lib/storage/history/history-arguments.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  QueryRecorder,
  removeSqliteFiles,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../../utils/databases.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';
import { describeStorageConformance } from '../../../../lib/testing/index.js';

const DATE_2040 = new Date('2040-02-29T23:59:59.999Z');

/**
 * Runs the `JobStorage` conformance suite and the TypeORM-specific tests against one database. Each
 * test works on tables of its own (a unique prefix), dropped afterwards.
 */
export async function describeTypeOrmStorage(
  database: TestDatabase,
  { conformanceOnly = false }: { conformanceOnly?: boolean } = {},
): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(database, reason, `TypeOrmStorage on ${database.label}`, () => {
    let dataSource: DataSource;
    const recorder = new QueryRecorder();
    /** Tables made by the current test, dropped after it. */
    let tables: string[] = [];

    beforeAll(async () => {
      dataSource = await createTestDataSource(database, { logger: recorder });
    });

    afterAll(async () => {
      if (dataSource?.isInitialized) await dataSource.destroy();
      removeSqliteFiles();
    });

    afterEach(async () => {
      await dropTables(dataSource, tables.splice(0));
    });

    const escape = (name: string): string => dataSource.driver.escape(name);

    /**
     * The plan of a statement, as text (a sort of the rows shows as `Sort`, `filesort`, `TEMP
     * B-TREE`). `noSort`: on PostgreSQL, sorting costs more than any index (tiny tables would be
     * sorted whatever the index).
     */
    const planOf = async (
      dialect: TypeOrmStorage['dialect'],
      statement: { sql: string; params: unknown[] },
      { noSort = false }: { noSort?: boolean } = {},
    ): Promise<string> => {
      const runner = dataSource.createQueryRunner();
      const sortOff = noSort && dialect === 'postgres';
      try {
        if (sortOff) await runner.query('SET enable_sort = off');
        const explain = dialect === 'sqlite' ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN';
        const rows = (await runner.query(
          `${explain} ${statement.sql}`,
          statement.params,
        )) as Record<string, unknown>[];
        return JSON.stringify(rows);
      } finally {
        if (sortOff) await runner.query('RESET enable_sort');
        await runner.release();
      }
    };

    /** A storage on fresh tables (dropped after the test). */
    const freshStorage = async (
      options: TypeOrmStorageOptions = {},
      on: DataSource = dataSource,
    ): Promise<TypeOrmStorage> => {
      const storage = new TypeOrmStorage(on, { tablePrefix: uniqueTablePrefix(), ...options });
      tables.push(storage.runTableName, storage.jobTableName, storage.leaseTableName);
      await storage.initialize();
      return storage;
    };

    describeStorageConformance(
      vitestApi,
      database.label,
      async () => {
        const storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
        await storage.initialize();
        return storage;
      },
      async (storage: JobStorage) => {
        const typeorm = storage as TypeOrmStorage;
        await dropTables(dataSource, [
          typeorm.runTableName,
          typeorm.jobTableName,
          typeorm.leaseTableName,
        ]);
      },
    );

    if (conformanceOnly) return;

    describe('tables', () => {
      it('creates the three tables on first use, and nothing on a second storage over them', async () => {
        const prefix = uniqueTablePrefix();
        tables.push(`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`);
        const first = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        expect(first.jobTableName).toBe(`${prefix}jobs`);
        expect(first.runTableName).toBe(`${prefix}job_runs`);
        const runner = dataSource.createQueryRunner();
        try {
          expect(await runner.hasTable(`${prefix}jobs`)).toBe(false);
          await first.ping();
          expect(await runner.hasTable(`${prefix}jobs`)).toBe(true);
          expect(await runner.hasTable(`${prefix}job_runs`)).toBe(true);
          expect(await runner.hasTable(`${prefix}job_leases`)).toBe(true);
          const runTable = await runner.getTable(`${prefix}job_runs`);
          expect(runTable?.indices.map((index) => index.name).sort()).toStrictEqual(
            [
              `${prefix}job_runs_fire_key`,
              `${prefix}job_runs_id_key`,
              `${prefix}job_runs_job_start_idx`,
              `${prefix}job_runs_recent_idx`,
            ].sort(),
          );
          const jobTable = await runner.getTable(`${prefix}jobs`);
          expect(jobTable?.indices.map((index) => index.name).sort()).toStrictEqual(
            [
              `${prefix}jobs_claim_idx`,
              `${prefix}jobs_created_idx`,
              `${prefix}jobs_due_idx`,
              `${prefix}jobs_id_key`,
            ].sort(),
          );
        } finally {
          await runner.release();
        }

        recorder.reset();
        const second = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        await second.initialize();
        await second.initialize();
        expect(recorder.queries.filter((query) => /^\s*CREATE/i.test(query))).toStrictEqual([]);
        const job = makeJob();
        await first.createJob(job);
        expect(await second.getJob(job.id)).toStrictEqual(job);
      });

      it('survives several storages racing to create the same tables', async () => {
        const prefix = uniqueTablePrefix();
        tables.push(`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`);
        const storages = [1, 2, 3].map(
          () => new TypeOrmStorage(dataSource, { tablePrefix: prefix }),
        );
        await Promise.all(storages.map((storage) => storage.initialize()));
        const job = makeJob();
        await storages[0].createJob(job);
        expect(await storages[2].getJob(job.id)).toStrictEqual(job);
      });

      it('adds an index that is missing from an existing table', async () => {
        const storage = await freshStorage();
        const runner = dataSource.createQueryRunner();
        try {
          await runner.dropIndex(storage.jobTableName, `${storage.jobTableName}_due_idx`);
          const again = new TypeOrmStorage(dataSource, {
            jobTableName: storage.jobTableName,
            runTableName: storage.runTableName,
            leaseTableName: storage.leaseTableName,
          });
          await again.initialize();
          const table = await runner.getTable(storage.jobTableName);
          expect(table?.indices.map((index) => index.name)).toContain(
            `${storage.jobTableName}_due_idx`,
          );
        } finally {
          await runner.release();
        }
      });

      it('adds the run policy columns to a jobs table made without them; its rows read with the defaults', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const runner = dataSource.createQueryRunner();
        const policy = ['timeout_ms', 'retry_delay_ms', 'backoff', 'max_retry_delay_ms', 'jitter'];
        try {
          // The jobs table as an earlier version made it.
          for (const column of policy) await runner.dropColumn(storage.jobTableName, column);
          const again = new TypeOrmStorage(dataSource, {
            jobTableName: storage.jobTableName,
            runTableName: storage.runTableName,
            leaseTableName: storage.leaseTableName,
          });
          await again.initialize();
          const table = await runner.getTable(storage.jobTableName);
          for (const column of policy)
            expect(table?.findColumnByName(column)?.isNullable).toBe(true);
          expect(await again.getJob(job.id)).toStrictEqual(job);
          const changed = {
            ...job,
            timeout: 5_000,
            backoff: 'exponential' as const,
            jitter: 0.5,
            version: 1,
          };
          await again.updateJob(changed);
          expect(await again.getJob(job.id)).toStrictEqual(changed);
        } finally {
          await runner.release();
        }
      });

      it('uses custom table names as given, without the prefix', async () => {
        const prefix = uniqueTablePrefix();
        const jobTableName = `${prefix}custom_jobs`;
        const runTableName = `${prefix}custom_runs`;
        const leaseTableName = `${prefix}custom_leases`;
        const storage = await freshStorage({
          tablePrefix: 'ignored_',
          jobTableName,
          runTableName,
          leaseTableName,
        });
        expect(storage.jobTableName).toBe(jobTableName);
        expect(storage.runTableName).toBe(runTableName);
        expect(storage.leaseTableName).toBe(leaseTableName);
        const job = makeJob();
        await storage.createJob(job);
        const [row] = await dataSource.query(
          `SELECT COUNT(*) AS n FROM ${dataSource.driver.escape(jobTableName)}`,
        );
        expect(Number(row.n)).toBe(1);
        const runner = dataSource.createQueryRunner();
        try {
          expect(await runner.hasTable('ignored_jobs')).toBe(false);
          expect(await runner.hasTable('ignored_job_leases')).toBe(false);
        } finally {
          await runner.release();
        }
      });

      it('keeps storages with different prefixes apart on one DataSource', async () => {
        const a = await freshStorage();
        const b = await freshStorage();
        const job = makeJob();
        await a.createJob(job);
        expect(await b.getJob(job.id)).toBeNull();
        expect(await b.listJobs()).toStrictEqual([]);
      });

      it('creates nothing with createTables: false', async () => {
        const prefix = uniqueTablePrefix();
        tables.push(`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`);
        const storage = new TypeOrmStorage(dataSource, {
          tablePrefix: prefix,
          createTables: false,
        });
        await storage.initialize();
        await expect(storage.getJob('x')).rejects.toThrow();
        const runner = dataSource.createQueryRunner();
        try {
          expect(await runner.hasTable(`${prefix}jobs`)).toBe(false);
        } finally {
          await runner.release();
        }
      });
    });

    describe('migration and drift', () => {
      /** The SQL the schema builder would run to make the tables match the entity schemas. */
      const pendingSchemaChanges = async (prefix: string): Promise<string[]> => {
        const checker = await createTestDataSource(database, {
          ...sameDatabase(dataSource),
          entities: createJobSchedulerEntitySchemas({
            type: dataSource.options.type,
            tablePrefix: prefix,
          }),
        });
        try {
          const sql = await checker.driver.createSchemaBuilder().log();
          return sql.upQueries.map((query) => query.query);
        } finally {
          await checker.destroy();
        }
      };

      it('creates tables with the migration that match the entity schemas (no drift)', async () => {
        const prefix = uniqueTablePrefix();
        tables.push(`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`);
        const Migration = createJobTablesMigration({ tablePrefix: prefix });
        const migration: MigrationInterface = new Migration();
        expect(migration.name).toBe(
          `CreateJobSchedulerTables_${prefix}jobs_${prefix}job_runs_1767225600000`,
        );
        const runner = dataSource.createQueryRunner();
        try {
          await migration.up(runner);
          expect(await runner.hasTable(`${prefix}jobs`)).toBe(true);
          expect(await runner.hasTable(`${prefix}job_leases`)).toBe(true);
        } finally {
          await runner.release();
        }
        expect(await pendingSchemaChanges(prefix)).toStrictEqual([]);

        // The storage works on the migrated tables without creating anything.
        const storage = new TypeOrmStorage(dataSource, {
          tablePrefix: prefix,
          createTables: false,
        });
        const job = makeJob();
        await storage.createJob(job);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });

      it('creates tables on initialize() that match the entity schemas (no drift)', async () => {
        const storage = await freshStorage();
        const prefix = storage.jobTableName.slice(0, -'jobs'.length);
        expect(await pendingSchemaChanges(prefix)).toStrictEqual([]);
      });

      it('runs up and down through TypeORM migrations', async () => {
        const prefix = uniqueTablePrefix();
        const migrationsTableName = `${prefix}migrations`;
        tables.push(
          `${prefix}job_runs`,
          `${prefix}jobs`,
          `${prefix}job_leases`,
          migrationsTableName,
        );
        const migrator = await createTestDataSource(database, {
          ...sameDatabase(dataSource),
          migrations: [createJobTablesMigration({ tablePrefix: prefix })],
          migrationsTableName,
        });
        try {
          const ran = await migrator.runMigrations();
          expect(ran.map((migration) => migration.name)).toStrictEqual([
            `CreateJobSchedulerTables_${prefix}jobs_${prefix}job_runs_1767225600000`,
          ]);
          expect(await migrator.runMigrations()).toStrictEqual([]);
          const runner = migrator.createQueryRunner();
          try {
            expect(await runner.hasTable(`${prefix}job_runs`)).toBe(true);
            expect(await runner.hasTable(`${prefix}job_leases`)).toBe(true);
            await migrator.undoLastMigration();
            expect(await runner.hasTable(`${prefix}job_runs`)).toBe(false);
            expect(await runner.hasTable(`${prefix}jobs`)).toBe(false);
            expect(await runner.hasTable(`${prefix}job_leases`)).toBe(false);
          } finally {
            await runner.release();
          }
        } finally {
          await migrator.destroy();
        }
      });

      /**
       * Tables as an earlier version's migration made them (`createJobTablesMigration`, then
       * `asBefore` takes away what that version lacked), upgraded by `migration`, which must be the
       * only one to run (named `name`) and leave no drift; then `after` (which may undo it).
       */
      async function upgrade(
        asBefore: (runner: QueryRunner, prefix: string) => Promise<void>,
        migration: (options: { tablePrefix: string }) => new () => MigrationInterface,
        name: (prefix: string) => string,
        after: (runner: QueryRunner, migrator: DataSource, prefix: string) => Promise<void>,
      ): Promise<void> {
        const prefix = uniqueTablePrefix();
        const migrationsTableName = `${prefix}migrations`;
        tables.push(
          `${prefix}job_runs`,
          `${prefix}jobs`,
          `${prefix}job_leases`,
          migrationsTableName,
        );
        const earlier = await createTestDataSource(database, {
          ...sameDatabase(dataSource),
          migrations: [createJobTablesMigration({ tablePrefix: prefix })],
          migrationsTableName,
        });
        try {
          await earlier.runMigrations();
          const runner = earlier.createQueryRunner();
          try {
            await asBefore(runner, prefix);
          } finally {
            await runner.release();
          }
        } finally {
          await earlier.destroy();
        }
        const migrator = await createTestDataSource(database, {
          ...sameDatabase(dataSource),
          migrations: [
            createJobTablesMigration({ tablePrefix: prefix }),
            migration({ tablePrefix: prefix }),
          ],
          migrationsTableName,
        });
        try {
          const ran = await migrator.runMigrations();
          expect(ran.map((done) => done.name)).toStrictEqual([name(prefix)]);
          expect(await pendingSchemaChanges(prefix)).toStrictEqual([]);
          const runner = migrator.createQueryRunner();
          try {
            await after(runner, migrator, prefix);
          } finally {
            await runner.release();
          }
        } finally {
          await migrator.destroy();
        }
      }

      it('adds the run policy columns to tables migrated by an earlier version, and drops them on down', async () => {
        const policy = ['timeout_ms', 'retry_delay_ms', 'backoff', 'max_retry_delay_ms', 'jitter'];
        await upgrade(
          async (runner, prefix) => {
            for (const column of policy) await runner.dropColumn(`${prefix}jobs`, column);
          },
          addJobRunPolicyColumnsMigration,
          (prefix) => `AddJobSchedulerRunPolicy_${prefix}jobs_${prefix}job_runs_1796515200000`,
          async (runner, migrator, prefix) => {
            const storage = new TypeOrmStorage(dataSource, {
              tablePrefix: prefix,
              createTables: false,
            });
            const job = makeJob({ timeout: 60_000, backoff: 'exponential', jitter: 0.1 });
            await storage.createJob(job);
            expect(await storage.getJob(job.id)).toStrictEqual(job);
            await migrator.undoLastMigration();
            for (const column of policy) {
              expect([column, await runner.hasColumn(`${prefix}jobs`, column)]).toEqual([
                column,
                false,
              ]);
            }
          },
        );
      });

      it('moves tables migrated by an earlier version to the history indexes, and back on down', async () => {
        const indexNames = async (runner: QueryRunner, table: string): Promise<string[]> =>
          ((await runner.getTable(table))?.indices.map((index) => index.name ?? '') ?? []).sort();
        await upgrade(
          async (runner, prefix) => {
            await runner.dropIndex(`${prefix}job_runs`, `${prefix}job_runs_recent_idx`);
            await runner.dropIndex(`${prefix}jobs`, `${prefix}jobs_created_idx`);
            await runner.createIndex(
              `${prefix}job_runs`,
              new TableIndex({ name: `${prefix}job_runs_start_idx`, columnNames: ['start_at'] }),
            );
          },
          addJobHistoryIndexesMigration,
          (prefix) => `AddJobSchedulerHistoryIndexes_${prefix}jobs_${prefix}job_runs_1796601600000`,
          async (runner, migrator, prefix) => {
            const runIndexes = await indexNames(runner, `${prefix}job_runs`);
            expect(runIndexes).toContain(`${prefix}job_runs_recent_idx`);
            expect(runIndexes).not.toContain(`${prefix}job_runs_start_idx`);
            expect(await indexNames(runner, `${prefix}jobs`)).toContain(
              `${prefix}jobs_created_idx`,
            );
            await migrator.undoLastMigration();
            const restored = await indexNames(runner, `${prefix}job_runs`);
            expect(restored).toContain(`${prefix}job_runs_start_idx`);
            expect(restored).not.toContain(`${prefix}job_runs_recent_idx`);
            expect(await indexNames(runner, `${prefix}jobs`)).not.toContain(
              `${prefix}jobs_created_idx`,
            );
          },
        );
      });
    });

    describe('values', () => {
      it('round-trips 2040 instants on every date column, with milliseconds', async () => {
        const storage = await freshStorage();
        const job = makeJob({
          type: 'once',
          cron: null,
          runAt: DATE_2040,
          nextRunAt: DATE_2040,
          lastRunAt: DATE_2040,
          createdAt: DATE_2040,
          updatedAt: DATE_2040,
        });
        await storage.createJob(job);
        const run = makeRun(job.id, {
          startAt: DATE_2040,
          endAt: DATE_2040,
          scheduledAt: DATE_2040,
          createdAt: DATE_2040,
        });
        await storage.createRun(run);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([run]);
        await storage.batchUpdateJobs([{ ...job, version: 1 }]);
        expect((await storage.getJob(job.id))?.nextRunAt?.toISOString()).toBe(
          DATE_2040.toISOString(),
        );
      });

      it('stores payloads up to the cap and refuses larger ones, naming the job and the cap', async () => {
        const storage = await freshStorage();
        // JSON of a string adds two quotes.
        const largest = 'x'.repeat(TYPEORM_MAX_PAYLOAD_BYTES - 2);
        const job = makeJob({ payload: largest });
        await storage.createJob(job);
        expect((await storage.getJob(job.id))?.payload).toBe(largest);

        const tooBig = makeJob({ payload: `${largest}é` });
        const error = await storage.createJob(tooBig).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InvalidJobError);
        expect((error as InvalidJobError).code).toBe('INVALID_JOB');
        expect((error as InvalidJobError).field).toBe('payload');
        expect((error as Error).message).toContain(tooBig.id);
        expect((error as Error).message).toContain(`${TYPEORM_MAX_PAYLOAD_BYTES} bytes`);
        expect(await storage.getJob(tooBig.id)).toBeNull();

        // A batch with one oversized payload writes nothing.
        const other = makeJob();
        await storage.createJob(other);
        await expect(
          storage.batchUpdateJobs([
            { ...other, version: 5 },
            { ...job, payload: `${largest}é` },
          ]),
        ).rejects.toBeInstanceOf(InvalidJobError);
        expect(await storage.getJob(other.id)).toStrictEqual(other);
      });

      it('holds 64 KiB of run output and error text plus a marker', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const big = `${'o'.repeat(64 * 1024)}…[truncated]`;
        const run = makeRun(job.id, { status: 'failed', output: big, error: `${big}é` });
        await storage.createRun(run);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([run]);
      });

      it('round-trips quotes, emoji, backslashes and SQL metacharacters in every text field', async () => {
        const storage = await freshStorage();
        const nasty = `it's "q" \`b\` \\ %_ ; -- /* */ 🎉 é 日本 '); DROP TABLE x; --`;
        const job = makeJob({
          id: `id'"\\%_;🎉-${uniqueTablePrefix()}`,
          name: nasty,
          description: nasty,
          cron: '*/5 * * * * *',
          timezone: 'America/Argentina/ComodRivadavia',
          handlerName: nasty.slice(0, 200),
          lastResult: nasty,
          payload: { [nasty]: nasty, nul: 'a\u0000b', list: [nasty] },
        });
        await storage.createJob(job);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
        const run = makeRun(job.id, {
          id: `run'"\\%_🎉${uniqueTablePrefix()}`,
          output: nasty,
          error: nasty,
          traceId: `'"\\%`,
        });
        await storage.createRun(run);
        expect(await storage.getRuns(job.id, 5)).toStrictEqual([run]);
        await storage.batchUpdateJobs([{ ...job, name: `${nasty}2`, version: 1 }]);
        expect((await storage.getJob(job.id))?.name).toBe(`${nasty}2`);
        await storage.batchUpdateRuns([{ ...run, output: `${nasty}3` }]);
        expect((await storage.getRuns(job.id, 1))[0].output).toBe(`${nasty}3`);
      });

      it('writes a lone UTF-16 surrogate in a batch as a single write does (U+FFFD on servers)', async () => {
        const storage = await freshStorage();
        const lone = 'a\uD800b\uDC00c';
        const job = makeJob({ name: lone });
        await storage.createJob(job);
        const single = (await storage.getJob(job.id))?.name;
        // better-sqlite3 stores each lone surrogate as 3 bytes that read back as 3 U+FFFD.
        if (storage.dialect !== 'sqlite') expect(single).toBe('a\uFFFDb\uFFFDc');
        // A JSON batch (PostgreSQL) would be refused whole for a lone surrogate's escape.
        await storage.batchUpdateJobs([
          { ...job, description: lone, lastResult: lone, version: 1 },
        ]);
        const stored = await storage.getJob(job.id);
        expect([stored?.description, stored?.lastResult]).toStrictEqual([single, single]);
        const run = makeRun(job.id, { output: lone, error: '\\ud800 is text' });
        await storage.batchUpdateRuns([run]);
        const [read] = await storage.getRuns(job.id, 1);
        expect([read.output, read.error]).toStrictEqual([single, '\\ud800 is text']);
      });

      it('round-trips instants far from 1970 through batched writes, to the millisecond', async () => {
        const storage = await freshStorage();
        for (const iso of [
          '1715-06-06T01:02:20.360Z',
          '2256-12-27T18:02:19.631Z',
          '9999-12-31T23:59:59.999Z',
        ]) {
          const at = new Date(iso);
          const job = makeJob();
          await storage.createJob(job);
          const later = {
            ...job,
            runAt: at,
            nextRunAt: at,
            lastRunAt: at,
            updatedAt: at,
            version: 1,
          };
          await storage.batchUpdateJobs([later]);
          expect(await storage.getJob(job.id)).toStrictEqual(later);
          const run = makeRun(job.id, { startAt: at, endAt: at, scheduledAt: at, createdAt: at });
          await storage.batchUpdateRuns([run]);
          expect(await storage.getRuns(job.id, 1)).toStrictEqual([run]);
        }
      });

      it('keeps ids that differ only in case or trailing characters apart', async () => {
        const storage = await freshStorage();
        const base = `Case-${uniqueTablePrefix()}`;
        const upper = makeJob({ id: base.toUpperCase(), name: 'upper' });
        const lower = makeJob({ id: base.toLowerCase(), name: 'lower' });
        await storage.createJob(upper);
        await storage.createJob(lower);
        expect(await storage.getJob(upper.id)).toStrictEqual(upper);
        expect(await storage.getJob(lower.id)).toStrictEqual(lower);
      });

      it('refuses a NUL character in a text field the caller chose, and replaces it in run text', async () => {
        const storage = await freshStorage();
        const withNul = makeJob({ name: 'bad\u0000name' });
        const error = await storage.createJob(withNul).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InvalidJobError);
        expect((error as InvalidJobError).field).toBe('name');
        expect((error as Error).message).toContain('NUL');
        expect((error as Error).message).toContain(withNul.id);
        expect(await storage.getJob(withNul.id)).toBeNull();

        const job = makeJob({ lastResult: 'a\u0000b' });
        await storage.createJob(job);
        expect((await storage.getJob(job.id))?.lastResult).toBe('a\uFFFDb');
        const run = makeRun(job.id, { output: 'out\u0000put', error: '\u0000' });
        await storage.createRun(run);
        const [stored] = await storage.getRuns(job.id, 1);
        expect(stored.output).toBe('out\uFFFDput');
        expect(stored.error).toBe('\uFFFD');
      });

      it('records one fire once: a second run id for it is refused or skipped', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const first = makeRun(job.id, { scheduledAt: DATE_2040, attempt: 1 });
        await storage.createRun(first);
        const duplicate = makeRun(job.id, { scheduledAt: DATE_2040, attempt: 1, output: 'dup' });
        const error = await storage.createRun(duplicate).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(RunAlreadyRecordedError);
        expect((error as RunAlreadyRecordedError).code).toBe('RUN_ALREADY_RECORDED');
        expect((error as Error).message).toContain('recorded once only');
        await storage.updateRun(duplicate);
        const retry = makeRun(job.id, { scheduledAt: DATE_2040, attempt: 2 });
        await storage.batchUpdateRuns([duplicate, retry, { ...first, status: 'success' }]);
        expect(
          (await storage.getRuns(job.id, 10)).map((run) => [run.id, run.status]),
        ).toStrictEqual([
          [retry.id, 'running'],
          [first.id, 'success'],
        ]);
      });
    });

    describe('reads', () => {
      it("reads a job's runs and the history pages in index order, sorting no rows", async () => {
        const storage = await freshStorage();
        const jobs = [makeJob(), makeJob()];
        for (const job of jobs) await storage.createJob(job);
        await storage.batchUpdateRuns(
          jobs.flatMap((job) =>
            Array.from({ length: 1000 }, (_, i) =>
              makeRun(job.id, {
                startAt: new Date(DATE_2040.getTime() - i * 1000),
                scheduledAt: new Date(DATE_2040.getTime() - i * 1000),
              }),
            ),
          ),
        );
        const analyze = { postgres: 'ANALYZE', mysql: 'ANALYZE TABLE', sqlite: 'ANALYZE' };
        await dataSource.query(`${analyze[storage.dialect]} ${escape(storage.runTableName)}`);
        const sql = new JobSql(storage.dialect, escape, storage.jobTableName, storage.runTableName);
        const history = new HistorySql(sql, (ms) =>
          new JobRowCodec(storage.dialect).encodeInstant(new Date(ms)),
        );
        const statements = {
          "a job's runs": sql.getRuns(jobs[0].id, 20),
          'the runs page': history.findRuns(checkRunQuery({ limit: 20 })),
        };
        for (const [name, statement] of Object.entries(statements)) {
          // Instants are selected as expressions under other names: ORDER BY still means the column.
          expect(await planOf(storage.dialect, statement, { noSort: true }), name).not.toMatch(
            /Sort|filesort|TEMP B-TREE/,
          );
        }
        // The same rows as before, newest first.
        const runs = await storage.getRuns(jobs[0].id, 3);
        expect(runs.map((r) => r.startAt.getTime())).toStrictEqual(
          [0, 1, 2].map((i) => DATE_2040.getTime() - i * 1000),
        );
      });
    });

    describe('single writes', () => {
      it('writes one run through the indexes, not by reading the history, however long it is (PostgreSQL)', async () => {
        const storage = await freshStorage();
        if (storage.dialect !== 'postgres') return;
        const job = makeJob();
        await storage.createJob(job);
        const run = makeRun(job.id);
        await storage.createRun(run);
        // 20,000 runs of the job (copies of one, other ids and fires).
        const names = RUN_WRITE_COLUMNS.filter((c) => !['id', 'scheduled_at'].includes(c.name)).map(
          (c) => escape(c.name),
        );
        await dataSource.query(
          `INSERT INTO ${escape(storage.runTableName)} ("id", "scheduled_at", ${names.join(', ')})
            SELECT 'copy-' || g, "scheduled_at" - g * INTERVAL '1 second', ${names.join(', ')}
            FROM ${escape(storage.runTableName)} CROSS JOIN generate_series(1, 20000) AS g WHERE "id" = $1`,
          [run.id],
        );
        await dataSource.query(`ANALYZE ${escape(storage.runTableName)}`);
        const sql = new JobSql(storage.dialect, escape, storage.jobTableName, storage.runTableName);
        const codec = new JobRowCodec(storage.dialect);
        const next = makeRun(job.id, { attempt: 2 });
        const statement = sql.upsertRuns([[0, ...codec.runValues(next, RUN_WRITE_COLUMNS, true)]]);
        const plan = await planOf(storage.dialect, statement);
        expect(plan).not.toMatch(/Seq Scan/);
        await storage.createRun(next);
        expect((await storage.getRuns(job.id, 1))[0]).toStrictEqual(next);
      });
    });

    describe("a run's end", () => {
      it('writes the run and its job in one statement on PostgreSQL, two elsewhere', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const run = makeRun(job.id);
        await storage.createRun(run);
        recorder.reset();
        const ended = { ...run, status: 'success' as const, output: 'done', duration: 5 };
        const after = { ...job, status: 'pending' as const, lastResult: 'done', version: 1 };
        await storage.recordRunEnd(ended, after);
        expect(recorder.queries).toHaveLength(storage.dialect === 'postgres' ? 1 : 2);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([ended]);
        expect(await storage.getJob(job.id)).toStrictEqual(after);
      });
    });

    describe('batches', () => {
      it('writes 100 jobs and 100 runs with one statement each', async () => {
        const storage = await freshStorage();
        const jobs = Array.from({ length: 100 }, (_, i) => makeJob({ name: `job ${i}` }));
        for (const job of jobs) await storage.createJob(job);

        recorder.reset();
        const updated = jobs.map((job, i) => ({ ...job, status: 'running' as const, version: i }));
        await storage.batchUpdateJobs(updated);
        expect(recorder.queries).toHaveLength(1);
        expect(await storage.listJobs('running')).toStrictEqual(updated);

        const runs = jobs.map((job) => makeRun(job.id));
        recorder.reset();
        await storage.batchUpdateRuns(runs);
        expect(recorder.queries).toHaveLength(1);
        recorder.reset();
        await storage.batchUpdateRuns(runs.map((run) => ({ ...run, status: 'success' as const })));
        expect(recorder.queries).toHaveLength(1);
        expect((await storage.getRuns(jobs[42].id, 5)).map((run) => run.status)).toStrictEqual([
          'success',
        ]);
        reportStatements(database, recorder);
      });

      it('writes a large batch in as few statements as the dialect allows (PostgreSQL: one)', async () => {
        const storage = await freshStorage();
        const jobs = Array.from({ length: 4_000 }, (_, i) => makeJob({ name: `job ${i}` }));
        for (let i = 0; i < jobs.length; i += 100) {
          await Promise.all(jobs.slice(i, i + 100).map((job) => storage.createJob(job)));
        }
        // Statements per batch: PostgreSQL binds one array per column (`unnest`), whatever the rows;
        // the others one parameter per value, chunked under their parameter limit.
        const expected = (rows: number, paramsPerRow: number): number =>
          storage.dialect === 'postgres'
            ? 1
            : Math.ceil(rows / Math.floor(MAX_PARAMETERS[storage.dialect] / paramsPerRow));

        const updated = jobs.map((job, i) => ({ ...job, status: 'running' as const, version: i }));
        const gone = makeJob();
        recorder.reset();
        await storage.batchUpdateJobs([...updated, gone]);
        const jobStatements = expected(updated.length + 1, JOB_WRITE_COLUMNS.length);
        expect(recorder.statements).toHaveLength(jobStatements);
        expect(recorder.queries).toHaveLength(jobStatements === 1 ? 1 : jobStatements + 2);
        // Created concurrently, so listed in no particular order: compared by id.
        const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : 1);
        expect((await storage.listJobs('running')).sort(byId)).toStrictEqual(
          updated.toSorted(byId),
        );
        expect(await storage.getJob(gone.id)).toBeNull();

        // 12,000 runs, 3 per job; plus one of a missing job (skipped) and a second id for a fire
        // already recorded (skipped).
        const runs = jobs.flatMap((job) => [makeRun(job.id), makeRun(job.id), makeRun(job.id)]);
        await storage.createRun(runs[0]);
        const orphan = makeRun(gone.id);
        const twin = makeRun(jobs[0].id, { scheduledAt: runs[0].scheduledAt, output: 'twin' });
        recorder.reset();
        await storage.batchUpdateRuns([...runs, orphan, twin]);
        const runStatements = expected(runs.length + 2, RUN_WRITE_COLUMNS.length + 1);
        if (storage.dialect === 'postgres') expect(runStatements).toBe(1);
        expect(recorder.statements).toHaveLength(runStatements);
        expect(recorder.queries).toHaveLength(runStatements === 1 ? 1 : runStatements + 2);
        expect(await storage.getJobRunCount(gone.id)).toBe(0);
        // Equal start instants: newest first is reverse batch order (seq follows the batch).
        expect((await storage.getRuns(jobs[0].id, 10)).map((run) => run.id)).toStrictEqual([
          runs[2].id,
          runs[1].id,
          runs[0].id,
        ]);
        expect(
          (await storage.getRuns(jobs[3_999].id, 10)).map((run) => [run.id, run.output]),
        ).toStrictEqual(
          runs
            .slice(-3)
            .reverse()
            .map((run) => [run.id, run.output]),
        );
        reportStatements(database, recorder);
      });

      it('splits a batch into chunks under the limits, in one transaction', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        // The text bound (4 MiB; PostgreSQL 64 MiB, counting 3 bytes a character) cuts a chunk
        // every ~21 runs.
        const output = 'o'.repeat(MAX_STATEMENT_TEXT_BYTES[storage.dialect] / 64);
        const runs = Array.from({ length: 30 }, (_, i) => {
          const at = new Date(Date.UTC(2030, 0, 1, 0, 0, 0, i));
          return makeRun(job.id, { output, startAt: at, scheduledAt: at });
        });
        recorder.reset();
        await storage.batchUpdateRuns(runs);
        expect(recorder.statements).toHaveLength(2);
        expect(recorder.queries.length).toBeGreaterThan(2);
        expect(await storage.getJobRunCount(job.id)).toBe(30);
        expect((await storage.getRuns(job.id, 1))[0].id).toBe(runs[29].id);
      });

      it('keeps a batch whole: a failing chunk rolls the earlier ones back', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const output = 'o'.repeat(MAX_STATEMENT_TEXT_BYTES[storage.dialect] / 64);
        const at = (i: number): Date => new Date(Date.UTC(2030, 0, 1, 0, 0, 0, i));
        const runs = Array.from({ length: 30 }, (_, i) =>
          makeRun(job.id, { output, scheduledAt: at(i) }),
        );
        // The second chunk fails in the database: two new runs record one fire (PostgreSQL, SQLite),
        // and a trace id overflows its 64-character column (PostgreSQL, MySQL/MariaDB strict mode).
        const twin = makeRun(job.id, { scheduledAt: at(28) });
        const overflow = makeRun(job.id, { scheduledAt: at(100), traceId: 't'.repeat(100) });
        recorder.reset();
        const error = await storage
          .batchUpdateRuns([...runs, twin, overflow])
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Error);
        expect(recorder.queries.some((query) => /ROLLBACK/i.test(query))).toBe(true);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
      });
    });

    describe('pruneRuns', () => {
      const finished = (jobId: string, i: number, overrides: Partial<Run> = {}): Run =>
        makeRun(jobId, {
          status: 'success',
          startAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
          scheduledAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
          ...overrides,
        });

      it('is a PrunableStorage', async () => {
        expect(isPrunableStorage(await freshStorage())).toBe(true);
      });

      it('keeps the newest runs per job and never removes running ones', async () => {
        const storage = await freshStorage();
        const a = makeJob();
        const b = makeJob();
        await storage.createJob(a);
        await storage.createJob(b);
        const running = finished(a.id, 0, { status: 'running' });
        const aRuns = [running, ...Array.from({ length: 10 }, (_, i) => finished(a.id, i + 1))];
        const bRuns = Array.from({ length: 3 }, (_, i) => finished(b.id, i));
        await storage.batchUpdateRuns([...aRuns, ...bRuns]);

        recorder.reset();
        expect(await storage.pruneRuns({ maxRunsPerJob: 5, limit: 2 })).toBe(2);
        expect(recorder.queries).toHaveLength(1);
        expect(await storage.pruneRuns({ maxRunsPerJob: 5, limit: 100 })).toBe(3);
        expect(await storage.pruneRuns({ maxRunsPerJob: 5, limit: 100 })).toBe(0);
        const kept = await storage.getRuns(a.id, 100);
        expect(kept.map((run) => run.id)).toStrictEqual([
          ...aRuns
            .slice(6)
            .reverse()
            .map((run) => run.id),
          running.id,
        ]);
        expect(await storage.getJobRunCount(b.id)).toBe(3);
      });

      it('removes finished runs older than an instant, oldest first, in bounded batches', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const runs = Array.from({ length: 8 }, (_, i) =>
          finished(job.id, i, i === 1 ? { status: 'running' } : {}),
        );
        await storage.batchUpdateRuns(runs);
        const cutoff = new Date(Date.UTC(2030, 0, 1, 0, 0, 5));
        expect(await storage.pruneRuns({ olderThan: cutoff, limit: 3 })).toBe(3);
        expect(
          (await storage.getRuns(job.id, 100)).map((run) => run.id).toReversed(),
        ).toStrictEqual([runs[1].id, runs[4].id, runs[5].id, runs[6].id, runs[7].id]);
        expect(await storage.pruneRuns({ olderThan: cutoff, limit: 3 })).toBe(1);
        expect(await storage.getJobRunCount(job.id)).toBe(4);
      });

      it('removes a run when either rule applies', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const runs = Array.from({ length: 6 }, (_, i) => finished(job.id, i));
        await storage.batchUpdateRuns(runs);
        const deleted = await storage.pruneRuns({
          maxRunsPerJob: 4,
          olderThan: new Date(Date.UTC(2030, 0, 1, 0, 0, 3)),
          limit: 100,
        });
        expect(deleted).toBe(3);
        expect(await storage.getJobRunCount(job.id)).toBe(3);
      });

      it('does nothing without a rule or with a limit of zero, and checks its criteria', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        await storage.createRun(finished(job.id, 1));
        expect(await storage.pruneRuns({ limit: 10 })).toBe(0);
        expect(await storage.pruneRuns({ maxRunsPerJob: 0, limit: 0 })).toBe(0);
        expect(await storage.getJobRunCount(job.id)).toBe(1);
        await expect(storage.pruneRuns({ maxRunsPerJob: -1, limit: 1 })).rejects.toBeInstanceOf(
          InvalidArgumentError,
        );
        await expect(
          storage.pruneRuns({ olderThan: new Date(Number.NaN), limit: 1 }),
        ).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(await storage.pruneRuns({ maxRunsPerJob: 0, limit: Infinity })).toBe(1);
      });
    });

    describe('lifecycle', () => {
      it('pings with SELECT 1, and close() leaves the DataSource open', async () => {
        const storage = await freshStorage();
        recorder.reset();
        await storage.ping();
        expect(recorder.queries).toStrictEqual(['SELECT 1']);
        await storage.close();
        expect(dataSource.isInitialized).toBe(true);
        await expect(dataSource.query('SELECT 1')).resolves.toBeDefined();
      });
    });
  });
}

/** Options that reach the same database as `dataSource` (for SQLite: the same file). */
function sameDatabase(dataSource: DataSource): Partial<DataSourceOptions> {
  return dataSource.options.type === 'better-sqlite3'
    ? ({ database: dataSource.options.database } as Partial<DataSourceOptions>)
    : {};
}

/** Prints what a batch cost, for the record. */
function reportStatements(database: TestDatabase, recorder: QueryRecorder): void {
  if (process.env.TYPEORM_STORAGE_REPORT) {
    console.info(`[${database.label}] statements: ${recorder.queries.length}`);
  }
}
