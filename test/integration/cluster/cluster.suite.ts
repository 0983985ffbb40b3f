/**
 * Cluster mode end to end: three scheduler instances, each a child process (`cluster-child.ts`) with
 * its own DataSource, on one database. The test process makes the jobs (through a Scheduler it never
 * starts) and reads the outcome from the tables and from the children's stdout lines.
 *
 * Timings are short (lease 2 s, heartbeat 500 ms, poll 200 ms) so that the suite stays under about a
 * minute and a half per database.
 */
import { afterAll, afterEach, beforeAll, expect, it, onTestFailed } from 'vitest';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/typeorm.storage.js';
import type { ClusterChildConfig, HandlerPayload } from '../../utils/cluster-child.js';
import { ClusterChild, type RunLine } from '../../utils/cluster-process.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  uniqueTablePrefix,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';
import { runStatusCounts, sleep, waitFor } from '../scheduler/scheduler-on-database.js';

const LEASE_TTL_MS = 2_000;
const HEARTBEAT_MS = 500;
const POLL_MS = 200;
/** How long the 50 jobs run in the exactly-once test. */
const RUN_MS = 20_000;
const INTERVAL_JOBS = 35;
const CRON_JOBS = 15;

/** The three instances' names. */
const INSTANCES = ['a', 'b', 'c'] as const;

/** Reads a count or a number column (drivers return bigint as strings). */
const num = (value: unknown): number => Number(value);

export async function describeCluster(database: TestDatabase): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(
    database,
    reason,
    `Cluster mode on ${database.label}: 3 scheduler processes`,
    () => {
      let admin: DataSource;
      let children: ClusterChild[] = [];
      let storages: TypeOrmStorage[] = [];

      beforeAll(async () => {
        admin = await createTestDataSource(database);
      });

      afterEach(async () => {
        await Promise.all(children.splice(0).map((child) => child.kill()));
        await dropTables(admin, storages.splice(0).flatMap(tablesOf));
      });

      afterAll(async () => {
        if (admin?.isInitialized) await admin.destroy();
      });

      /** The tables of a new test (created now), and a Scheduler that adds jobs to them (never started). */
      async function setUp(): Promise<{
        storage: TypeOrmStorage;
        maker: Scheduler;
        prefix: string;
      }> {
        const prefix = uniqueTablePrefix();
        const storage = new TypeOrmStorage(admin, { tablePrefix: prefix });
        storages.push(storage);
        await storage.initialize();
        const maker = new Scheduler(storage, {
          logger: new NopLogger(),
          cluster: { instanceId: 'test-process' },
        });
        maker.registerHandlerFunc('work', () => undefined);
        return { storage, maker, prefix };
      }

      /** Starts the three instances and waits until each has started. */
      async function startInstances(prefix: string): Promise<ClusterChild[]> {
        const { type, url } = database.options() as {
          type: ClusterChildConfig['type'];
          url: string;
        };
        const started = INSTANCES.map(
          (instanceId) =>
            new ClusterChild(instanceId, {
              type,
              url,
              tablePrefix: prefix,
              cluster: {
                instanceId,
                leaseTtl: LEASE_TTL_MS,
                heartbeatInterval: HEARTBEAT_MS,
                pollInterval: POLL_MS,
              },
              handlers: { work: { ms: 20 } },
              scheduler: {
                concurrentRuns: 10,
                jobTimeout: '30s',
                retryDelay: '500ms',
                shutdownTimeout: '5s',
                // Fires late from CPU load on a small machine still run as scheduled: this suite
                // is about exactly-once, not lateness.
                misfireThreshold: '5s',
              },
              poolSize: 5,
            }),
        );
        children.push(...started);
        onTestFailed(() => {
          for (const child of started) {
            console.error(`--- ${child.name} (pid ${child.pid}) stderr:\n${child.stderrTail()}`);
          }
        });
        await Promise.all(started.map((child) => child.ready()));
        return started;
      }

      /** Every run of every job, read from the run table (oldest first per job). */
      async function allRuns(storage: TypeOrmStorage, jobIds: readonly string[]) {
        const runs = new Map<string, Run[]>();
        for (const id of jobIds) {
          runs.set(
            id,
            (await storage.getRuns(id, 100_000)).sort(
              (x, y) => x.scheduledAt.getTime() - y.scheduledAt.getTime() || x.attempt - y.attempt,
            ),
          );
        }
        return runs;
      }

      /** Fires recorded more than once, by plain SQL on the run table (the unique key forbids it). */
      async function duplicateFires(storage: TypeOrmStorage): Promise<unknown[]> {
        const q = (name: string): string => admin.driver.escape(name);
        return (await admin.query(
          `SELECT ${q('job_id')}, ${q('scheduled_at')}, ${q('attempt')}, COUNT(*) AS n FROM ${q(storage.runTableName)}
           GROUP BY ${q('job_id')}, ${q('scheduled_at')}, ${q('attempt')} HAVING COUNT(*) > 1`,
        )) as unknown[];
      }

      async function leaseRows(storage: TypeOrmStorage): Promise<{ instance: string }[]> {
        const q = (name: string): string => admin.driver.escape(name);
        return (await admin.query(
          `SELECT ${q('instance_id')} AS ${q('instance')} FROM ${q(storage.leaseTableName)}`,
        )) as { instance: string }[];
      }

      async function claimedOrRunningJobs(storage: TypeOrmStorage): Promise<number> {
        const q = (name: string): string => admin.driver.escape(name);
        const [row] = (await admin.query(
          `SELECT COUNT(*) AS n FROM ${q(storage.jobTableName)} WHERE ${q('claimed_by')} IS NOT NULL OR ${q('status')} = 'running'`,
        )) as { n: unknown }[];
        return num(row?.n);
      }

      /** Which instance printed `run.started` for each run id. */
      function startedBy(instances: readonly ClusterChild[]): Map<string, string[]> {
        const by = new Map<string, string[]>();
        for (const child of instances) {
          for (const line of child.runs('run.started')) {
            const list = by.get(line.runId ?? '') ?? [];
            list.push(child.name);
            by.set(line.runId ?? '', list);
          }
        }
        return by;
      }

      it(
        `runs each fire of ${INTERVAL_JOBS + CRON_JOBS} jobs every second exactly once across 3 instances`,
        async () => {
          const { storage, maker, prefix } = await setUp();
          const instances = await startInstances(prefix);

          const jobs: Job[] = [];
          for (let i = 0; i < INTERVAL_JOBS + CRON_JOBS; i++) {
            const payload: HandlerPayload = { ms: 20 + (i % 31) };
            jobs.push(
              await maker.addJob({
                id: `job-${i}`,
                name: `job ${i}`,
                ...(i < INTERVAL_JOBS
                  ? { type: 'interval' as const, interval: '1s' }
                  : { type: 'cron' as const, cron: '* * * * * *' }),
                handlerName: 'work',
                payload,
                maxRetry: 2,
              }),
            );
          }
          await sleep(RUN_MS);
          const stopAt = Date.now();
          const exits = await Promise.all(instances.map((child) => child.stop()));
          expect(exits).toStrictEqual(instances.map(() => ({ code: 0, signal: null })));

          // One record per fire (the unique key), and none left running.
          expect(await duplicateFires(storage)).toStrictEqual([]);
          const statuses = await runStatusCounts(admin, storage);
          expect(statuses.running ?? 0).toBe(0);
          expect(await claimedOrRunningJobs(storage)).toBe(0);
          expect(await leaseRows(storage)).toStrictEqual([]);

          const byRun = startedBy(instances);
          const perInstance = new Map<string, number>(INSTANCES.map((name) => [name, 0]));
          const problems: string[] = [];
          let total = 0;
          let expectedTotal = 0;
          const runsByJob = await allRuns(
            storage,
            jobs.map((job) => job.id),
          );
          for (const job of jobs) {
            const runs = runsByJob.get(job.id) ?? [];
            total += runs.length;
            if (runs.length === 0) {
              problems.push(`${job.id}: no run`);
              continue;
            }
            for (const run of runs) {
              if (run.status !== 'success')
                problems.push(`${job.id}: run ${run.id} ${run.status} ${run.error}`);
              if (run.attempt !== 1)
                problems.push(`${job.id}: run ${run.id} attempt ${run.attempt}`);
              const who = byRun.get(run.id) ?? [];
              if (who.length !== 1) {
                problems.push(`${job.id}: run ${run.id} reported started by [${who.join(', ')}]`);
              } else {
                perInstance.set(who[0]!, (perInstance.get(who[0]!) ?? 0) + 1);
              }
            }
            // The fires are the job's consecutive instants, 1 s apart, from its first to the stop.
            const first = runs[0]!.scheduledAt.getTime();
            const last = runs.at(-1)!.scheduledAt.getTime();
            if (first !== job.nextRunAt?.getTime()) {
              problems.push(
                `${job.id}: first fire recorded ${new Date(first).toISOString()}, due ${job.nextRunAt?.toISOString()}`,
              );
            }
            if (last < stopAt - 2_500) {
              problems.push(
                `${job.id}: last fire recorded ${new Date(last).toISOString()}, ${stopAt - last} ms before the stop`,
              );
            }
            expectedTotal += (last - first) / 1000 + 1;
            for (let k = 1; k < runs.length; k++) {
              const previous = runs[k - 1]!;
              const run = runs[k]!;
              const step = run.scheduledAt.getTime() - previous.scheduledAt.getTime();
              if (step !== 1000) {
                problems.push(
                  `${job.id}: fires ${previous.scheduledAt.toISOString()} then ${run.scheduledAt.toISOString()} (${step} ms)`,
                );
              }
              // Never two runs of one job at once (a run may start in the millisecond the last ended).
              if (previous.endAt === null || run.startAt.getTime() < previous.endAt.getTime()) {
                problems.push(
                  `${job.id}: run ${run.id} started ${run.startAt.toISOString()} before run ${previous.id} ended ${previous.endAt?.toISOString()}`,
                );
              }
            }
          }
          // Runs reported started with no record (their start could not be written) would show here.
          const recorded = new Set([...runsByJob.values()].flat().map((run) => run.id));
          const unrecorded = [...byRun.keys()].filter((id) => !recorded.has(id));

          const counts = Object.fromEntries(perInstance);
          const metrics = instances.map((child) => child.lines.find((l) => l.event === 'stopped'));
          console.log(
            `[${database.label}] ${total} runs in ${RUN_MS / 1000} s across 3 instances: ${JSON.stringify(counts)};` +
              ` fires claimed elsewhere ${JSON.stringify(
                Object.fromEntries(
                  metrics.map((m, i) => [
                    INSTANCES[i],
                    m && 'firesClaimedElsewhere' in m ? m.firesClaimedElsewhere : undefined,
                  ]),
                ),
              )}; skipped ${JSON.stringify(
                Object.fromEntries(
                  metrics.map((m, i) => [
                    INSTANCES[i],
                    m && 'firesSkipped' in m ? m.firesSkipped : undefined,
                  ]),
                ),
              )}`,
          );
          expect(problems).toStrictEqual([]);
          expect(unrecorded).toStrictEqual([]);
          expect(total).toBe(expectedTotal);
          // About RUN_MS / 1 s fires per job.
          expect(total).toBeGreaterThanOrEqual((INTERVAL_JOBS + CRON_JOBS) * (RUN_MS / 1000 - 2));
          for (const name of INSTANCES) expect(perInstance.get(name)).toBeGreaterThan(0);
          // Each instance's own count of successes matches what it recorded.
          const succeeded = metrics.reduce(
            (sum, m) => sum + (m && 'runsSucceeded' in m ? m.runsSucceeded : 0),
            0,
          );
          expect(succeeded).toBe(total);
        },
        RUN_MS + 60_000,
      );

      it('records the run of a killed instance lost and retries it elsewhere; a graceful stop loses nothing', async () => {
        const { storage, maker, prefix } = await setUp();
        const instances = await startInstances(prefix);
        const byName = new Map(instances.map((child) => [child.name, child]));

        /** The instance that printed `run.started` for a job's attempt. */
        const holderOf = async (jobId: string, attempt: number, among: ClusterChild[]) => {
          const line = (await Promise.any(
            among.map((child) =>
              child.waitForLine(
                `run.started of ${jobId} attempt ${attempt}`,
                (l) =>
                  l.event === 'run.started' &&
                  'jobId' in l &&
                  l.jobId === jobId &&
                  l.attempt === attempt,
                15_000,
              ),
            ),
          )) as RunLine;
          return { child: byName.get(line.instance)!, line };
        };
        const runsOf = (jobId: string): Promise<Run[]> => storage.getRuns(jobId, 100);

        // 1. kill -9 the instance running a 10 s handler.
        const long = await maker.addJob({
          id: 'long',
          name: 'long',
          type: 'once',
          runAt: new Date(),
          handlerName: 'work',
          payload: { ms: 10_000, retryMs: 100 } satisfies HandlerPayload,
          maxRetry: 1,
        });
        const first = await holderOf(long.id, 1, instances);
        // The run's record is written just after the event: kill once it is in the table.
        await waitFor('the long run to be recorded running', async () =>
          (await runsOf(long.id)).some(
            (run) => run.id === first.line.runId && run.status === 'running',
          ),
        );
        const killedAt = Date.now();
        expect(await first.child.kill()).toStrictEqual({ code: null, signal: 'SIGKILL' });
        const survivors = instances.filter((child) => child !== first.child);

        const lostWithin = LEASE_TTL_MS + HEARTBEAT_MS + 2_500;
        let lostRun: Run | undefined;
        await waitFor(
          'the killed instance\u2019s run to be recorded failed',
          async () => {
            lostRun = (await runsOf(long.id)).find(
              (run) => run.id === first.line.runId && run.status !== 'running',
            );
            return lostRun !== undefined;
          },
          lostWithin,
          50,
        );
        const lostAfter = Date.now() - killedAt;
        expect(lostRun).toMatchObject({ status: 'failed', attempt: 1 });
        expect(lostRun!.error).toMatch(/InstanceLostError/);
        expect(lostRun!.error).toMatch(/lost/);
        expect(lostRun!.endAt).not.toBeNull();
        // A survivor recorded it, and reports it (its event follows the record by a few statements).
        const reported = (await Promise.any(
          survivors.map((child) =>
            child.waitForLine(
              `run.failed of the lost run ${first.line.runId}`,
              (l) => l.event === 'run.failed' && 'runId' in l && l.runId === first.line.runId,
              5_000,
            ),
          ),
        )) as RunLine;
        const reporter = byName.get(reported.instance);
        expect(reported.error).toMatch(/lost/);

        // Retried (attempt 2) on a survivor, which succeeds.
        const retry = await holderOf(long.id, 2, survivors);
        await waitFor('the retry to succeed', async () =>
          (await runsOf(long.id)).some((run) => run.attempt === 2 && run.status === 'success'),
        );
        const longRuns = await runsOf(long.id);
        expect(longRuns.map((run) => [run.attempt, run.status]).sort()).toStrictEqual([
          [1, 'failed'],
          [2, 'success'],
        ]);
        expect(longRuns.find((run) => run.attempt === 2)?.id).toBe(retry.line.runId);
        await waitFor(
          'the long job to complete',
          async () => (await storage.getJob(long.id))?.status === 'completed',
        );
        // The dead instance's lease was removed by the survivor that found it expired.
        expect((await leaseRows(storage)).map((row) => row.instance).sort()).toStrictEqual(
          survivors.map((child) => child.name).sort(),
        );
        console.log(
          `[${database.label}] killed ${first.child.name}; its run was recorded lost by ${reporter?.name} ${lostAfter} ms later` +
            ` (lease ${LEASE_TTL_MS} ms + heartbeat ${HEARTBEAT_MS} ms); retried on ${retry.child.name}`,
        );

        // 2. SIGTERM an instance in the middle of a 1 s run: the run ends, and is recorded success.
        const graceful = await maker.addJob({
          id: 'graceful',
          name: 'graceful',
          type: 'once',
          runAt: new Date(),
          handlerName: 'work',
          payload: { ms: 1_000 } satisfies HandlerPayload,
        });
        const second = await holderOf(graceful.id, 1, survivors);
        await sleep(200);
        const stoppedAt = Date.now();
        expect(await second.child.stop()).toStrictEqual({ code: 0, signal: null });
        const stopMs = Date.now() - stoppedAt;
        const gracefulRuns = await runsOf(graceful.id);
        expect(gracefulRuns).toHaveLength(1);
        expect(gracefulRuns[0]).toMatchObject({
          id: second.line.runId,
          status: 'success',
          attempt: 1,
          error: '',
          output: second.child.name,
        });
        expect(second.child.runs('run.succeeded').map((l) => l.runId)).toContain(second.line.runId);
        expect((await storage.getJob(graceful.id))?.status).toBe('completed');
        const leases = (await leaseRows(storage)).map((row) => row.instance);
        expect(leases).not.toContain(second.child.name);
        expect(leases).toHaveLength(1);

        // The last one stops too: nothing is left running, claimed or leased.
        const last = survivors.find((child) => child !== second.child)!;
        expect(await last.stop()).toStrictEqual({ code: 0, signal: null });
        expect((await runStatusCounts(admin, storage)).running ?? 0).toBe(0);
        expect(await claimedOrRunningJobs(storage)).toBe(0);
        expect(await leaseRows(storage)).toStrictEqual([]);
        console.log(
          `[${database.label}] SIGTERM to ${second.child.name} mid-run: stopped in ${stopMs} ms, its run recorded success`,
        );
      }, 60_000);

      it('records every run of an instance killed holding a claimed batch lost, and retries each once elsewhere', async () => {
        const { storage, maker, prefix } = await setUp();
        const instances = await startInstances(prefix);
        const JOBS = 24;
        const ids = Array.from({ length: JOBS }, (_, i) => `batch-${String(i).padStart(2, '0')}`);
        // All due at one instant: each instance claims its share in one go (batched on PostgreSQL).
        const dueAt = new Date(Date.now() + 300);
        for (const id of ids) {
          await maker.addJob({
            id,
            name: id,
            type: 'once',
            runAt: dueAt,
            handlerName: 'work',
            payload: { ms: 4_000, retryMs: 100 } satisfies HandlerPayload,
            maxRetry: 1,
          });
        }
        // The instance with the most runs going on, once they are all recorded running.
        let victim: ClusterChild | undefined;
        let held: string[] = [];
        await waitFor('runs to be recorded running', async () => {
          const running = new Set(
            (await Promise.all(ids.map((id) => storage.getRuns(id, 5))))
              .flat()
              .filter((run) => run.status === 'running')
              .map((run) => run.id),
          );
          const byChild = instances.map((child) =>
            child
              .runs('run.started')
              .map((l) => l.runId ?? '')
              .filter((runId) => running.has(runId)),
          );
          const most = Math.max(...byChild.map((r) => r.length));
          if (most < 3) return false;
          const index = byChild.findIndex((r) => r.length === most);
          victim = instances[index];
          held = byChild[index]!;
          return true;
        });
        expect(await victim!.kill()).toStrictEqual({ code: null, signal: 'SIGKILL' });
        const survivors = instances.filter((child) => child !== victim);

        // Every job ends completed, with exactly one successful run; the victim's runs failed, lost.
        await waitFor(
          'every job to complete',
          async () =>
            (await Promise.all(ids.map((id) => storage.getJob(id)))).every(
              (job) => job?.status === 'completed',
            ),
          LEASE_TTL_MS + HEARTBEAT_MS + 15_000,
          100,
        );
        const runs = (await Promise.all(ids.map((id) => storage.getRuns(id, 10)))).flat();
        for (const id of ids) {
          const mine = runs.filter((run) => run.jobId === id);
          expect(mine.filter((run) => run.status === 'success')).toHaveLength(1);
          // One run per attempt: no fire ran twice.
          expect(new Set(mine.map((run) => run.attempt)).size).toBe(mine.length);
        }
        // The runs recorded lost are the victim's: those seen running, and any it began after that
        // (its stdout may not have shown those before the kill: no survivor began them, though).
        const lost = runs.filter((run) => run.status === 'failed');
        const survivorsBegan = new Set(
          survivors.flatMap((child) => child.runs('run.started')).map((l) => l.runId ?? ''),
        );
        for (const runId of held) expect(lost.map((run) => run.id)).toContain(runId);
        for (const run of lost) {
          expect(survivorsBegan.has(run.id)).toBe(false);
          expect(run.attempt).toBe(1);
          expect(run.error).toMatch(/InstanceLostError/);
        }
        // Each lost run's job was retried (attempt 2) on a survivor, and succeeded.
        const retried = runs.filter((run) => run.attempt === 2);
        expect(retried.map((run) => run.jobId).sort()).toStrictEqual(
          lost.map((run) => run.jobId).sort(),
        );
        const survivorRuns = new Set(
          survivors.flatMap((child) => child.runs('run.succeeded')).map((l) => l.runId),
        );
        for (const run of retried) {
          expect(run.status).toBe('success');
          expect(survivorRuns.has(run.id)).toBe(true);
        }
        expect((await runStatusCounts(admin, storage)).running ?? 0).toBe(0);
        expect(await claimedOrRunningJobs(storage)).toBe(0);
        console.log(
          `[${database.label}] killed ${victim!.name} holding ${lost.length} runs of ${JOBS} due at once: each recorded lost and retried once on the others`,
        );
      }, 60_000);
    },
  );
}
