/**
 * Database faults under a running app, on a real server: one scheduler and three cluster instances
 * side by side (each an app of its own: its own tables, DataSources and connections), 20 cron jobs
 * every second each. Every scenario prints its figures (faults injected, fires expected, ran, lost,
 * doubled, rows, stuck, unhandled, fault log lines) and asserts what must hold whatever the fault:
 * nothing escapes as unhandled, no fire runs twice, every handler call has exactly one run row and
 * no row lacks one, nothing is left `running`, the storage fault is logged once per episode and its
 * end once (no other warning), every job fires on schedule again within a few seconds, and the
 * app's own queries are served in the calm after.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import type { MisfirePolicy } from '../../../lib/interfaces/job.interface.js';
import { FAULT_EPISODE_QUIET_MS } from '../../../lib/core/storage-fault-log.js';
import { ChaosApp, type ChaosAppOptions, type RunRow } from '../../utils/chaos/chaos-app.js';
import {
  chaosFigures,
  faultBegun,
  faultEnded,
  fireInstants,
  formatFigures,
  lostInWindow,
  type ChaosFigures,
} from '../../utils/chaos/chaos-figures.js';
import { FaultProxy } from '../../utils/chaos/fault-proxy.js';
import {
  halfSecond,
  hung,
  killAll,
  randomKills,
  slow,
  unreachable,
} from '../../utils/chaos/faults.js';
import {
  createTestDataSource,
  describeWithDatabase,
  unavailableReason,
  urlOf,
  type TestDatabase,
} from '../../utils/databases.js';
import { sleep } from '../scheduler/scheduler-on-database.js';

/**
 * How long after a fault ends every job must fire on schedule again: a run's end is retried with a
 * backoff of up to 2 s, and in cluster mode the other instances skip the job's fires while its row
 * says `running` (they cannot tell a handler still going from records still being written) until
 * their next poll (1 s) reads it back; on the loaded CI machine a 10 s outage of MariaDB with 3
 * instances kept a job `running` up to 5 s after it (2026-12-06, 14:08 UTC). Issue 15's hand-off
 * work is to let those fires follow the records instead.
 */
export const RECOVERY_MS = 5_000;
/**
 * The calm after a fault: longer than an episode's quiet (5 s), so that its end is logged, and than
 * RECOVERY_MS by 4 s, the time in which every job must fire on schedule.
 */
export const CALM_MS = 9_000;
const SCENARIO_TIMEOUT_MS = 90_000;

/** What a fault did: how many were injected, and when it began and ended (epoch ms). */
export interface FaultDone {
  injected: number;
  from: number;
  to: number;
}

/** Runs `fault` on both apps, then the calm, and returns the figures of each (printed). */
export async function runScenario(
  database: TestDatabase,
  name: string,
  apps: readonly ChaosApp[],
  fault: () => Promise<FaultDone>,
): Promise<
  { app: ChaosApp; figures: ChaosFigures; done: FaultDone; window: { from: number; to: number } }[]
> {
  for (const app of apps) await app.start();
  // The first fires after the start, then the fault.
  await sleep(1_500);
  const from = Date.now();
  const done = await fault();
  await sleep(CALM_MS);
  // The last fires may still be going: the window ends a second before.
  const to = Date.now() - 1_000;
  const late = await Promise.all(apps.map((app) => app.stop()));
  expect(late.flat()).toStrictEqual([]);
  const results = [];
  for (const app of apps) {
    const figures = await chaosFigures(app, name, done.injected, { from, to });
    console.log(formatFigures(database.label, figures));
    for (const line of figures.otherLines.slice(0, 10)) console.log(`  ${line}`);
    for (const line of app.logs.filter(faultBegun).slice(0, 6)) {
      console.log(`  [${line.instance}] ${line.message.slice(0, 240)}`);
    }
    results.push({ app, figures, done, window: { from, to } });
  }
  return results;
}

/** What the instances did around the first of the `lost` fires (printed when some were lost). */
function describeLost(app: ChaosApp, lost: { jobId: string; at: number }[]): string {
  const lines: string[] = [];
  for (const { jobId, at } of lost.slice(0, 3)) {
    lines.push(`  lost ${jobId} at ${new Date(at).toISOString()}:`);
    for (const e of app.events) {
      if (e.jobId !== jobId || e.at < at - 1_500 || e.at > at + 2_500) continue;
      const fire = e.scheduledAt === undefined ? '' : ` fire ${e.scheduledAt - at}`;
      lines.push(`    ${e.instance} ${e.type} at ${e.at - at}${fire} (job ${e.status})`);
    }
  }
  for (const { name, scheduler } of app.instances) {
    const m = scheduler.metrics();
    lines.push(
      `  ${name}: started ${m.runsStarted}, skipped ${m.firesSkipped}, missed ${m.firesMissed}, claimed elsewhere ${m.firesClaimedElsewhere}, deferred ${m.firesDeferred}`,
    );
  }
  return lines.join('\n');
}

/** What holds whatever the fault. */
export async function expectInvariants(
  app: ChaosApp,
  figures: ChaosFigures,
  done: FaultDone,
  window: { from: number; to: number },
  episodes: { min: number; max: number },
): Promise<void> {
  expect(app.unhandled.map(String)).toStrictEqual([]);
  expect(figures.doubled).toBe(0);
  expect(figures.missingRows).toBe(0);
  expect(figures.extraRows).toBe(0);
  expect(figures.stuck).toBe(0);
  expect(figures.otherLines).toStrictEqual([]);
  // Each instance: at most `episodes.max` episodes, each begun once and ended once.
  for (const { name } of app.instances) {
    const lines = app.logs.filter((l) => l.instance === name);
    const begun = lines.filter(faultBegun);
    const ended = lines.filter(faultEnded);
    expect({ instance: name, ended: ended.length }).toStrictEqual({
      instance: name,
      ended: begun.length,
    });
    expect(begun.length).toBeLessThanOrEqual(episodes.max);
  }
  // At least `episodes.min` on some instance (an instance may never have had a call fail).
  expect(app.logs.filter(faultBegun).length).toBeGreaterThanOrEqual(episodes.min);
  // Every job fires on schedule again within RECOVERY_MS of the end of the fault.
  const after = { from: done.to + RECOVERY_MS, to: window.to };
  expect(fireInstants(after, app.everyMs).length).toBeGreaterThanOrEqual(1);
  const lostAfter = lostInWindow(app, await app.rows(), after);
  if (lostAfter.length > 0) console.log(describeLost(app, lostAfter));
  expect(lostAfter).toStrictEqual([]);
  // The app's own queries, in the calm after: all served, none waiting long for the pool.
  const calm = app.queries.between(done.to + RECOVERY_MS, window.to);
  expect(calm.length).toBeGreaterThan(20);
  expect(calm.filter((q) => !q.ok)).toStrictEqual([]);
  expect(Math.max(...calm.map((q) => q.ms))).toBeLessThan(1_000);
}

/** How long connections are killed at random. */
const KILLS_MS = 15_000;

/** 20 jobs: every 4th from the 2nd `'skip'`, every 4th from the 3rd `'fire-all'`, the rest `'fire-once'`. */
export function mixedPolicy(i: number): MisfirePolicy {
  return i % 4 === 1 ? 'skip' : i % 4 === 2 ? 'fire-all' : 'fire-once';
}

export async function describeChaos(database: TestDatabase): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(
    database,
    reason,
    `Database faults on ${database.label}: one instance and three cluster instances`,
    () => {
      let admin: DataSource;
      let apps: ChaosApp[] = [];
      let proxy: FaultProxy | undefined;

      beforeAll(async () => {
        admin = await createTestDataSource(database);
      });

      afterEach(async () => {
        await proxy?.pass();
        for (const app of apps.splice(0)) {
          await app.stop();
          await app.dispose();
        }
        await proxy?.close();
        proxy = undefined;
      });

      afterAll(async () => {
        if (admin?.isInitialized) await admin.destroy();
      });

      /**
       * One app of 1 instance and one of 3 cluster instances, with the same jobs, through a new
       * proxy when `proxied`; resolves to them and the proxy.
       */
      async function openApps(
        options: Omit<ChaosAppOptions, 'database' | 'admin' | 'instances' | 'via'>,
        proxied = false,
      ): Promise<{ opened: ChaosApp[]; via: FaultProxy }> {
        if (proxied) proxy = await FaultProxy.to(urlOf(database));
        const via = proxy as FaultProxy;
        for (const instances of [1, 3] as const) {
          apps.push(await ChaosApp.open({ database, admin, instances, via: proxy, ...options }));
        }
        return { opened: apps, via };
      }

      /** `inject` between two fires (half a second past one), on both apps; their figures. */
      async function scenario(
        name: string,
        opened: ChaosApp[],
        inject: () => Promise<number>,
        between = true,
      ): ReturnType<typeof runScenario> {
        return runScenario(database, name, opened, async () => {
          if (between) await halfSecond();
          const from = Date.now();
          const injected = await inject();
          return { injected, from, to: Date.now() };
        });
      }

      // One app at a time: each connection killed costs the server a new backend, and two apps
      // under this chaos at once saturate the 2 cores of the machines this runs on.
      for (const instances of [1, 3] as const) {
        it(
          `random kills of 3 connections every 100 ms for 15 s, ${instances === 1 ? 'one instance' : 'three cluster instances'}: at most 1% of fires lost`,
          async () => {
            const app = await ChaosApp.open({ database, admin, instances, jobs: { count: 20 } });
            apps.push(app);
            const [result] = await scenario(
              'random kills',
              [app],
              () => randomKills(app, { forMs: KILLS_MS }),
              false,
            );
            const { figures, done, window } = result as Awaited<ReturnType<typeof runScenario>>[0];
            if (figures.lost > 0) {
              console.log(describeLost(app, lostInWindow(app, await app.rows(), window)));
            }
            expect(figures.injected).toBeGreaterThan(100);
            expect(figures.lost / figures.expected).toBeLessThanOrEqual(0.01);
            // An episode ends only after FAULT_EPISODE_QUIET_MS without a failure, so a new one
            // begins at least that long after the one before: 15 s of kills give at most 3, and one
            // more for a connection killed near the end and found dead when next used. An instance
            // of three sees its pool's kills rarely enough to have calm seconds between them.
            const episodes = 1 + Math.ceil(KILLS_MS / FAULT_EPISODE_QUIET_MS);
            await expectInvariants(app, figures, done, window, { min: 1, max: episodes });
          },
          SCENARIO_TIMEOUT_MS,
        );
      }

      it(
        'every connection killed at once, every 2 s, 4 times (what a restart does to clients)',
        async () => {
          const { opened } = await openApps({ jobs: { count: 20 } });
          const results = await scenario(
            'kill all',
            opened,
            () => killAll(opened, { times: 4, gapMs: 2_000 }),
            false,
          );
          for (const { app, figures, done, window } of results) {
            if (figures.lost > 0) {
              console.log(describeLost(app, lostInWindow(app, await app.rows(), window)));
            }
            expect(figures.injected).toBeGreaterThan(8);
            expect(figures.lost / figures.expected).toBeLessThanOrEqual(0.01);
            await expectInvariants(app, figures, done, window, { min: 0, max: 2 });
          }
        },
        SCENARIO_TIMEOUT_MS,
      );

      it(
        'unreachable for 10 s (connections cut, new ones refused): each job does what its misfire policy says, for the whole cluster',
        async () => {
          const { opened, via } = await openApps(
            { jobs: { count: 20, policy: mixedPolicy, maxMisfires: 3 } },
            true,
          );
          const results = await scenario('unreachable 10 s', opened, () =>
            unreachable(via, 10_000),
          );
          for (const { app, figures, done, window } of results) {
            await expectInvariants(app, figures, done, window, { min: 1, max: 1 });
            expectMisfirePolicies(app, await app.rows(), done, 1_000, 3);
          }
        },
        SCENARIO_TIMEOUT_MS,
      );

      it(
        'hung for 5 s (connections open, nothing forwarded, as in a partition), then healed',
        async () => {
          const { opened, via } = await openApps({ jobs: { count: 20 } }, true);
          const results = await scenario('hung 5 s', opened, () => hung(via, 5_000));
          for (const { app, figures, done, window } of results) {
            await expectInvariants(app, figures, done, window, { min: 0, max: 1 });
          }
        },
        SCENARIO_TIMEOUT_MS,
      );

      it(
        'slow: 200 ms added to every round trip for 10 s: runs start late, none is lost or doubled, and the time-out counts the handler only',
        async () => {
          // A run then costs 800 ms of round trips (4 statements, one after the other) and waits
          // for the pool: jobs every 2 s fit (every second, a job would skip fires while its last
          // run is still starting, as with a handler that takes its whole period).
          const { opened, via } = await openApps(
            {
              jobs: { count: 10, everySeconds: 2, probe: { interval: '3s', handlerMs: 400 } },
              scheduler: { jobTimeout: '600ms' },
            },
            true,
          );
          const results = await scenario(
            'slow 200 ms',
            opened,
            () => slow(via, 200, 10_000),
            false,
          );
          for (const { app, figures, done, window } of results) {
            expect(figures.lost).toBe(0);
            // Slowness is no failure; a statement may still fail now and then (MariaDB answers
            // concurrent run upserts with a deadlock on its AUTO-INC lock at times): retried.
            await expectInvariants(app, figures, done, window, { min: 0, max: 1 });
            // The probe's handler takes 400 ms of its 600 ms; its start writes took 400 ms or more
            // during the fault, which its time-out does not count.
            const probes = await app.observer.getRuns(app.probeId as string, 1_000);
            const during = probes.filter(
              (run) =>
                run.startAt.getTime() >= done.from && run.startAt.getTime() <= done.to - 1_000,
            );
            expect(during.length).toBeGreaterThanOrEqual(3);
            expect(
              probes.filter((run) => run.status !== 'success').map((run) => run.error),
            ).toStrictEqual([]);
          }
        },
        SCENARIO_TIMEOUT_MS,
      );
    },
  );
}

/**
 * After an outage from `done.from` to `done.to`, the fires due before `done.to - threshold` that
 * had not started when it began could only run after it (late): a `'fire-once'` job ran exactly one
 * of them, a `'skip'` job none, a `'fire-all'` job `maxMisfires` of them, one after the other. (The
 * fire just before the outage counts among them when its start was still being written.)
 */
export function expectMisfirePolicies(
  app: ChaosApp,
  rows: readonly RunRow[],
  done: FaultDone,
  threshold: number,
  maxMisfires: number,
): void {
  const missed = fireInstants({ from: done.from + 100, to: done.to - threshold - 100 });
  expect(missed.length).toBeGreaterThanOrEqual(maxMisfires + 2);
  const late = (jobId: string): number[] =>
    rows
      .filter(
        (row) =>
          row.jobId === jobId &&
          row.scheduledAt > done.from - 1_000 &&
          row.scheduledAt <= (missed.at(-1) as number) &&
          row.startAt >= done.to,
      )
      .map((row) => row.scheduledAt)
      .sort((a, b) => a - b);
  for (const { id, policy } of app.jobs) {
    const ran = late(id);
    const expected = policy === 'fire-once' ? 1 : policy === 'fire-all' ? maxMisfires : 0;
    if (ran.length !== expected) {
      console.log(
        `  ${app.label}: ${id} ran ${JSON.stringify(ran.map((at) => at - done.from))} late (fires, from the outage's start); its events:\n` +
          app.events
            .filter((e) => e.jobId === id && e.at > done.from - 1_500)
            .map(
              (e) =>
                `    ${e.instance} ${e.type} at ${e.at - done.from}${e.scheduledAt === undefined ? '' : ` fire ${e.scheduledAt - done.from}`} (job ${e.status})`,
            )
            .join('\n'),
      );
    }
    expect({ id, late: ran.length }).toStrictEqual({ id, late: expected });
    // One after the other, from the first fire that had not started.
    ran.forEach((at, i) => expect(at - (ran[0] as number)).toBe(i * 1_000));
    // None of them ran twice.
    expect(new Set(ran).size).toBe(ran.length);
  }
}
