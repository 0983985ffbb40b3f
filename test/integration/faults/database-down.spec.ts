import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { StorageUnavailableError } from '../../../lib/errors/storage-unavailable.error.js';
import { SchedulerNotStartedError } from '../../../lib/errors/scheduler-not-started.error.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  removeSqliteFiles,
  closedPort,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
  urlOf,
  type TestDatabase,
} from '../../utils/databases.js';
import { recordEvents, sleep, succeeded, waitFor } from '../scheduler/scheduler-on-database.js';
import { FaultProxy } from '../../utils/chaos/fault-proxy.js';

/**
 * `scheduler.start()` with the database down: it rejects with an error that says what is wrong, leaves
 * the scheduler stopped (a later `start()` works), and nothing rejects unhandled.
 */
const unhandled = vi.fn();
const uncaught = vi.fn();
let scheduler: Scheduler | undefined;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  unhandled.mockReset();
  uncaught.mockReset();
  process.on('unhandledRejection', unhandled);
  process.on('uncaughtException', uncaught);
});

afterEach(async () => {
  try {
    await scheduler?.stop();
    scheduler = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  } finally {
    process.off('unhandledRejection', unhandled);
    process.off('uncaughtException', uncaught);
    removeSqliteFiles();
  }
});

/** The URL with its host and port replaced by 127.0.0.1:`port`. */
function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

/** Lets stray rejections and errors surface, then checks that there were none. */
async function expectNothingUnhandled(): Promise<void> {
  await sleep(300);
  expect(unhandled).not.toHaveBeenCalled();
  expect(uncaught).not.toHaveBeenCalled();
}

function newScheduler(storage: TypeOrmStorage, enableBatchUpdate: boolean): Scheduler {
  scheduler = new Scheduler(storage, {
    logger: new NopLogger(),
    enableBatchUpdate,
    batchFlushInterval: '50ms',
  });
  scheduler.registerHandlerFunc('work', () => 'done');
  return scheduler;
}

function describeNotInitialized(database: TestDatabase, reason: string | undefined): void {
  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: a DataSource that is not initialised`,
    () => {
      for (const enableBatchUpdate of [false, true]) {
        it(`start() rejects naming the DataSource and how to fix it (enableBatchUpdate: ${enableBatchUpdate})`, async () => {
          const dataSource = new DataSource(database.options());
          const s = newScheduler(
            new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() }),
            enableBatchUpdate,
          );
          const error: unknown = await s.start().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(StorageUnavailableError);
          expect((error as Error).cause).toBeInstanceOf(InvalidOptionsError);
          expect((error as Error).message).toMatch(/not initialized/);
          expect((error as Error).message).toMatch(/dataSource\.initialize\(\)/);
          expect(s.isStarted()).toBe(false);
          await expectNothingUnhandled();
        });
      }
    },
  );
}

function describeServerDown(database: TestDatabase, reason: string | undefined): void {
  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: the server is down at start`,
    () => {
      it('start() rejects when the DataSource points to a closed port (it could not initialise)', async () => {
        const port = await closedPort();
        const timeouts =
          database.kind === 'postgres' ? { connectTimeoutMS: 2_000 } : { connectTimeout: 2_000 };
        const dataSource = new DataSource(
          database.options({
            url: withPort(urlOf(database), port),
            ...timeouts,
          } as Partial<DataSourceOptions>),
        );
        const initError: unknown = await dataSource.initialize().catch((e: unknown) => e);
        expect(String(initError)).toMatch(/ECONNREFUSED/);
        expect(dataSource.isInitialized).toBe(false);
        const s = newScheduler(new TypeOrmStorage(dataSource), false);
        const error: unknown = await s.start().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageUnavailableError);
        expect((error as Error).cause).toBeInstanceOf(InvalidOptionsError);
        expect((error as Error).message).toMatch(/not initialized/);
        expect(s.isStarted()).toBe(false);
        await expectNothingUnhandled();
      });

      for (const enableBatchUpdate of [false, true]) {
        it(`start() rejects with the connection error when the server went away, and starts once it is back (enableBatchUpdate: ${enableBatchUpdate})`, async () => {
          const proxy = await FaultProxy.to(urlOf(database));
          const dataSource = await createTestDataSource(database, {
            url: proxy.urlFor(urlOf(database)),
          } as Partial<DataSourceOptions>);
          const storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
          cleanups.push(async () => {
            await proxy.pass();
            await dropTables(dataSource, [
              storage.runTableName,
              storage.jobTableName,
              storage.leaseTableName,
            ]);
            await dataSource.destroy();
            await proxy.close();
          });
          const s = newScheduler(storage, enableBatchUpdate);
          const events = recordEvents(s);
          const job = await s.addJob({ runAt: new Date(), handlerName: 'work' });

          await proxy.refuse();
          const error: unknown = await s.start().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(StorageUnavailableError);
          // The pool's idle connections were cut (the driver says so when it next uses one), and
          // new ones are refused.
          expect((error as Error).message).toMatch(
            new RegExp(
              `ECONNREFUSED 127\\.0\\.0\\.1:${proxy.port}|Connection terminated unexpectedly|Connection lost`,
            ),
          );
          expect(s.isStarted()).toBe(false);
          await expect(s.triggerJob(job.id)).rejects.toBeInstanceOf(SchedulerNotStartedError);
          await expectNothingUnhandled();

          await proxy.pass();
          await s.start();
          await waitFor('the due job to run', () => succeeded(events, job.id).length === 1);
          await s.stop();
          expect(await storage.getRuns(job.id, 10)).toMatchObject([
            { status: 'success', output: 'done' },
          ]);
          expect(await storage.getJob(job.id)).toMatchObject({ status: 'completed' });
          await expectNothingUnhandled();
        });
      }
    },
  );
}

for (const database of [TEST_DATABASES.postgres, TEST_DATABASES.mariadb]) {
  const reason = await unavailableReason(database);
  describeNotInitialized(database, reason);
  describeServerDown(database, reason);
}
describeNotInitialized(TEST_DATABASES['sqlite-file'], undefined);
