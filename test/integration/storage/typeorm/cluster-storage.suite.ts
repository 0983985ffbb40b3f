import { vitestApi } from '../../../utils/vitest-api.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { InvalidOptionsError } from '../../../../lib/errors/invalid-options.error.js';
import { InvalidJobError } from '../../../../lib/errors/invalid-job.error.js';
import type { Job } from '../../../../lib/interfaces/job.interface.js';
import {
  TypeOrmStorage,
  type TypeOrmStorageOptions,
} from '../../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  QueryRecorder,
  removeSqliteFiles,
  tablesOf,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../../utils/databases.js';
import { describeClusterStorageConformance } from '../../../../lib/testing/index.js';
import {
  finishRunsAndReleaseJobs,
  insertClaimedRuns,
} from '../../../../lib/storage/typeorm/cluster-batch-sql.js';
import { ClusterSql } from '../../../../lib/storage/typeorm/cluster-sql.js';
import { JobRowCodec } from '../../../../lib/storage/typeorm/job-row-codec.js';
import { JOB_WRITE_COLUMNS, RUN_WRITE_COLUMNS } from '../../../../lib/storage/typeorm/job-sql.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';

/**
 * Runs the `ClusterStorage` conformance suite and the TypeORM-specific cluster tests against one
 * database (PostgreSQL or MySQL/MariaDB). Each test works on tables of its own (a unique prefix),
 * dropped afterwards.
 */
export async function describeTypeOrmClusterStorage(
  database: TestDatabase,
  { conformanceOnly = false }: { conformanceOnly?: boolean } = {},
): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(database, reason, `TypeOrmStorage cluster mode on ${database.label}`, () => {
    let dataSource: DataSource;
    const recorder = new QueryRecorder();
    let tables: string[] = [];

    beforeAll(async () => {
      dataSource = await createTestDataSource(database, { logger: recorder });
    });

    afterAll(async () => {
      if (dataSource?.isInitialized) await dataSource.destroy();
    });

    afterEach(async () => {
      await dropTables(dataSource, tables.splice(0));
    });

    const freshStorage = async (
      options: TypeOrmStorageOptions = {},
      on: DataSource = dataSource,
    ): Promise<TypeOrmStorage> => {
      const storage = new TypeOrmStorage(on, { tablePrefix: uniqueTablePrefix(), ...options });
      tables.push(...tablesOf(storage));
      await storage.initialize();
      return storage;
    };

    describeClusterStorageConformance(
      vitestApi,
      database.label,
      async () => {
        const storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
        await storage.initialize();
        return storage;
      },
      async (storage) => dropTables(dataSource, tablesOf(storage as TypeOrmStorage)),
    );

    if (conformanceOnly) return;

    /** The stored `claimed_by` of a job, read with plain SQL. */
    const storedClaim = async (storage: TypeOrmStorage, jobId: string): Promise<unknown> => {
      const q = (name: string): string => dataSource.driver.escape(name);
      const placeholder = storage.dialect === 'postgres' ? '$1' : '?';
      const [row] = await dataSource.query(
        `SELECT ${q('claimed_by')} AS ${q('claim')} FROM ${q(storage.jobTableName)} WHERE ${q('id')} = ${placeholder}`,
        [jobId],
      );
      return row?.claim;
    };

    describe('tables', () => {
      it('creates the lease table and the claimed_by column with its index', async () => {
        const storage = await freshStorage();
        expect(storage.leaseTableName).toBe(
          `${storage.jobTableName.slice(0, -'jobs'.length)}job_leases`,
        );
        const runner = dataSource.createQueryRunner();
        try {
          const leases = await runner.getTable(storage.leaseTableName);
          expect(leases?.columns.map((column) => column.name)).toStrictEqual([
            'seq',
            'id',
            'instance_id',
            'acquired_at_ms',
            'expires_at_ms',
          ]);
          expect(leases?.indices.map((index) => index.name)).toStrictEqual([
            `${storage.leaseTableName}_id_key`,
          ]);
          const jobs = await runner.getTable(storage.jobTableName);
          const claim = jobs?.findColumnByName('claimed_by');
          expect(claim).toMatchObject({ length: '128', isNullable: true });
          expect(claim?.type).toMatch(/^(varchar|character varying)$/);
          expect(jobs?.indices.map((index) => index.name)).toContain(
            `${storage.jobTableName}_claim_idx`,
          );
        } finally {
          await runner.release();
        }
      });

      it('uses leaseTableName as given', async () => {
        const prefix = uniqueTablePrefix();
        const storage = await freshStorage({ leaseTableName: `${prefix}custom_leases` });
        expect(storage.leaseTableName).toBe(`${prefix}custom_leases`);
        await storage.acquireLease('a#1', 'a', 60_000);
        const [row] = await dataSource.query(
          `SELECT COUNT(*) AS n FROM ${dataSource.driver.escape(`${prefix}custom_leases`)}`,
        );
        expect(Number(row.n)).toBe(1);
      });

      it('adds claimed_by and its index to a jobs table made without them (an earlier version)', async () => {
        const first = await freshStorage();
        const job = makeJob();
        await first.createJob(job);
        const runner = dataSource.createQueryRunner();
        try {
          await runner.dropIndex(first.jobTableName, `${first.jobTableName}_claim_idx`);
          await runner.dropColumn(first.jobTableName, 'claimed_by');
          await runner.dropTable(first.leaseTableName);
          const again = new TypeOrmStorage(dataSource, {
            jobTableName: first.jobTableName,
            runTableName: first.runTableName,
            leaseTableName: first.leaseTableName,
          });
          await again.acquireLease('a#1', 'a', 60_000);
          const claimed = { ...job, version: 1 };
          expect(
            await again.writeJobIf(claimed, { version: 0, claimedBy: null, claim: 'a#1' }),
          ).toBe(true);
          expect(await again.getJob(job.id)).toStrictEqual(claimed);
          const table = await runner.getTable(first.jobTableName);
          expect(table?.indices.map((index) => index.name)).toContain(
            `${first.jobTableName}_claim_idx`,
          );
        } finally {
          await runner.release();
        }
      });
    });

    describe('claimed_by', () => {
      it('is NULL after createJob and untouched by updateJob, batchUpdateJobs and createRun', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        expect(await storedClaim(storage, job.id)).toBeNull();
        await storage.acquireLease('a#1', 'a', 60_000);
        const claimed: Job = { ...job, status: 'running', version: 1 };
        expect(
          await storage.writeJobIf(claimed, { version: 0, claimedBy: null, claim: 'a#1' }),
        ).toBe(true);
        expect(await storedClaim(storage, job.id)).toBe('a#1');
        await storage.updateJob({ ...claimed, version: 2 });
        await storage.batchUpdateJobs([{ ...claimed, version: 3 }]);
        await storage.createRun(makeRun(job.id));
        expect(await storedClaim(storage, job.id)).toBe('a#1');
        expect(await storage.getJob(job.id)).toStrictEqual({ ...claimed, version: 3 });
      });
    });

    describe('statements', () => {
      it('writes a job, a claimed run and a run end in one statement each, never reading first', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        await storage.acquireLease('a#1', 'a', 60_000);
        const run = makeRun(job.id);
        const count = async (work: () => Promise<unknown>): Promise<string[]> => {
          recorder.reset();
          await work();
          return recorder.queries;
        };
        const claimed = { ...job, version: 1 };
        const condition = { version: 0, claimedBy: null, claim: 'a#1', lease: 'a#1' };
        const [update] = await count(() => storage.writeJobIf(claimed, condition));
        expect(update).toMatch(/^UPDATE /);
        expect(await count(() => storage.writeJobIf(claimed, condition))).toHaveLength(1);
        const [insert] = await count(() => storage.createClaimedRun(run, 'a#1'));
        expect(insert).toMatch(/^INSERT INTO .* SELECT .* WHERE EXISTS/);
        expect(await count(() => storage.createClaimedRun(makeRun(job.id), 'b#2'))).toHaveLength(1);
        const end = { ...run, status: 'success' as const, endAt: new Date(), duration: 5 };
        expect(await count(() => storage.finishRun(end))).toHaveLength(1);
        expect(await count(() => storage.renewLease('a#1', 60_000))).toHaveLength(1);
        expect(await count(() => storage.findOrphanedJobs())).toHaveLength(2);
      });

      it('ends a run and releases its job in one statement on PostgreSQL (the method only there)', async () => {
        const storage = await freshStorage();
        const both = storage.finishRunAndWriteJob;
        if (storage.dialect !== 'postgres') {
          expect(both).toBeUndefined();
          return;
        }
        expect(typeof both).toBe('function');
        const job = makeJob();
        await storage.createJob(job);
        await storage.acquireLease('a#1', 'a', 60_000);
        const claimed = { ...job, status: 'running' as const, version: 1 };
        await storage.writeJobIf(claimed, { version: 0, claimedBy: null, claim: 'a#1' });
        const run = makeRun(job.id);
        await storage.createClaimedRun(run, 'a#1');
        recorder.reset();
        const end = { ...run, status: 'success' as const, endAt: new Date(), duration: 5 };
        const released = { ...claimed, status: 'pending' as const, version: 2 };
        const outcome = await both!(end, released, { version: 1, claimedBy: 'a#1', claim: null });
        expect(outcome).toStrictEqual({ finished: true, released: true });
        expect(recorder.queries).toHaveLength(1);
        expect(recorder.queries[0]).toMatch(/^WITH .*\(UPDATE .*\(UPDATE .*SELECT/s);
      });
    });

    describe('plans', () => {
      it("records and releases a batch's jobs through the id index, however many jobs the lease holds (PostgreSQL)", async () => {
        const storage = await freshStorage();
        if (storage.dialect !== 'postgres') return;
        await storage.acquireLease('a#1', 'a', 60_000);
        const jobs = Array.from({ length: 2_000 }, () => makeJob());
        for (let i = 0; i < jobs.length; i += 100) {
          await Promise.all(jobs.slice(i, i + 100).map((job) => storage.createJob(job)));
        }
        const claimed = await storage.claimJobs!(
          jobs.map((job) => ({
            job: { ...job, status: 'running' as const, version: 1 },
            version: 0,
          })),
          'a#1',
        );
        expect(claimed.every(Boolean)).toBe(true);
        const runs = jobs.map((job) => makeRun(job.id));
        expect((await storage.createClaimedRuns!(runs, 'a#1')).every(Boolean)).toBe(true);
        const q = (name: string): string => dataSource.driver.escape(name);
        const names = JOB_WRITE_COLUMNS.filter((c) => c.name !== 'id').map((c) => `"${c.name}"`);
        /** Copies of a job under other ids, `claimed` (SQL) their claim; then fresh statistics. */
        const copies = async (from: number, to: number, claimed: string): Promise<void> => {
          await dataSource.query(
            `INSERT INTO ${q(storage.jobTableName)} ("id", "claimed_by", ${names.join(', ')})
              SELECT 'copy-' || g, ${claimed}, ${names.join(', ')} FROM ${q(storage.jobTableName)}
              CROSS JOIN generate_series(${from}, ${to}) AS g WHERE "id" = $1`,
            [jobs[0]!.id],
          );
          await dataSource.query(`ANALYZE ${q(storage.jobTableName)}`);
          await dataSource.query(`ANALYZE ${q(storage.runTableName)}`);
        };
        const sql = new ClusterSql('postgres', q, {
          jobTable: storage.jobTableName,
          runTable: storage.runTableName,
          leaseTable: storage.leaseTableName,
        });
        const codec = new JobRowCodec('postgres');
        const ends = jobs.slice(0, 100).map((job, i) => ({
          run: codec.runValues({ ...runs[i]!, status: 'success' }, RUN_WRITE_COLUMNS, true),
          job: [
            ...codec.jobValues(
              { ...job, status: 'completed', version: 2 },
              JOB_WRITE_COLUMNS,
              true,
            ),
            1,
            'a#1',
            runs[i]!.id,
          ],
        }));
        const planOf = async (explained: { sql: string; params: unknown[] }): Promise<string> =>
          (
            (await dataSource.query(`EXPLAIN ${explained.sql}`, explained.params)) as {
              'QUERY PLAN': string;
            }[]
          )
            .map((row) => row['QUERY PLAN'])
            .join('\n');

        // 2,000 jobs, all under the lease: the release finds its rows by id (through the id index,
        // or one scan of a table this small), not through every job of the lease, nor the whole
        // created-at index, once per row.
        await dataSource.query(`ANALYZE ${q(storage.jobTableName)}`);
        await dataSource.query(`ANALYZE ${q(storage.runTableName)}`);
        const plan = await planOf(
          finishRunsAndReleaseJobs(
            sql,
            ends.map((e) => e.run),
            ends.map((e) => e.job),
          ),
        );
        const release = plan.slice(plan.indexOf('CTE rel'));
        expect(release).not.toMatch(/_claim_idx|_created_idx/);

        // 30,000 more, a third of them under the lease (a backlog shared by instances): a retry's
        // record checks its job's claim by the job's id, not through every job of the lease.
        await copies(1, 30_000, "CASE WHEN g % 3 = 0 THEN 'a#1' END");
        const retries = jobs
          .slice(0, 100)
          .map((job) => codec.runValues(makeRun(job.id, { attempt: 2 }), RUN_WRITE_COLUMNS, true));
        const insert = await planOf(insertClaimedRuns(sql, retries, 'a#1'));
        expect(insert).not.toMatch(/_claim_idx/);
      });
    });

    describe('the database clock', () => {
      it('reads the same instant whatever the session time zone', async () => {
        // PostgreSQL: every session in Kathmandu. MySQL: one connection, its session at -08:00.
        const postgres = dataSource.options.type === 'postgres';
        const zone = (
          postgres ? { extra: { options: '-c TimeZone=Asia/Kathmandu' } } : { poolSize: 1 }
        ) as Partial<DataSourceOptions>;
        const zoned = await createTestDataSource(database, zone);
        try {
          if (!postgres) {
            await zoned.query("SET time_zone = '-08:00'");
            const [row] = await zoned.query('SELECT @@session.time_zone AS tz');
            expect(row.tz).toBe('-08:00');
          }
          const storage = await freshStorage({}, zoned);
          expect(Math.abs((await storage.clusterNow()) - Date.now())).toBeLessThan(1_000);
          await storage.acquireLease('a#1', 'a', 60_000);
          const [record] = await storage.listLeases();
          expect(Math.abs(record.acquiredAt - Date.now())).toBeLessThan(1_000);
        } finally {
          await zoned.destroy();
        }
      });
    });

    describe('validation', () => {
      it('checks a job as updateJob does', async () => {
        const storage = await freshStorage();
        const job = makeJob();
        await storage.createJob(job);
        const bad = { ...job, name: 'bad\u0000name', version: 1 };
        await expect(storage.writeJobIf(bad, { version: 0 })).rejects.toBeInstanceOf(
          InvalidJobError,
        );
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });
    });
  });
}

/** The SQLite refusal: cluster mode needs a database several processes share. */
export function describeTypeOrmClusterStorageRefusal(database: TestDatabase): void {
  describe(`TypeOrmStorage cluster mode on ${database.label}`, () => {
    let dataSource: DataSource;

    beforeAll(async () => {
      dataSource = await createTestDataSource(database);
    });

    afterAll(async () => {
      if (dataSource?.isInitialized) await dataSource.destroy();
      removeSqliteFiles();
    });

    it('says why it cannot be shared, and every cluster method rejects clearly', async () => {
      const storage = new TypeOrmStorage(dataSource);
      const reason = storage.clusterUnsupportedReason();
      expect(typeof reason).toBe('string');
      expect(reason).toContain('SQLite');
      expect(reason).toContain('PostgreSQL, MySQL or MariaDB');
      const job = makeJob();
      await storage.createJob(job);
      const calls: Array<() => Promise<unknown>> = [
        () => storage.clusterNow(),
        () => storage.acquireLease('a#1', 'a', 1_000),
        () => storage.renewLease('a#1', 1_000),
        () => storage.releaseLease('a#1'),
        () => storage.listLeases(),
        () => storage.findOrphanedJobs(),
        () => storage.listJobVersions(),
        () => storage.getJobsById([job.id]),
        () => storage.writeJobIf({ ...job, version: 1 }, { version: 0 }),
        () => storage.createClaimedRun(makeRun(job.id), 'a#1'),
        () => storage.finishRun(makeRun(job.id)),
      ];
      for (const call of calls) {
        const error = await call().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InvalidOptionsError);
        expect((error as InvalidOptionsError).option).toBe('dataSource');
        expect((error as Error).message).toContain('cluster mode');
        expect((error as Error).message).toContain(reason);
      }
      // Nothing was written.
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      await storage.close();
    });
  });
}
