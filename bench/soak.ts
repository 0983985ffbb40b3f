/**
 * `npm run soak`: an app under a mix of database faults for N minutes, with the figures of the
 * fault tests (test/integration/faults) per phase and in total. It asserts nothing; it prints.
 *
 *   npm run soak -- --minutes=10 --db=postgres --instances=3
 *
 * `--db` is `postgres` (default) or `mariadb` (TEST_POSTGRES_URL / TEST_MARIADB_URL as for the
 * tests); `--instances` is 1 (one scheduler) or 3 (cluster instances in this process, default).
 * Each cycle (about 100 s): random kills of 3 connections every 100 ms for 15 s, every connection
 * killed at once 4 times 2 s apart, the server unreachable for 10 s (a TCP proxy refuses), hung for
 * 5 s (the proxy forwards nothing), 200 ms added to every round trip for 10 s; 10 s of calm after
 * each. 20 cron jobs every second (`misfirePolicy` 'fire-once'), handlers of 20 ms.
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import type { DataSource } from 'typeorm';
import { ChaosApp } from '../test/utils/chaos/chaos-app.js';
import { chaosFigures, lostInWindow, type FireWindow } from '../test/utils/chaos/chaos-figures.js';
import { FaultProxy } from '../test/utils/chaos/fault-proxy.js';
import { hung, killAll, randomKills, slow, unreachable } from '../test/utils/chaos/faults.js';
import {
  createTestDataSource,
  TEST_DATABASES,
  unavailableReason,
  urlOf,
} from '../test/utils/databases.js';
import { intArg, sleep } from './common.js';

const CALM_MS = 10_000;

interface Phase {
  name: string;
  /** Injects the fault; resolves to how many were injected once it is over. */
  run(app: ChaosApp, proxy: FaultProxy): Promise<number>;
}

const PHASES: Phase[] = [
  {
    name: 'random kills (3 every 100 ms, 15 s)',
    run: (app) => randomKills(app, { forMs: 15_000 }),
  },
  {
    name: 'kill all (4 times, 2 s apart)',
    run: (app) => killAll([app], { times: 4, gapMs: 2_000 }),
  },
  { name: 'unreachable (10 s)', run: (_app, proxy) => unreachable(proxy, 10_000) },
  { name: 'hung (5 s)', run: (_app, proxy) => hung(proxy, 5_000) },
  { name: 'slow (+200 ms a round trip, 10 s)', run: (_app, proxy) => slow(proxy, 200, 10_000) },
];

interface Tally {
  faults: number;
  fault: FireWindow[];
  calm: FireWindow[];
}

async function main(): Promise<void> {
  const minutes = intArg('minutes', 10);
  const instances = intArg('instances', 3);
  if (instances !== 1 && instances !== 3) throw new Error('--instances must be 1 or 3');
  const dbArg = process.argv.find((a) => a.startsWith('--db='))?.slice(5) ?? 'postgres';
  if (dbArg !== 'postgres' && dbArg !== 'mariadb')
    throw new Error('--db must be postgres or mariadb');
  const database = TEST_DATABASES[dbArg];
  const reason = await unavailableReason(database);
  if (reason !== undefined) throw new Error(`${database.label} is not reachable: ${reason}`);

  const admin: DataSource = await createTestDataSource(database);
  const proxy = await FaultProxy.to(urlOf(database));
  const app = await ChaosApp.open({ database, admin, instances, via: proxy, jobs: { count: 20 } });
  const tallies = new Map<string, Tally>(
    PHASES.map((phase) => [phase.name, { faults: 0, fault: [], calm: [] }]),
  );
  const began = new Date();
  console.log(
    `Soak on ${database.label}, ${app.label}, ${minutes} min, 20 jobs every second; ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load ${loadavg()[0]?.toFixed(1)}, ${began.toISOString()}`,
  );
  try {
    await app.start();
    await sleep(2_000);
    const from = Date.now();
    const deadline = from + minutes * 60_000;
    let cycles = 0;
    while (Date.now() < deadline) {
      for (const phase of PHASES) {
        const tally = tallies.get(phase.name) as Tally;
        const start = Date.now();
        tally.faults += await phase.run(app, proxy);
        const end = Date.now();
        await sleep(CALM_MS);
        tally.fault.push({ from: start, to: end });
        tally.calm.push({ from: end, to: Date.now() - 1_000 });
        process.stdout.write('.');
      }
      cycles++;
    }
    const to = Date.now() - 1_000;
    const late = await app.stop();
    console.log(`\n${cycles} cycle(s) in ${((to - from) / 60_000).toFixed(1)} min`);
    const rows = await app.rows();
    const pad = (text: string, n: number): string => text.padStart(n);
    console.log(
      `${'phase'.padEnd(38)}${pad('faults', 8)}${pad('due', 8)}${pad('lost', 7)}${pad('%', 7)}   ${'calm after: due'}${pad('lost', 6)}`,
    );
    for (const [name, tally] of tallies) {
      const count = (windows: FireWindow[]) => {
        let due = 0;
        let lost = 0;
        for (const window of windows) {
          due += Math.max(0, Math.floor(window.to / 1_000) - Math.ceil(window.from / 1_000) + 1);
          lost += lostInWindow(app, rows, window).length;
        }
        return { due: due * app.jobs.length, lost };
      };
      const fault = count(tally.fault);
      const calm = count(tally.calm);
      const pct = fault.due === 0 ? 0 : (100 * fault.lost) / fault.due;
      console.log(
        `${name.padEnd(38)}${pad(String(tally.faults), 8)}${pad(String(fault.due), 8)}${pad(String(fault.lost), 7)}${pad(pct.toFixed(2), 7)}   ${pad(String(calm.due), 15)}${pad(String(calm.lost), 6)}`,
      );
    }
    const total = await chaosFigures(app, 'soak', 0, { from, to });
    console.log(
      `total: fires due ${total.expected}, ran ${total.ran}, lost ${total.lost}; doubled ${total.doubled}; rows ${total.rows} (missing ${total.missingRows}, extra ${total.extraRows}); stuck ${total.stuck}; unhandled ${total.unhandled}; fault log ${total.faultWarnings} warn / ${total.recoveries} recovered; other warn/error lines ${total.otherLines.length}; instances that did not stop in time: ${late.length}`,
    );
    for (const line of total.otherLines.slice(0, 10)) console.log(`  ${line}`);
  } finally {
    await app.stop();
    await app.dispose();
    await proxy.close();
    await admin.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
