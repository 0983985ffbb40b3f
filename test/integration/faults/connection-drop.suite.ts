import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import type { HandlerFunc } from '../../../lib/interfaces/handler.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';
import {
  recordEvents,
  runStatusCounts,
  succeeded,
  waitFor,
} from '../scheduler/scheduler-on-database.js';
import {
  openConnectionKiller,
  type ConnectionKiller,
} from '../../utils/chaos/connection-killer.js';
import { lockTable } from '../../utils/chaos/table-lock.js';

const OUTPUT = 'written after the connection came back';

/**
 * The whole Scheduler on a TypeOrmStorage whose server connections are killed from a second (admin)
 * connection: the run's result is written once the pool reconnects, no run is left `running`, and an
 * interval job keeps producing successful runs afterwards. With batching off and on.
 */
export async function describeConnectionDrop(database: TestDatabase): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(
    database,
    reason,
    `Scheduler on ${database.label}: storage connections killed`,
    () => {
      let admin: DataSource;
      let killer: ConnectionKiller | undefined;
      let scheduler: Scheduler | undefined;
      let unlock: (() => Promise<void>) | undefined;
      let tables: string[] = [];

      beforeAll(async () => {
        admin = await createTestDataSource(database);
      });

      afterEach(async () => {
        await unlock?.();
        unlock = undefined;
        await scheduler?.stop();
        scheduler = undefined;
        await killer?.dispose();
        killer = undefined;
        await dropTables(admin, tables.splice(0));
      });

      afterAll(async () => {
        if (admin?.isInitialized) await admin.destroy();
      });

      /**
       * A scheduler on a storage whose connections `killer` can end, with an interval job `tick`
       * (every 100 ms) and a once job `drop` (due in 300 ms) running `dropHandler`.
       */
      async function setUp(enableBatchUpdate: boolean, dropHandler: HandlerFunc) {
        killer = await openConnectionKiller(database, admin);
        const target = await killer.newDataSource();
        const prefix = uniqueTablePrefix();
        const storage = new TypeOrmStorage(target, { tablePrefix: prefix });
        tables = tablesOf(storage);
        // Reads the truth through the admin connection: nothing buffered answers.
        const observer = new TypeOrmStorage(admin, { tablePrefix: prefix });
        const logger = new NopLogger();
        const warn = vi.spyOn(logger, 'warn');
        const s = new Scheduler(storage, {
          logger,
          retryDelay: '100ms',
          shutdownTimeout: '5s',
          enableBatchUpdate,
          // Two records (a run's end and its job) flush at once: the flush follows the handler.
          batchSize: 2,
          batchFlushInterval: '50ms',
        });
        scheduler = s;
        const events = recordEvents(s);
        s.registerHandlerFunc('drop', dropHandler);
        s.registerHandlerFunc('tick', () => 'tick');
        const tick = await s.addJob({ name: 'tick', interval: '100ms', handlerName: 'tick' });
        const drop = await s.addJob({
          name: 'drop',
          runAt: new Date(Date.now() + 300),
          handlerName: 'drop',
        });
        return { scheduler: s, storage, observer, warn, events, tick, drop };
      }

      /** The drop run's result is in the table, no run is left running, the ticks went on. */
      async function expectRecovered(
        { scheduler: s, storage, observer, events, tick, drop }: Awaited<ReturnType<typeof setUp>>,
        since: () => number,
      ): Promise<void> {
        const ticksSince = (): number =>
          succeeded(events, tick.id).filter((e) => (e.run?.startAt.getTime() ?? 0) > since())
            .length;
        await waitFor('the drop run to succeed', () => succeeded(events, drop.id).length === 1);
        await waitFor('5 ticks after the connections were killed', () => ticksSince() >= 5);
        await waitFor('the drop run to be written', async () => {
          const [run] = await observer.getRuns(drop.id, 1);
          return run?.status === 'success';
        });
        await s.stop();

        const dropRuns = await observer.getRuns(drop.id, 10);
        expect(dropRuns).toHaveLength(1);
        expect(dropRuns[0]).toMatchObject({ status: 'success', output: OUTPUT, error: '' });
        expect(dropRuns[0]!.endAt).not.toBeNull();
        expect(await observer.getJob(drop.id)).toMatchObject({
          status: 'completed',
          lastResult: OUTPUT,
        });

        const tickRuns = await observer.getRuns(tick.id, 10_000);
        const after = tickRuns.filter((run) => run.startAt.getTime() > since());
        expect(after.length).toBeGreaterThanOrEqual(5);
        expect(after.every((run) => run.status === 'success' && run.output === 'tick')).toBe(true);
        // Every run the scheduler reported is in the table, and none is left running.
        expect(tickRuns.length).toBe(succeeded(events, tick.id).length);
        const counts = await runStatusCounts(admin, storage);
        expect(counts).toStrictEqual({ success: tickRuns.length + 1 });
        expect(s.metrics().runsFailed).toBe(0);
        expect(await observer.getJob(tick.id)).toMatchObject({ status: 'pending' });
      }

      /**
       * Whether a write of the scheduler failed and was retried: the fault log's warning begins an
       * episode, naming the first write that failed (this run's end, a tick's, or a batch).
       */
      function writeFailed(warn: { mock: { calls: unknown[][] } }): boolean {
        return warn.mock.calls.some(
          ([message]) => typeof message === 'string' && message.startsWith('Storage fault: '),
        );
      }

      for (const enableBatchUpdate of [false, true]) {
        it(`writes the result after a handler kills the connections, and keeps firing (enableBatchUpdate: ${enableBatchUpdate})`, async () => {
          let killed = -1;
          let killedAt = Infinity;
          const kill = (): Promise<number> => (killer as ConnectionKiller).kill();
          const context = await setUp(enableBatchUpdate, async () => {
            killed = await kill();
            killedAt = Date.now();
            return OUTPUT;
          });
          await context.scheduler.start();
          await expectRecovered(context, () => killedAt);
          expect(killed).toBeGreaterThan(0);
        });

        it(`writes the result after its write is cut in flight, and keeps firing (enableBatchUpdate: ${enableBatchUpdate})`, async () => {
          // The handler locks the run table: the run's end (and the ticks' writes) wait on the lock,
          // in flight, when their connections are killed; then the lock goes.
          let locked = false;
          const context = await setUp(enableBatchUpdate, async () => {
            unlock = await lockTable(admin, context.storage.runTableName);
            locked = true;
            return OUTPUT;
          });
          await context.scheduler.start();
          const active = killer as ConnectionKiller;
          await waitFor('the handler to lock the run table', () => locked);
          await waitFor('a write to wait on the lock', async () => (await active.blocked()) > 0);
          expect(await active.kill()).toBeGreaterThan(0);
          const killedAt = Date.now();
          await unlock?.();
          unlock = undefined;
          await expectRecovered(context, () => killedAt);
          expect(writeFailed(context.warn)).toBe(true);
        });
      }
    },
  );
}
