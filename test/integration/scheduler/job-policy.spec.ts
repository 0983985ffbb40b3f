import { afterEach, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { InvalidJobError } from '../../../lib/errors/invalid-job.error.js';
import type { JobDefinition } from '../../../lib/interfaces/job.interface.js';
import type { JobStorage } from '../../../lib/interfaces/job-storage.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { Scheduler } from '../../../lib/scheduler.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/index.js';
import {
  describeWithDatabase,
  dropTables,
  removeSqliteFiles,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';

/** Bad per-job policies, each with the field its error must name. */
const BAD: ReadonlyArray<readonly [string, Partial<JobDefinition>]> = [
  ['timeout', { timeout: -1 }],
  ['timeout', { timeout: 'soon' }],
  ['timeout', { timeout: '-5s' }],
  ['retryDelay', { retryDelay: Number.NaN }],
  ['backoff', { backoff: 'linear' as never }],
  ['maxRetryDelay', { maxRetryDelay: 'forever' }],
  ['jitter', { jitter: 2 }],
  ['jitter', { jitter: -0.1 }],
];

/**
 * A job's own run policy through the scheduler on every storage: a bad one is refused naming the
 * field and stores nothing; a good one is stored on every dialect and read back as given.
 */
function describeJobPolicy(
  label: string,
  reason: string | undefined,
  database?: TestDatabase,
): void {
  const body = () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      removeSqliteFiles();
    });

    async function boot(): Promise<{ scheduler: Scheduler; storage: JobStorage }> {
      let storage: JobStorage = new MemoryStorage();
      if (database !== undefined) {
        const dataSource = new DataSource(database.options());
        await dataSource.initialize();
        const prefix = uniqueTablePrefix();
        storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        cleanups.push(async () => {
          await dropTables(dataSource, [
            `${prefix}job_runs`,
            `${prefix}jobs`,
            `${prefix}job_leases`,
          ]);
          await dataSource.destroy();
        });
      }
      const scheduler = new Scheduler(storage, { logger: new NopLogger() });
      scheduler.registerHandlerFunc('report', () => 'done');
      cleanups.push(() => scheduler.stop());
      return { scheduler, storage };
    }

    it('refuses a bad policy naming the field, storing nothing', async () => {
      const { scheduler, storage } = await boot();
      for (const [field, policy] of BAD) {
        const error = await scheduler
          .addJob({ id: 'report', handlerName: 'report', interval: '1h', ...policy })
          .catch((err: unknown) => err);
        expect([field, error instanceof InvalidJobError]).toStrictEqual([field, true]);
        expect([field, (error as InvalidJobError).field]).toStrictEqual([field, field]);
      }
      expect(await storage.listJobs()).toStrictEqual([]);
    });

    it('stores a good policy and reads it back as given', async () => {
      const { scheduler, storage } = await boot();
      const job = await scheduler.addJob({
        id: 'report',
        handlerName: 'report',
        interval: '1h',
        timeout: '20m',
        retryDelay: '30s',
        backoff: 'exponential',
        maxRetryDelay: '10m',
        jitter: 0.25,
      });
      expect(job).toMatchObject({
        timeout: 1_200_000,
        retryDelay: 30_000,
        backoff: 'exponential',
        maxRetryDelay: 600_000,
        jitter: 0.25,
      });
      expect(await storage.getJob('report')).toStrictEqual(job);
    });
  };
  if (database === undefined) {
    // MemoryStorage needs no server.
    describeWithDatabase(TEST_DATABASES['sqlite-memory'], undefined, label, body);
  } else {
    describeWithDatabase(database, reason, label, body);
  }
}

describeJobPolicy('Per-job policy on MemoryStorage', undefined);
for (const database of [
  TEST_DATABASES['sqlite-file'],
  TEST_DATABASES.postgres,
  TEST_DATABASES.mariadb,
]) {
  describeJobPolicy(
    `Per-job policy on ${database.label}`,
    await unavailableReason(database),
    database,
  );
}
