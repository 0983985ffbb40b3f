import { afterEach, expect, it } from 'vitest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import type { HandlerFunc } from '../../../lib/interfaces/handler.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
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
import { recordEvents, succeeded, waitFor } from './scheduler-on-database.js';

/**
 * A second Scheduler on the same tables, in a new DataSource (a new process, as far as the database
 * can tell), sees the jobs and the run history of the first: after a clean stop(), and after a
 * process that died with a run in flight.
 */
function describeRestart(database: TestDatabase, reason: string | undefined): void {
  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: restart on the same tables`,
    () => {
      const cleanups: (() => Promise<void>)[] = [];

      afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
        removeSqliteFiles();
      });

      /** One "process": its own DataSource on the database, a storage and a scheduler on `prefix`. */
      async function boot(options: DataSourceOptions, prefix: string, handlers: HandlerFunc[]) {
        const dataSource = new DataSource(options);
        await dataSource.initialize();
        const storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        const scheduler = new Scheduler(storage, {
          logger: new NopLogger(),
          retryDelay: '100ms',
          shutdownTimeout: '200ms',
        });
        const [tick, once, hang] = handlers;
        scheduler.registerHandlerFunc('tick', tick ?? (() => 'tick'));
        scheduler.registerHandlerFunc('once', once ?? (() => 'once'));
        scheduler.registerHandlerFunc('hang', hang ?? (() => 'hang'));
        const events = recordEvents(scheduler);
        const down = async (): Promise<void> => {
          await scheduler.stop();
          if (dataSource.isInitialized) await dataSource.destroy();
        };
        cleanups.push(down);
        return { dataSource, storage, scheduler, events, down };
      }

      /** The options of one database, shared by both processes (one SQLite file), and its tables' cleanup. */
      function sharedDatabase(prefix: string): DataSourceOptions {
        const options = database.options();
        cleanups.unshift(async () => {
          if (!database.server) return;
          const admin = new DataSource(options);
          await admin.initialize();
          try {
            await dropTables(admin, [`${prefix}job_runs`, `${prefix}jobs`, `${prefix}job_leases`]);
          } finally {
            await admin.destroy();
          }
        });
        return options;
      }

      it('sees the jobs and their history after stop(), and goes on from there', async () => {
        const prefix = uniqueTablePrefix();
        const options = sharedDatabase(prefix);
        const first = await boot(options, prefix, []);
        const tick = await first.scheduler.addJob({
          name: 'tick',
          interval: '100ms',
          handlerName: 'tick',
          payload: { n: 1 },
        });
        const once = await first.scheduler.addJob({
          name: 'once',
          runAt: new Date(),
          handlerName: 'once',
          maxRetry: 1,
        });
        const cron = await first.scheduler.addJob({
          name: 'cron',
          cron: '0 0 3 * * *',
          timezone: 'Europe/Paris',
          handlerName: 'tick',
        });
        const paused = await first.scheduler.addJob({
          name: 'paused',
          interval: '100ms',
          handlerName: 'tick',
        });
        await first.scheduler.pauseJob(paused.id);
        await first.scheduler.start();
        await waitFor('3 ticks and the once job', () => {
          return (
            succeeded(first.events, tick.id).length >= 3 &&
            succeeded(first.events, once.id).length === 1
          );
        });
        await first.scheduler.stop();
        const jobsBefore = await first.storage.listJobs();
        const historyBefore = new Map<string, Run[]>();
        for (const job of jobsBefore) {
          historyBefore.set(job.id, await first.storage.getRuns(job.id, 1_000));
        }
        expect(historyBefore.get(tick.id)!.length).toBe(succeeded(first.events, tick.id).length);
        await first.down();

        const second = await boot(options, prefix, []);
        // Before it starts, it reads what the first one left.
        expect(await second.scheduler.listJobs()).toStrictEqual(jobsBefore);
        for (const job of jobsBefore) {
          expect(await second.scheduler.getRuns(job.id, 1_000)).toStrictEqual(
            historyBefore.get(job.id),
          );
        }
        expect(await second.scheduler.getJob(once.id)).toMatchObject({
          status: 'completed',
          lastResult: 'once',
        });
        expect(await second.scheduler.getJob(paused.id)).toMatchObject({ status: 'paused' });
        expect(await second.scheduler.getJob(cron.id)).toMatchObject({
          status: 'pending',
          cron: '0 0 3 * * *',
          timezone: 'Europe/Paris',
        });
        expect((await second.scheduler.getJob(tick.id)).payload).toStrictEqual({ n: 1 });

        await second.scheduler.start();
        await waitFor('3 more ticks', () => succeeded(second.events, tick.id).length >= 3);
        await second.scheduler.stop();
        const tickRuns = await second.storage.getRuns(tick.id, 1_000);
        const before = historyBefore.get(tick.id)!;
        expect(tickRuns.length).toBe(before.length + succeeded(second.events, tick.id).length);
        // The old history is still there, under the new runs.
        expect(tickRuns.slice(-before.length)).toStrictEqual(before);
        expect(tickRuns.every((run) => run.status === 'success')).toBe(true);
        // Finished and paused jobs did not run again.
        expect(await second.storage.getRuns(once.id, 10)).toHaveLength(1);
        expect(await second.storage.getRuns(paused.id, 10)).toHaveLength(0);
        expect(await second.storage.getRuns(cron.id, 10)).toHaveLength(0);
      });

      it('records failed a run left running by a process that died, then retries it per its policy', async () => {
        const prefix = uniqueTablePrefix();
        const options = sharedDatabase(prefix);
        let entered = false;
        // The first process's handler never ends on its own (it ends when aborted).
        const first = await boot(options, prefix, [
          undefined as unknown as HandlerFunc,
          (_payload, ctx) => {
            entered = true;
            return new Promise((_resolve, reject) => {
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            });
          },
        ]);
        const once = await first.scheduler.addJob({
          name: 'once',
          runAt: new Date(),
          handlerName: 'once',
          maxRetry: 1,
        });
        await first.scheduler.start();
        await waitFor('the run to start', () => entered);
        const [left] = await first.storage.getRuns(once.id, 1);
        expect(left).toMatchObject({ status: 'running' });
        // The process "dies": its storage is gone, it writes nothing more.
        await first.storage.close();

        const second = await boot(options, prefix, [
          undefined as unknown as HandlerFunc,
          () => 'ran again',
        ]);
        expect(await second.scheduler.getJob(once.id)).toMatchObject({ status: 'running' });
        await second.scheduler.start();
        await waitFor(
          'the job to run again',
          () => succeeded(second.events, once.id).length === 1,
          5_000,
        );
        await second.scheduler.stop();
        // The dead process's scheduler winds down; its closed storage takes no write.
        await first.down();

        const runs = await second.storage.getRuns(once.id, 10);
        expect(runs).toHaveLength(2);
        expect(runs[0]).toMatchObject({ status: 'success', output: 'ran again' });
        expect(runs[1]).toMatchObject({ id: left!.id, status: 'failed' });
        // Two records of one fire: the run again is another attempt of it.
        expect(runs[0]!.scheduledAt).toStrictEqual(runs[1]!.scheduledAt);
        expect([runs[1]!.attempt, runs[0]!.attempt]).toEqual([1, 2]);
        expect(runs[1]!.error).toMatch(/RunAbortedError: .*recovered at start/);
        expect(runs[1]!.endAt).not.toBeNull();
        expect(await second.storage.getJob(once.id)).toMatchObject({
          status: 'completed',
          lastResult: 'ran again',
        });
      });
    },
  );
}

for (const database of [TEST_DATABASES['sqlite-file'], TEST_DATABASES.postgres]) {
  describeRestart(database, await unavailableReason(database));
}
