/**
 * Section 4 of `npm run bench`, cluster scale-out on PostgreSQL: 1, 2 and 3 instances (child
 * processes) on one database (the scenario is `cluster-scale-out.ts`, alone `npm run bench:cluster`).
 */
import { int, list, num, ratio } from './format.js';
import { load } from './machine.js';
import { isSkipped, scenario } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

export async function clusterSection(
  out: Transcript,
  board: Scoreboard,
  pgReachable: boolean,
): Promise<void> {
  out.write(
    `\n4. cluster scale-out, PostgreSQL: 1 / 2 / 3 instances (child processes), once-jobs due at one instant, concurrentRuns 10 each\n`,
  );
  const c = pgReachable ? await scenario(out, './cluster-scale-out.ts', []) : undefined;
  if (!pgReachable || isSkipped(c)) {
    out.write('  skipped: PostgreSQL is not reachable. Start it, or set TEST_POSTGRES_URL.\n');
    board.row('Cluster, PostgreSQL', 'skipped (no PostgreSQL)');
    return;
  }
  const at = (key: string, i: number): unknown =>
    Array.isArray(c?.[key]) ? (c[key] as unknown as unknown[])[i] : undefined;
  if (c) {
    out.write(
      `  4a. handler waits ${String(c.handlerMs)} ms, ${int(c.slowJobs)} jobs: runs/s ${list(c.slowRunsPerSec, int)}` +
        ` (2 / 3 instances: ${ratio(c.slowRatio2, 1)} / ${ratio(c.slowRatio3, 1)} of 1; aim 3 >= 2.50x: ${Number(c.slowRatio3) >= 2.5 ? 'met' : 'NOT met'});` +
        ` runs per instance ${list(c.slowPerInstance, String)}\n` +
        `  4b. no-op handler, ${int(c.noopJobs)} jobs: fires/s ${list(c.noopRunsPerSec, int)}` +
        ` (2 / 3 instances: ${ratio(c.noopRatio2, 1)} / ${ratio(c.noopRatio3, 1)} of 1); cluster off, 1 instance: ${int(c.singleRunsPerSec)}\n` +
        `      CPU per run, instances: ${list(c.noopNodeCpuMsPerRun, (n) => num(n))} ms; postgres: ${list(c.noopPostgresCpuMsPerRun, (n) => num(n))} ms\n` +
        `  4c. statements per run (no-op): cluster off ${num(c.statementsPerRunSingle)}, cluster 1 / 2 / 3 instances ${list(c.statementsPerRunCluster, (n) => num(n))};` +
        ` idle cluster instance ${num(c.idleStatementsPerSec)} statements/s (default timings), ${num(c.idleStatementsPerSecShort)} (heartbeat 500 ms, poll 200 ms)\n` +
        `  4d. recurring jobs (${int(c.periodicJobs)} every second), 1 / 2 / 3 instances: runs/s ${list(c.periodicRunsPerSec, int)};` +
        ` statements per run ${list(c.periodicStatementsPerRun, (n) => num(n))}; claims lost per run ${list(c.periodicLostPerRun, (n) => num(n))}\n` +
        `  4f. bulk drain, ${int(c.bulkJobs)} no-op once-jobs, concurrentRuns ${String(c.bulkConcurrent)} each: runs/s ${list(c.bulkRunsPerSec, int)}` +
        ` (3 instances: ${int(at('bulkRunsPerSec', 2))}; aim >= 5,000: ${Number(at('bulkRunsPerSec', 2)) >= 5000 ? 'met' : 'NOT met'});` +
        ` one instance with cluster off and batching on: ${int(c.bulkSingleBatchedRunsPerSec)};` +
        ` statements per run ${list(c.bulkStatementsPerRun, (n) => num(n, 3))}; CPU per run, instances ${list(c.bulkNodeCpuMsPerRun, (n) => num(n))} ms, postgres ${list(c.bulkPostgresCpuMsPerRun, (n) => num(n))} ms\n` +
        `  4e. idle cluster instance with ${int(c.idleManyJobs)} jobs: CPU ${num(c.idleManyCpuMsPerSec, 1)} ms/s (100 jobs: ${num(c.idleCpuMsPerSec, 1)} ms/s);` +
        ` a poll's read of them: ${num(c.pollVersionsCpuMs, 1)} ms CPU (ids and versions) against ${num(c.pollFullCpuMs, 1)} ms (every full row)\n` +
        `  every job run exactly once: ${c.wrongRuns === 0 ? 'yes' : `NO (${String(c.wrongRuns)} wrong)`} (${int(c.seconds)} s, load after: ${load()})\n`,
    );
  }
  board.row(
    `Cluster, PostgreSQL, ${String(c?.handlerMs ?? 50)} ms handler: runs/s with 1 / 2 / 3 instances`,
    list(c?.slowRunsPerSec, int),
    `${int(at('slowRunsPerSec', 0))} (1 instance)`,
    `${ratio(c?.slowRatio2, 1)} / ${ratio(c?.slowRatio3, 1)} (2 / 3 instances)`,
  );
  board.row(
    'Cluster, PostgreSQL, no-op handler: fires/s with 1 / 2 / 3 instances',
    list(c?.noopRunsPerSec, int),
    `${int(c?.singleRunsPerSec)} (cluster off)`,
    ratio(at('noopRunsPerSec', 0), c?.singleRunsPerSec),
  );
  board.row(
    `Cluster, PostgreSQL, bulk drain (${int(c?.bulkJobs)} no-op once-jobs, concurrentRuns ${String(c?.bulkConcurrent ?? 50)} each): runs/s with 1 / 2 / 3 instances`,
    list(c?.bulkRunsPerSec, int),
    `${int(c?.bulkSingleBatchedRunsPerSec)} (1 instance, cluster off, batching on)`,
    ratio(at('bulkRunsPerSec', 2), c?.bulkSingleBatchedRunsPerSec),
  );
  board.row(
    'Cluster, PostgreSQL, bulk drain: statements per run; CPU per run (instances + postgres, ms), 1 / 2 / 3 instances',
    `${list(c?.bulkStatementsPerRun, (n) => num(n, 3))}; ${list(
      Array.isArray(c?.bulkNodeCpuMsPerRun)
        ? (c.bulkNodeCpuMsPerRun as unknown as number[]).map(
            (n, i) => n + Number(at('bulkPostgresCpuMsPerRun', i)),
          )
        : undefined,
      (n) => num(n),
    )}`,
    '',
    '',
  );
  board.row(
    'Cluster, PostgreSQL: statements per run, 1 / 2 / 3 instances; idle statements/s',
    `${list(c?.statementsPerRunCluster, (n) => num(n))}; idle ${num(c?.idleStatementsPerSec)}/s`,
    `${num(c?.statementsPerRunSingle)} (cluster off)`,
    ratio(at('statementsPerRunCluster', 0), c?.statementsPerRunSingle),
  );
  board.row(
    `Cluster, PostgreSQL: ${int(c?.periodicJobs)} recurring jobs every second, statements per run with 1 / 2 / 3 instances`,
    list(c?.periodicStatementsPerRun, (n) => num(n)),
    `${num(at('periodicStatementsPerRun', 0))} (1 instance)`,
    ratio(at('periodicStatementsPerRun', 2), at('periodicStatementsPerRun', 0)),
  );
  board.row(
    `Cluster, PostgreSQL: a poll's read of ${int(c?.idleManyJobs)} unchanged jobs, CPU ms`,
    num(c?.pollVersionsCpuMs, 1),
    `${num(c?.pollFullCpuMs, 1)} (every full row)`,
    ratio(c?.pollVersionsCpuMs, c?.pollFullCpuMs),
  );
}
