import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { TypeOrmStorage } from '../../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
} from '../../../utils/databases.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';
import { describeTypeOrmStorage } from './typeorm-storage.suite.js';

await describeTypeOrmStorage(TEST_DATABASES.mariadb);
await describeTypeOrmStorage(TEST_DATABASES.mysql, { conformanceOnly: true });

const mariadb = TEST_DATABASES.mariadb;
describeWithDatabase(
  mariadb,
  await unavailableReason(mariadb),
  'TypeOrmStorage on MariaDB: instants whatever the DataSource timezone',
  () => {
    const sources: DataSource[] = [];
    let tables: string[] = [];

    beforeAll(async () => {
      for (const timezone of ['+05:00', '-08:00', 'Z', 'local']) {
        sources.push(await createTestDataSource(mariadb, { timezone }));
      }
    });

    afterEach(async () => {
      await dropTables(sources[0], tables.splice(0));
    });

    afterAll(async () => {
      for (const source of sources.splice(0)) await source.destroy();
    });

    it('writes UTC and reads the same instants through DataSources with different timezones', async () => {
      const prefix = uniqueTablePrefix();
      tables = [`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`];
      const [plus5, minus8, utc, local] = sources.map(
        (source) => new TypeOrmStorage(source, { tablePrefix: prefix }),
      );
      const at = new Date('2040-02-29T23:59:59.999Z');
      const job = makeJob({ nextRunAt: at, createdAt: at, updatedAt: at });
      await plus5.createJob(job);
      const run = makeRun(job.id, { startAt: at, scheduledAt: at, createdAt: at });
      await plus5.batchUpdateRuns([run]);
      for (const storage of [plus5, minus8, utc, local]) {
        expect(await storage.getJob(job.id)).toStrictEqual(job);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([run]);
      }
      // The column holds the UTC wall clock.
      const [row] = await plus5.listJobs();
      expect(row.nextRunAt?.toISOString()).toBe('2040-02-29T23:59:59.999Z');
      const [raw] = await sources[0].query(
        `SELECT CAST(next_run_at AS CHAR) AS v FROM \`${prefix}jobs\` WHERE id = ?`,
        [job.id],
      );
      expect(raw.v).toBe('2040-02-29 23:59:59.999');

      const later = { ...job, nextRunAt: new Date('2041-07-01T12:00:00.001Z'), version: 1 };
      await minus8.batchUpdateJobs([later]);
      expect(await plus5.getJob(job.id)).toStrictEqual(later);
      expect(
        await utc.pruneRuns({ olderThan: new Date('2040-03-01T00:00:00.000Z'), limit: 10 }),
      ).toBe(0);
    });
  },
);
