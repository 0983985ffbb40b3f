import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import {
  createJobSchedulerEntitySchemas,
  TypeOrmStorage,
} from '../../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
} from '../../../utils/databases.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';
import { describeTypeOrmStorage } from './typeorm-storage.suite.js';

await describeTypeOrmStorage(TEST_DATABASES['postgres']);

const postgres = TEST_DATABASES.postgres;
describeWithDatabase(
  postgres,
  await unavailableReason(postgres),
  'TypeOrmStorage on PostgreSQL: instants whatever the session TimeZone',
  () => {
    let kathmandu: DataSource;
    let tables: string[] = [];

    beforeAll(async () => {
      kathmandu = await createTestDataSource(postgres, {
        extra: { options: '-c TimeZone=Asia/Kathmandu' },
      });
    });

    afterEach(async () => {
      await dropTables(kathmandu, tables.splice(0));
    });

    afterAll(async () => {
      if (kathmandu?.isInitialized) await kathmandu.destroy();
    });

    it('round-trips instants through a session in another time zone', async () => {
      const storage = new TypeOrmStorage(kathmandu, { tablePrefix: uniqueTablePrefix() });
      tables = tablesOf(storage);
      const at = new Date('2040-02-29T23:59:59.999Z');
      const job = makeJob({ nextRunAt: at, createdAt: at, updatedAt: at });
      await storage.createJob(job);
      await storage.batchUpdateJobs([{ ...job, version: 1 }]);
      expect(await storage.getJob(job.id)).toStrictEqual({ ...job, version: 1 });
      const [raw] = await kathmandu.query(
        `SELECT next_run_at::text AS v FROM "${storage.jobTableName}" WHERE id = $1`,
        [job.id],
      );
      expect(raw.v).toBe('2040-03-01 05:44:59.999+05:45');
    });

    it('works in the schema the DataSource names, with no drift', async () => {
      const schema = uniqueTablePrefix().slice(0, -1);
      await kathmandu.query(`CREATE SCHEMA "${schema}"`);
      try {
        const inSchema = await createTestDataSource(postgres, { schema });
        try {
          const storage = new TypeOrmStorage(inSchema);
          const job = makeJob();
          await storage.createJob(job);
          await storage.batchUpdateJobs([{ ...job, version: 2 }]);
          expect(await storage.listJobs()).toStrictEqual([{ ...job, version: 2 }]);
          // Cluster mode's statements name the schema too.
          await storage.acquireLease('a#1', 'a', 60_000);
          const claimed = { ...job, version: 3 };
          const condition = { version: 2, claimedBy: null, claim: 'a#1', lease: 'a#1' };
          expect(await storage.writeJobIf(claimed, condition)).toBe(true);
          expect(await storage.createClaimedRun(makeRun(job.id), 'a#1')).toBe(true);
          expect(await storage.findOrphanedJobs()).toStrictEqual([]);
          const [leases] = await kathmandu.query(
            `SELECT COUNT(*) AS n FROM "${schema}"."job_leases"`,
          );
          expect(Number(leases.n)).toBe(1);
          const [row] = await kathmandu.query(`SELECT COUNT(*) AS n FROM "${schema}"."jobs"`);
          expect(Number(row.n)).toBe(1);
          const checker = await createTestDataSource(postgres, {
            schema,
            entities: createJobSchedulerEntitySchemas({ type: 'postgres', schema }),
          });
          try {
            expect((await checker.driver.createSchemaBuilder().log()).upQueries).toStrictEqual([]);
          } finally {
            await checker.destroy();
          }
        } finally {
          await inSchema.destroy();
        }
      } finally {
        await kathmandu.query(`DROP SCHEMA "${schema}" CASCADE`);
      }
    });
  },
);
