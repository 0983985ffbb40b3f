import { afterEach, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { JobAlreadyExistsError } from '../../../lib/errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import { Scheduler } from '../../../lib/scheduler.js';
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
import { recordEvents, sleep, succeeded, waitFor } from './scheduler-on-database.js';

/**
 * `addJob(definition, { manager })`: the job is written in the app's transaction, exists only if it
 * commits, and then fires on schedule within a second; a rolled-back job never fires.
 */
function describeTransactionalAdd(database: TestDatabase, reason: string | undefined): void {
  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: addJob in the app's transaction`,
    () => {
      const cleanups: (() => Promise<void>)[] = [];

      afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
        removeSqliteFiles();
      });

      /** A DataSource, an app table `orders`, and a started scheduler whose `welcome` handler records its fires. */
      async function boot() {
        const prefix = uniqueTablePrefix();
        const dataSource = new DataSource(database.options());
        await dataSource.initialize();
        const orders = `${prefix}orders`;
        await dataSource.query(`CREATE TABLE ${orders} (id VARCHAR(64) PRIMARY KEY)`);
        const storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        const scheduler = new Scheduler(storage, { logger: new NopLogger() });
        const fired: { id: string; at: number }[] = [];
        scheduler.registerHandlerFunc('welcome', (_payload, ctx) => {
          fired.push({ id: ctx.job.id, at: Date.now() });
          return 'sent';
        });
        const events = recordEvents(scheduler);
        await scheduler.start();
        cleanups.push(async () => {
          await scheduler.stop();
          await dropTables(dataSource, [
            `${prefix}job_runs`,
            `${prefix}jobs`,
            `${prefix}job_leases`,
            orders,
          ]);
          await dataSource.destroy();
        });
        const orderCount = async (): Promise<number> =>
          Number((await dataSource.query(`SELECT COUNT(*) AS n FROM ${orders}`))[0].n);
        return { prefix, dataSource, orders, storage, scheduler, fired, events, orderCount };
      }

      it('writes the job in the transaction; once it commits, the job fires within a second', async () => {
        const app = await boot();
        let committedAt = 0;
        const job = await app.dataSource.transaction(async (manager) => {
          await manager.query(`INSERT INTO ${app.orders} (id) VALUES ('order-1')`);
          const added = await app.scheduler.addJob(
            {
              id: 'welcome-order-1',
              handlerName: 'welcome',
              runAt: Date.now(),
              payload: { order: 1 },
            },
            { manager },
          );
          if (database.server) {
            // Not visible outside the transaction yet, and not scheduled.
            expect(await app.storage.getJob(added.id)).toBeNull();
          }
          await sleep(300);
          expect(app.fired).toStrictEqual([]);
          expect(app.events.filter((e) => e.type === 'job.added')).toStrictEqual([]);
          committedAt = Date.now();
          return added;
        });
        await waitFor('the job to fire after the commit', () => app.fired.length === 1, 3_000);
        expect(app.fired[0]!.id).toBe(job.id);
        expect(app.fired[0]!.at - committedAt).toBeLessThan(1_000);
        await waitFor('its run to be recorded', () => succeeded(app.events, job.id).length === 1);
        expect(app.events.filter((e) => e.type === 'job.added').map((e) => e.jobId)).toStrictEqual([
          job.id,
        ]);
        expect(await app.orderCount()).toBe(1);
        const runs = await app.scheduler.findRuns({ jobId: job.id });
        expect(runs.items.map((run) => run.status)).toStrictEqual(['success']);
      });

      it('leaves nothing when the transaction rolls back: no job, no fire, no event', async () => {
        const app = await boot();
        const failure = new Error('payment declined');
        let jobId = '';
        await expect(
          app.dataSource.transaction(async (manager) => {
            await manager.query(`INSERT INTO ${app.orders} (id) VALUES ('order-2')`);
            jobId = (
              await app.scheduler.addJob({ handlerName: 'welcome', runAt: Date.now() }, { manager })
            ).id;
            await sleep(300); // the watch looks at the open transaction a few times first
            throw failure;
          }),
        ).rejects.toBe(failure);
        await sleep(1_500);
        expect(app.fired).toStrictEqual([]);
        expect(app.events).toStrictEqual([]);
        expect(await app.storage.getJob(jobId)).toBeNull();
        await expect(app.scheduler.getJob(jobId)).rejects.toBeInstanceOf(JobNotFoundError);
        expect(await app.orderCount()).toBe(0);
        expect(app.scheduler.metrics().scheduledJobs).toBe(0);
      });

      it('refuses a taken id with JobAlreadyExistsError, and the transaction goes on and commits', async () => {
        const app = await boot();
        await app.scheduler.addJob({ id: 'taken', handlerName: 'welcome', interval: '1h' });
        await app.dataSource.transaction(async (manager) => {
          await expect(
            app.scheduler.addJob(
              { id: 'taken', handlerName: 'welcome', runAt: Date.now() },
              { manager },
            ),
          ).rejects.toBeInstanceOf(JobAlreadyExistsError);
          await manager.query(`INSERT INTO ${app.orders} (id) VALUES ('order-3')`);
        });
        expect(await app.orderCount()).toBe(1);
        expect((await app.scheduler.getJob('taken')).type).toBe('interval');
      });

      it('writes at once through a manager outside any transaction', async () => {
        const app = await boot();
        const job = await app.scheduler.addJob(
          { handlerName: 'welcome', runAt: Date.now() },
          { manager: app.dataSource.manager },
        );
        await waitFor('the job to fire', () => app.fired.length === 1, 3_000);
        expect(app.fired[0]!.id).toBe(job.id);
      });

      it('refuses a manager of another DataSource, or one that is not a manager, storing nothing', async () => {
        const app = await boot();
        const other = new DataSource(database.options());
        await other.initialize();
        try {
          await other.transaction(async (manager) => {
            await expect(
              app.scheduler.addJob(
                { id: 'elsewhere', handlerName: 'welcome', runAt: Date.now() },
                { manager },
              ),
            ).rejects.toBeInstanceOf(InvalidOptionsError);
          });
        } finally {
          await other.destroy();
        }
        for (const manager of [{}, 'manager', 42]) {
          const error = await app.scheduler
            .addJob(
              { id: 'elsewhere', handlerName: 'welcome', runAt: Date.now() },
              { manager: manager as object },
            )
            .catch((err: unknown) => err);
          expect(error).toBeInstanceOf(InvalidOptionsError);
          expect((error as InvalidOptionsError).option).toBe('manager');
        }
        expect(await app.storage.getJob('elsewhere')).toBeNull();
      });
    },
  );
}

for (const database of [
  TEST_DATABASES['sqlite-file'],
  TEST_DATABASES.postgres,
  TEST_DATABASES.mariadb,
]) {
  describeTransactionalAdd(database, await unavailableReason(database));
}
