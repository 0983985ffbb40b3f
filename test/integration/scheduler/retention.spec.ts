import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  removeSqliteFiles,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';
import { recordEvents, sleep, succeeded, waitFor } from './scheduler-on-database.js';

const KEEP = 3;

/**
 * History retention through the scheduler, per dialect: `historyRetention: { maxRunsPerJob: 3,
 * interval: '200ms' }` with interval jobs firing every 100 ms for about 1.5 s. The table never grows
 * past a few prune intervals' worth of runs per job, and once the jobs stop firing it holds exactly the
 * 3 newest runs of each.
 */
function describeRetention(database: TestDatabase, reason: string | undefined): void {
  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: history retention`,
    () => {
      let dataSource: DataSource;
      let scheduler: Scheduler | undefined;
      let tables: string[] = [];

      beforeAll(async () => {
        dataSource = await createTestDataSource(database);
      });

      afterEach(async () => {
        await scheduler?.stop();
        scheduler = undefined;
        await dropTables(dataSource, tables.splice(0));
      });

      afterAll(async () => {
        if (dataSource?.isInitialized) await dataSource.destroy();
        removeSqliteFiles();
      });

      for (const enableBatchUpdate of [false, true]) {
        it(`keeps the ${KEEP} newest runs of each job (enableBatchUpdate: ${enableBatchUpdate})`, async () => {
          const storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
          tables = tablesOf(storage);
          const s = new Scheduler(storage, {
            logger: new NopLogger(),
            historyRetention: { maxRunsPerJob: KEEP, interval: '200ms' },
            enableBatchUpdate,
            batchFlushInterval: '20ms',
          });
          scheduler = s;
          const events = recordEvents(s);
          s.registerHandlerFunc('tick', (_payload, ctx) => `tick ${ctx.run.id}`);
          const a = await s.addJob({ name: 'a', interval: '100ms', handlerName: 'tick' });
          const b = await s.addJob({ name: 'b', interval: '100ms', handlerName: 'tick' });
          await s.start();

          // While it runs: between two passes at most 2 more runs land per job, plus the one in
          // flight (and, batched, those still buffered); never the whole history.
          const peaks = { a: 0, b: 0 };
          const until = Date.now() + 1_500;
          while (Date.now() < until) {
            peaks.a = Math.max(peaks.a, await storage.getJobRunCount(a.id));
            peaks.b = Math.max(peaks.b, await storage.getJobRunCount(b.id));
            await sleep(25);
          }
          await s.pauseJob(a.id);
          await s.pauseJob(b.id);
          const ran = { a: succeeded(events, a.id).length, b: succeeded(events, b.id).length };
          expect(ran.a).toBeGreaterThanOrEqual(10);
          expect(ran.b).toBeGreaterThanOrEqual(10);
          expect(peaks.a).toBeLessThanOrEqual(KEEP + 4);
          expect(peaks.b).toBeLessThanOrEqual(KEEP + 4);

          // Stopped firing: once the runs in flight ended and, batched, their records were written,
          // the next passes leave exactly the newest 3 of each.
          await waitFor('the runs in flight to end and be written', () => {
            const m = s.metrics();
            return (
              m.runningNow === 0 &&
              m.runsStarted === m.runsSucceeded + m.runsFailed &&
              (m.batch === undefined || m.batch.pendingRuns + m.batch.pendingJobs === 0)
            );
          });
          for (const job of [a, b]) {
            await waitFor(`${job.name} to be pruned to ${KEEP} runs`, async () => {
              return (await storage.getJobRunCount(job.id)) === KEEP;
            });
            const kept = await storage.getRuns(job.id, 100);
            const newest = succeeded(events, job.id)
              .slice(-KEEP)
              .reverse()
              .map((e) => e.runId);
            expect(kept.map((run) => run.id)).toStrictEqual(newest);
            expect(kept.every((run) => run.status === 'success')).toBe(true);
          }
          await s.stop();
          // A pass after the stop would be a bug: nothing more goes.
          await sleep(300);
          expect(await storage.getJobRunCount(a.id)).toBe(KEEP);
          expect(await storage.getJobRunCount(b.id)).toBe(KEEP);
        });
      }
    },
  );
}

for (const database of [
  TEST_DATABASES.postgres,
  TEST_DATABASES.mariadb,
  TEST_DATABASES['sqlite-file'],
]) {
  describeRetention(database, await unavailableReason(database));
}
