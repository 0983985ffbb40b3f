/**
 * Cluster mode on a real database, with several scheduler instances in this one process: each has
 * its own DataSource (its own connection pool) and its own TypeOrmStorage on the same tables. Real
 * time, short timings (lease 1.5 s, heartbeat 300 ms, poll 200 ms).
 *
 * The scenarios of `test/unit/core/scheduler-cluster.spec.ts` (on an in-memory fake) that depend on
 * the database itself: conditional writes, fencing of a lost run, misfires after a full outage, and
 * leases timed by the database's clock. An instance can be "cut" from its storage like behind a
 * network partition: each call it makes then hangs until the partition heals, and fails then (as on
 * a connection reset), so nothing it asked for while cut ever reaches the database. (Not hung for
 * good, as in the unit test: a lease renewal that lands just before the cut is followed by the
 * look for lost instances' jobs, whose calls have no time-out, and the heartbeat waits for it.)
 */
import { afterAll, afterEach, beforeAll, expect, it, vi, type MockInstance } from 'vitest';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import type { HandlerFunc } from '../../../lib/interfaces/handler.interface.js';
import type { JobEvent } from '../../../lib/interfaces/job-event.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/typeorm.storage.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';
import { deferred } from '../../utils/scheduler-harness.js';
import { recordEvents, sleep, waitFor } from '../scheduler/scheduler-on-database.js';

const LEASE_TTL_MS = 1_500;
const HEARTBEAT_MS = 300;
const POLL_MS = 200;
const RETRY_DELAY_MS = 300;
const SHUTDOWN_TIMEOUT_MS = 2_000;
/** How long afterEach waits for an instance's stop before destroying its DataSource anyway. */
const STOP_WAIT_MS = 6_000;
const HOUR_MS = 3_600_000;

/** One scheduler instance of the cluster, in this process. */
interface Instance {
  readonly name: string;
  readonly dataSource: DataSource;
  /** Its storage (the scheduler reaches it through a view that `cut` can partition). */
  readonly storage: TypeOrmStorage;
  readonly scheduler: Scheduler;
  /** Its events, in order. */
  readonly events: JobEvent[];
  /** Every storage call hangs from now on (a network partition). */
  cut(): void;
  /** The partition heals: calls go through again; the calls that hung fail. */
  heal(): void;
}

/** What an instance did about the fires of its jobs (each fire counts in one of them). */
interface FireActivity {
  runsStarted: number;
  firesClaimedElsewhere: number;
  firesSkipped: number;
  firesDeferred: number;
}

/** Thrown into the calls an instance made while it was cut, when the partition heals. */
class PartitionError extends Error {
  constructor(method: string) {
    super(`${method}: the connection was reset (network partition)`);
    this.name = 'PartitionError';
  }
}

export async function describeClusterInProcess(database: TestDatabase): Promise<void> {
  const reason = await unavailableReason(database);
  const isPostgres = database.options().type === 'postgres';

  describeWithDatabase(
    database,
    reason,
    `Cluster mode on ${database.label}: instances in one process, each with its own DataSource`,
    () => {
      /** Reads the truth, by its own connections: creates the tables, drops them after each test. */
      let admin: DataSource;
      let instances: Instance[] = [];
      let observers: TypeOrmStorage[] = [];
      /** Gates of handlers, opened in afterEach so that no handler is left waiting. */
      let gates: (() => void)[] = [];
      let clock: MockInstance<() => number> | undefined;

      beforeAll(async () => {
        admin = await createTestDataSource(database);
      });

      afterEach(async () => {
        clock?.mockRestore();
        clock = undefined;
        const all = instances.splice(0);
        for (const instance of all) instance.heal();
        for (const open of gates.splice(0)) open();
        await Promise.all(
          all.map(async (instance) => {
            let timer: ReturnType<typeof setTimeout> | undefined;
            const stopped = await Promise.race([
              instance.scheduler.stop().then(
                () => true,
                () => true,
              ),
              new Promise<boolean>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS, false))),
            ]);
            clearTimeout(timer);
            if (!stopped) {
              console.warn(
                `[${database.label}] instance ${instance.name} did not stop within ${STOP_WAIT_MS} ms; its DataSource is destroyed anyway`,
              );
            }
            if (instance.dataSource.isInitialized) {
              await instance.dataSource.destroy().catch(() => undefined);
            }
          }),
        );
        await dropTables(admin, observers.splice(0).flatMap(tablesOf));
      });

      afterAll(async () => {
        if (admin?.isInitialized) await admin.destroy();
      });

      /** New tables for a test (created now), read through the admin DataSource. */
      async function tables(): Promise<{ prefix: string; observer: TypeOrmStorage }> {
        const prefix = uniqueTablePrefix();
        const observer = new TypeOrmStorage(admin, { tablePrefix: prefix });
        observers.push(observer);
        await observer.initialize();
        return { prefix, observer };
      }

      /**
       * An instance (not started) on the tables of `prefix`, with its own DataSource; its handler
       * `work` returns the instance's name unless `work` is given.
       */
      async function instance(name: string, prefix: string, work?: HandlerFunc) {
        const dataSource = await createTestDataSource(database);
        const storage = new TypeOrmStorage(dataSource, { tablePrefix: prefix });
        let cut = false;
        let hung: (() => void)[] = [];
        const view = new Proxy(storage, {
          get(target, key) {
            const value = Reflect.get(target, key) as unknown;
            // clusterUnsupportedReason() is synchronous (and asked once, by the constructor).
            if (typeof value !== 'function' || key === 'clusterUnsupportedReason') return value;
            return (...args: unknown[]) => {
              if (!cut) return (value as (...a: unknown[]) => unknown).apply(target, args);
              return new Promise((_, reject) =>
                hung.push(() => reject(new PartitionError(String(key)))),
              );
            };
          },
        });
        let scheduler: Scheduler;
        try {
          scheduler = new Scheduler(view, {
            logger: new NopLogger(),
            cluster: {
              instanceId: name,
              leaseTtl: `${LEASE_TTL_MS}ms`,
              heartbeatInterval: `${HEARTBEAT_MS}ms`,
              pollInterval: `${POLL_MS}ms`,
            },
            retryDelay: `${RETRY_DELAY_MS}ms`,
            shutdownTimeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s`,
          });
          scheduler.registerHandlerFunc('work', work ?? (() => name));
        } catch (error) {
          await dataSource.destroy();
          throw error;
        }
        const made: Instance = {
          name,
          dataSource,
          storage,
          scheduler,
          events: recordEvents(scheduler),
          cut: () => {
            cut = true;
          },
          heal: () => {
            cut = false;
            const calls = hung;
            hung = [];
            for (const fail of calls) fail();
          },
        };
        instances.push(made);
        return made;
      }

      const q = (name: string): string => admin.driver.escape(name);
      const param = (n: number): string => (isPostgres ? `$${n}` : '?');

      /** Instance `a`, whose handler waits for `gate` (opened in afterEach if not before). */
      async function gatedInstance(prefix: string) {
        const gate = deferred();
        gates.push(() => gate.resolve());
        const a = await instance('a', prefix, async () => {
          await gate.promise;
          return 'a';
        });
        return { a, gate };
      }

      /**
       * Records each write of a run's end the storage is asked for (finishRunsAndReleaseJobs on
       * PostgreSQL, batched: each end and its job in one statement; finishRun elsewhere), with
       * whether it wrote the run's end.
       */
      function watchEndWrites(
        storage: TypeOrmStorage,
      ): Array<{ runId: string; finished: Promise<boolean> }> {
        const endWrites: Array<{ runId: string; finished: Promise<boolean> }> = [];
        const batched = storage.finishRunsAndReleaseJobs;
        if (batched !== undefined) {
          Object.assign(storage, {
            finishRunsAndReleaseJobs: (ends: Parameters<typeof batched>[0]) => {
              const outcomes = batched(ends);
              ends.forEach((end, i) =>
                endWrites.push({
                  runId: end.run.id,
                  finished: outcomes.then((o) => o[i]?.finished === true),
                }),
              );
              return outcomes;
            },
          });
        } else {
          const finishRun = storage.finishRun.bind(storage);
          Object.assign(storage, {
            finishRun: (run: Run) => {
              const finished = finishRun(run);
              endWrites.push({ runId: run.id, finished });
              return finished;
            },
          });
        }
        return endWrites;
      }

      /** How many rows of the run table belong to a job (plain SQL). */
      async function runRowCount(observer: TypeOrmStorage, jobId: string): Promise<number> {
        const [row] = (await admin.query(
          `SELECT COUNT(*) AS ${q('n')} FROM ${q(observer.runTableName)} WHERE ${q('job_id')} = ${param(1)}`,
          [jobId],
        )) as { n: unknown }[];
        return Number(row?.n);
      }

      /** A job row's claim (plain SQL); undefined when the row is gone. */
      async function claimOf(
        observer: TypeOrmStorage,
        jobId: string,
      ): Promise<string | null | undefined> {
        const rows = (await admin.query(
          `SELECT ${q('claimed_by')} AS ${q('claim')} FROM ${q(observer.jobTableName)} WHERE ${q('id')} = ${param(1)}`,
          [jobId],
        )) as { claim: string | null }[];
        return rows.length === 0 ? undefined : rows[0]!.claim;
      }

      /** Fires recorded more than once (the unique key should make this impossible). */
      async function duplicateFires(observer: TypeOrmStorage): Promise<unknown[]> {
        return (await admin.query(
          `SELECT ${q('job_id')}, ${q('scheduled_at')}, ${q('attempt')}, COUNT(*) AS ${q('n')} FROM ${q(observer.runTableName)}
           GROUP BY ${q('job_id')}, ${q('scheduled_at')}, ${q('attempt')} HAVING COUNT(*) > 1`,
        )) as unknown[];
      }

      /** Every stored run of a job, oldest fire first. */
      async function runsOf(observer: TypeOrmStorage, jobId: string): Promise<Run[]> {
        return (await observer.getRuns(jobId, 10_000)).sort(
          (x, y) => x.scheduledAt.getTime() - y.scheduledAt.getTime() || x.attempt - y.attempt,
        );
      }

      function activity(instance: Instance): FireActivity {
        const { runsStarted, firesClaimedElsewhere, firesSkipped, firesDeferred } =
          instance.scheduler.metrics();
        return { runsStarted, firesClaimedElsewhere, firesSkipped, firesDeferred };
      }

      /** The fires an instance took up: ran, lost to another, skipped, or left to the one preferred. */
      const took = (instance: Instance): number => {
        const a = activity(instance);
        return a.runsStarted + a.firesClaimedElsewhere + a.firesSkipped + a.firesDeferred;
      };

      /** The fires missed (and not run) by these instances so far. */
      function firesMissed(of: readonly Instance[]): number {
        return of.reduce((sum, instance) => sum + instance.scheduler.metrics().firesMissed, 0);
      }

      /** The runs of a job reported started (by `run.started`) by these instances since `since`. */
      function startedSince(of: readonly Instance[], jobId: string, since: number): string[] {
        return of.flatMap((instance) =>
          instance.events
            .filter(
              (e) =>
                e.type === 'run.started' &&
                e.jobId === jobId &&
                (e.run?.startAt.getTime() ?? 0) >= since,
            )
            .map((e) => `${instance.name}: ${e.runId} at ${e.run?.startAt.toISOString()}`),
        );
      }

      it('takes in a job added, paused, resumed and removed on another instance within pollInterval', async () => {
        const { prefix, observer } = await tables();
        const a = await instance('a', prefix);
        const b = await instance('b', prefix);
        await Promise.all([a.scheduler.start(), b.scheduler.start()]);
        const both = [a, b];

        // Added on a: it runs, and b (which read it from the table) takes part in its fires.
        const job = await a.scheduler.addJob({
          id: 'shared',
          name: 'shared',
          type: 'interval',
          interval: '1s',
          handlerName: 'work',
          maxRetry: 0,
        });
        await waitFor(
          'two successful runs, and both instances taking part in the fires',
          async () =>
            (await observer.getRuns(job.id, 100)).filter((run) => run.status === 'success')
              .length >= 2 &&
            took(a) > 0 &&
            took(b) > 0,
          6_000,
          50,
        );
        const ranOn = new Set((await observer.getRuns(job.id, 100)).map((run) => run.output));
        expect([...ranOn].every((name) => name === 'a' || name === 'b')).toBe(true);

        // Paused on b: no run starts after the pause; a stops firing it within pollInterval.
        await b.scheduler.pauseJob(job.id);
        const pausedAt = Date.now();
        await sleep(POLL_MS + 400);
        const aWhilePaused = activity(a);
        const bWhilePaused = activity(b);
        await sleep(1_200); // a fire instant of the job (every second) falls in here
        const runsAfterPause = (await observer.getRuns(job.id, 100)).filter(
          (run) => run.startAt.getTime() >= pausedAt,
        );
        expect(runsAfterPause).toStrictEqual([]);
        expect(startedSince(both, job.id, pausedAt)).toStrictEqual([]);
        // Had a not taken the pause in, its fire would have been tried (lost, or left to b).
        expect(activity(a)).toStrictEqual(aWhilePaused);
        expect(activity(b)).toStrictEqual(bWhilePaused);
        expect((await a.scheduler.getJob(job.id)).status).toBe('paused');
        expect((await observer.getJob(job.id))?.nextRunAt).toBeNull();

        // Resumed on a: it runs again, and b takes part again.
        const bBeforeResume = took(b);
        await a.scheduler.resumeJob(job.id);
        const resumedAt = Date.now();
        await waitFor(
          'a successful run after the resume, and b taking part in the fires again',
          async () =>
            (await observer.getRuns(job.id, 100)).some(
              (run) => run.startAt.getTime() >= resumedAt && run.status === 'success',
            ) && took(b) > bBeforeResume,
          6_000,
          50,
        );
        expect((await b.scheduler.getJob(job.id)).status).not.toBe('paused');

        // Removed on b: its runs go with it, and no instance ever runs it again.
        expect(await runRowCount(observer, job.id)).toBeGreaterThan(0);
        await b.scheduler.removeJob(job.id);
        const removedAt = Date.now();
        await sleep(POLL_MS + 400);
        const aAfterRemoval = activity(a);
        const bAfterRemoval = activity(b);
        await sleep(2_000 - POLL_MS - 400);
        expect(await runRowCount(observer, job.id)).toBe(0);
        expect(await claimOf(observer, job.id)).toBeUndefined();
        expect(startedSince(both, job.id, removedAt)).toStrictEqual([]);
        // A fire of it still booked on a would have been tried (a claim on a missing row).
        expect(activity(a)).toStrictEqual(aAfterRemoval);
        expect(activity(b)).toStrictEqual(bAfterRemoval);
        await expect(a.scheduler.getJob(job.id)).rejects.toThrow(JobNotFoundError);
        expect(await duplicateFires(observer)).toStrictEqual([]);
      });

      it('records the run of a cut-off instance lost once its lease expires, retries it elsewhere, and fences its late end', async () => {
        const { prefix, observer } = await tables();
        const { a, gate } = await gatedInstance(prefix);
        const b = await instance('b', prefix);
        await Promise.all([a.scheduler.start(), b.scheduler.start()]);
        const job = await a.scheduler.addJob({
          id: 'fenced',
          name: 'fenced',
          type: 'interval',
          interval: '1h',
          handlerName: 'work',
          maxRetry: 1,
        });
        await a.scheduler.triggerJob(job.id);
        let lostRun: Run | undefined;
        await waitFor('the run on a to be recorded running', async () => {
          lostRun = (await observer.getRuns(job.id, 10)).find((run) => run.status === 'running');
          return lostRun !== undefined;
        });
        expect(lostRun).toMatchObject({ attempt: 1 });
        expect(a.events.some((e) => e.type === 'run.started' && e.runId === lostRun!.id)).toBe(
          true,
        );
        expect(await claimOf(observer, job.id)).toMatch(/^a#/);
        const oldLease = (await a.scheduler.health()).cluster?.leaseId;
        expect(oldLease).toMatch(/^a#[0-9a-f]+$/);
        // a's writes of a run's end, each with whether it wrote the run's end.
        const endWrites = watchEndWrites(a.storage);

        a.cut();
        const cutAt = Date.now();
        let recorded: Run | undefined;
        await waitFor(
          'the run of a to be recorded ended',
          async () => {
            recorded = (await observer.getRuns(job.id, 10)).find(
              (run) => run.id === lostRun!.id && run.status !== 'running',
            );
            return recorded !== undefined;
          },
          LEASE_TTL_MS + HEARTBEAT_MS + 1_200,
          25,
        );
        const lostAfter = Date.now() - cutAt;
        expect(recorded).toMatchObject({ status: 'failed', attempt: 1 });
        expect(recorded!.error).toMatch(/InstanceLostError/);
        expect(recorded!.error).toContain(`lease ${oldLease}`);
        expect(recorded!.error).toMatch(/recorded by b#/);
        expect(recorded!.endAt).not.toBeNull();
        // Not before the lease could have expired: a was renewing it until the cut.
        expect(lostAfter).toBeGreaterThanOrEqual(LEASE_TTL_MS - HEARTBEAT_MS - 150);
        // b emits the event once it has also released the job (the row above is written first).
        await waitFor('b to report the lost run failed', () =>
          b.events.some((e) => e.type === 'run.failed' && e.runId === lostRun!.id),
        );

        // Retried on b: attempt 2 of the same fire, per maxRetry.
        let retry: Run | undefined;
        await waitFor('the retry to succeed on b', async () => {
          retry = (await observer.getRuns(job.id, 10)).find(
            (run) => run.attempt === 2 && run.status === 'success',
          );
          return retry !== undefined;
        });
        expect(retry).toMatchObject({ output: 'b', error: '' });
        expect(retry!.scheduledAt.getTime()).toBe(lostRun!.scheduledAt.getTime());
        expect(b.events.some((e) => e.type === 'run.started' && e.runId === retry!.id)).toBe(true);
        await waitFor(
          'b to write the job after its run',
          async () =>
            (await observer.getJob(job.id))?.lastResult === 'b' &&
            (await claimOf(observer, job.id)) === null,
        );
        const jobAfterB = await observer.getJob(job.id);
        expect(jobAfterB).toMatchObject({ status: 'pending', retryCount: 0, lastResult: 'b' });
        expect(jobAfterB!.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + HOUR_MS - 60_000);
        expect(endWrites).toStrictEqual([]);

        // a comes back and its handler ends: its end is not written over what b recorded.
        a.heal();
        gate.resolve();
        await waitFor('the handler on a to end and a to try to record it', () =>
          endWrites.some((write) => write.runId === lostRun!.id),
        );
        const lateEnds = endWrites.filter((write) => write.runId === lostRun!.id);
        expect(lateEnds).toHaveLength(1);
        expect(await lateEnds[0]!.finished).toBe(false);
        // The fenced end is no outcome event on a (the stored record says lost).
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(a.events.filter((e) => e.runId === lostRun!.id).map((e) => e.type)).toStrictEqual([
          'run.started',
        ]);
        const runs = await runsOf(observer, job.id);
        expect(runs).toHaveLength(2);
        expect(runs.find((run) => run.id === lostRun!.id)).toStrictEqual(recorded);
        expect(runs.find((run) => run.id === retry!.id)).toStrictEqual(retry);
        expect(await observer.getJob(job.id)).toStrictEqual(jobAfterB);
        expect(await claimOf(observer, job.id)).toBeNull();

        // a takes a new lease and goes on as a member.
        await waitFor(
          'a to hold a new valid lease',
          async () => {
            const cluster = (await a.scheduler.health()).cluster;
            return cluster?.leaseValid === true && cluster.leaseId !== oldLease;
          },
          HEARTBEAT_MS * 3 + 1_500,
          50,
        );
        const newLease = (await a.scheduler.health()).cluster?.leaseId;
        expect(newLease).toMatch(/^a#[0-9a-f]+$/);
        const leases = await observer.listLeases();
        expect(leases.map((lease) => lease.instanceId).sort()).toStrictEqual(['a', 'b']);
        expect(leases.map((lease) => lease.id)).toContain(newLease);
        expect(leases.map((lease) => lease.id)).not.toContain(oldLease);
        expect(await duplicateFires(observer)).toStrictEqual([]);
      });

      it('a lease lost mid-batch: each run of the cut-off instance is recorded lost and retried elsewhere, and its late ends are all refused', async () => {
        const { prefix, observer } = await tables();
        const { a, gate } = await gatedInstance(prefix);
        await a.scheduler.start();
        // Four: within the default concurrentRuns (5), so that all run at once.
        const ids = ['m-1', 'm-2', 'm-3', 'm-4'];
        for (const id of ids) {
          await a.scheduler.addJob({
            id,
            name: id,
            type: 'interval',
            interval: '1h',
            handlerName: 'work',
            maxRetry: 1,
          });
        }
        // Triggered in one turn: a claims and records them together (one statement each on PostgreSQL).
        await Promise.all(ids.map((id) => a.scheduler.triggerJob(id)));
        let lost: Run[] = [];
        await waitFor('the runs on a to be recorded running', async () => {
          lost = (await Promise.all(ids.map((id) => observer.getRuns(id, 10))))
            .flat()
            .filter((run) => run.status === 'running');
          return lost.length === ids.length;
        });
        // b joins once a holds them all (every instance tries a trigger: b would have run some).
        const b = await instance('b', prefix);
        await b.scheduler.start();
        const endWrites = watchEndWrites(a.storage);

        a.cut();
        // b records every run of a's batch lost once a's lease expires, and retries each one.
        await waitFor(
          'every run of a to be recorded lost and retried on b',
          async () => {
            const runs = (await Promise.all(ids.map((id) => runsOf(observer, id)))).flat();
            return (
              lost.every((l) => runs.some((r) => r.id === l.id && r.status === 'failed')) &&
              ids.every((id) =>
                runs.some((r) => r.jobId === id && r.attempt === 2 && r.status === 'success'),
              )
            );
          },
          LEASE_TTL_MS + HEARTBEAT_MS + 4_000,
          50,
        );
        const recorded = new Map<string, Run>();
        for (const id of ids)
          for (const run of await runsOf(observer, id)) recorded.set(run.id, run);
        for (const run of lost) {
          expect(recorded.get(run.id)).toMatchObject({ status: 'failed', attempt: 1 });
          expect(recorded.get(run.id)!.error).toMatch(/InstanceLostError/);
        }
        await waitFor('b to release every job', async () =>
          (await Promise.all(ids.map((id) => claimOf(observer, id)))).every((c) => c === null),
        );
        expect(endWrites).toStrictEqual([]);

        // a comes back, its handlers end: every late end is refused, and nothing stored changes.
        const before = await Promise.all(ids.map((id) => observer.getJob(id)));
        a.heal();
        gate.resolve();
        await waitFor('a to try to record every late end', () =>
          lost.every((l) => endWrites.some((write) => write.runId === l.id)),
        );
        for (const write of endWrites) expect(await write.finished).toBe(false);
        for (const id of ids) {
          for (const run of await runsOf(observer, id))
            expect(run).toStrictEqual(recorded.get(run.id));
        }
        expect(await Promise.all(ids.map((id) => observer.getJob(id)))).toStrictEqual(before);
        expect(await duplicateFires(observer)).toStrictEqual([]);
      });

      it('after all instances were down, applies the misfire policy once across the cluster', async () => {
        const { prefix, observer } = await tables();
        const a = await instance('a', prefix);
        const b = await instance('b', prefix);
        const once = await a.scheduler.addJob({
          id: 'fire-once',
          name: 'fire-once',
          type: 'interval',
          interval: '1s',
          handlerName: 'work',
          misfirePolicy: 'fire-once',
        });
        const skip = await a.scheduler.addJob({
          id: 'skip',
          name: 'skip',
          type: 'interval',
          interval: '1s',
          handlerName: 'work',
          misfirePolicy: 'skip',
        });
        await a.scheduler.start();
        await waitFor(
          'two fires of each job on a',
          async () =>
            (await runsOf(observer, once.id)).filter((run) => run.status === 'success').length >=
              2 &&
            (await runsOf(observer, skip.id)).filter((run) => run.status === 'success').length >= 2,
          5_000,
          50,
        );
        await a.scheduler.stop();
        expect(await observer.listLeases()).toStrictEqual([]);
        const lastBefore = new Map<string, Run>();
        const firstMissed = new Map<string, number>();
        for (const id of [once.id, skip.id]) {
          const runs = await runsOf(observer, id);
          expect(runs.every((run) => run.status === 'success')).toBe(true);
          lastBefore.set(id, runs.at(-1)!);
          const stored = await observer.getJob(id);
          expect(stored).toMatchObject({ status: 'pending' });
          firstMissed.set(id, stored!.nextRunAt!.getTime());
          // The job's next fire is the one after its last run.
          expect(firstMissed.get(id)).toBe(runs.at(-1)!.scheduledAt.getTime() + 1_000);
        }

        await sleep(3_500); // every instance down: fires are missed
        const missedBefore = firesMissed([a, b]);
        const restartedAt = Date.now();
        // Missed by more than misfireThreshold (1 s, the default).
        for (const at of firstMissed.values()) expect(at).toBeLessThan(restartedAt - 1_000);
        await Promise.all([a.scheduler.start(), b.scheduler.start()]);
        const regularAfter = async (id: string): Promise<boolean> =>
          (await runsOf(observer, id)).some(
            (run) => run.scheduledAt.getTime() > restartedAt && run.status === 'success',
          );
        await waitFor(
          'a regular fire of each job after the restart',
          async () => (await regularAfter(once.id)) && (await regularAfter(skip.id)),
          5_000,
          50,
        );

        const between = async (id: string): Promise<Run[]> =>
          (await runsOf(observer, id)).filter(
            (run) =>
              run.scheduledAt.getTime() > lastBefore.get(id)!.scheduledAt.getTime() &&
              run.scheduledAt.getTime() <= restartedAt,
          );
        // fire-once: one catch-up run across the two instances, for the first missed instant.
        const catchUp = await between(once.id);
        expect(catchUp).toHaveLength(1);
        expect(catchUp[0]).toMatchObject({ status: 'success', attempt: 1 });
        expect(catchUp[0]!.scheduledAt.getTime()).toBe(firstMissed.get(once.id));
        // skip: nothing for the missed fires; the next run is a regular fire after the restart.
        expect(await between(skip.id)).toStrictEqual([]);
        expect(firesMissed([a, b]) - missedBefore).toBeGreaterThan(0);
        for (const id of [once.id, skip.id]) {
          const after = (await runsOf(observer, id)).filter(
            (run) => run.scheduledAt.getTime() > restartedAt,
          );
          expect(after.length).toBeGreaterThan(0);
          expect(after.every((run) => run.attempt === 1 && run.status !== 'failed')).toBe(true);
        }
        expect(await duplicateFires(observer)).toStrictEqual([]);
      });

      it('times leases by the database clock, even with the host clock an hour ahead', async () => {
        const { prefix, observer } = await tables();
        const a = await instance('a', prefix);
        const b = await instance('b', prefix);
        await Promise.all([a.scheduler.start(), b.scheduler.start()]);
        const both = [a, b];

        /** The leases, checked against the database clock read just after them. */
        const readLeases = async () => {
          const leases = await observer.listLeases();
          const dbNow = await observer.clusterNow();
          expect(leases.map((lease) => lease.instanceId).sort()).toStrictEqual(['a', 'b']);
          for (const lease of leases) {
            expect(lease.expiresAt - dbNow).toBeGreaterThan(0);
            expect(lease.expiresAt - dbNow).toBeLessThanOrEqual(LEASE_TTL_MS);
          }
          return { leases: new Map(leases.map((lease) => [lease.id, lease.expiresAt])), dbNow };
        };
        const health = async () =>
          Promise.all(both.map(async (i) => (await i.scheduler.health()).cluster));

        const before = await readLeases();
        const healthBefore = await health();
        for (const cluster of healthBefore) {
          expect(cluster?.leaseValid).toBe(true);
          expect(before.leases.has(cluster!.leaseId)).toBe(true);
        }
        // The host clock agrees with the database's to begin with.
        expect(Math.abs(Date.now() - before.dbNow)).toBeLessThan(60_000);

        const realNow = Date.now.bind(Date);
        clock = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR_MS);
        let previous = before.leases;
        try {
          for (let sample = 0; sample < 2; sample++) {
            await sleep(HEARTBEAT_MS + 150); // a renewal of each lease happens in here
            const now = await readLeases();
            expect(Date.now() - now.dbNow).toBeGreaterThan(HOUR_MS - 60_000);
            // The same leases, each renewed (expiry moved on), none lost.
            expect([...now.leases.keys()].sort()).toStrictEqual([...previous.keys()].sort());
            for (const [id, expiresAt] of now.leases) {
              expect(expiresAt).toBeGreaterThan(previous.get(id)!);
            }
            const cluster = await health();
            expect(cluster).toStrictEqual(healthBefore);
            previous = now.leases;
          }
        } finally {
          clock.mockRestore();
          clock = undefined;
        }
        expect(Math.abs(Date.now() - (await observer.clusterNow()))).toBeLessThan(60_000);
        expect(await health()).toStrictEqual(healthBefore);
      });
    },
  );
}
