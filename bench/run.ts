/**
 * `npm run bench`: runs each scenario in a fresh child process (clean heap figures), prints its
 * figures as it ends, then a markdown table for the README. Asserts nothing.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RESULT_PREFIX } from './common.js';

type Figures = Record<string, number | boolean | string | undefined>;

const SECONDS = 10;
const WARMUP = 2;
const BURST_JOBS = 10_000;
const DRAIN_JOBS = 100_000;
/** Persisted drain on PostgreSQL: batched, and unbatched (fewer jobs: it runs at the commit rate). */
const PERSIST_JOBS = 20_000;
const PERSIST_JOBS_UNBATCHED = 5_000;
const PERSIST_BATCH_SIZE = 500;
const PERSIST_FLUSH_MS = 100;

/** The 1-minute load average. */
const load = (): string => loadavg()[0]!.toFixed(2);

function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown';
  let logical = cpus().length;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? model;
    logical = (info.match(/^processor\s*:/gm) ?? []).length || logical;
  } catch {
    // Not Linux: keep what os.cpus() said.
  }
  const cronVersion = (
    JSON.parse(
      readFileSync(new URL('../node_modules/cron/package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    }
  ).version;
  return [
    `date:    ${new Date().toISOString()}`,
    `cpu:     ${model}, ${logical} logical cores (${availableParallelism()} available to Node)`,
    `node:    ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`,
    `peer:    cron ${cronVersion}`,
    `load:    ${load()} (other processes share these cores; figures move with it)`,
  ].join('\n');
}

/** Runs one scenario file in a child process and returns the figures it reported. */
function scenario(file: string, args: string[]): Promise<Figures | undefined> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) {
        process.stdout.write(`  ! ${file} ${args.join(' ')} failed (exit ${code})\n${out}`);
        resolve(undefined);
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as Figures);
    });
  });
}

const int = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
const ms = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n)}` : 'n/a';
const kib = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${(n / 1024).toFixed(2)} KiB` : 'n/a';
function ratio(a: unknown, b: unknown): string {
  if (typeof a !== 'number' || typeof b !== 'number' || !(b !== 0)) return 'n/a';
  return `${(a / b).toFixed(2)}x`;
}
const latency = (f: Figures | undefined): string =>
  f ? `${ms(f.p50)} / ${ms(f.p99)} / ${ms(f.max)}` : 'n/a';

function printBurst(title: string, f: Figures | undefined): void {
  process.stdout.write(`\n${title} (load after: ${load()})\n`);
  if (!f) return;
  const lines = [
    `  fires/s ${int(f.firesPerSec)}   missed ${int(f.missed)} of ${int(f.expected)}`,
    `  lateness ms p50 ${ms(f.p50)}  p99 ${ms(f.p99)}  max ${ms(f.max)}   worst of each second: ${String(f.maxBySecond)}`,
    `  heap per idle job ${kib(f.heapPerJob)}${f.idleClean ? '' : ' (measured after the first ticks)'}` +
      `   heap kept per fire ${int(f.retainedPerRun)} B   adds/s ${int(f.addsPerSec)}`,
  ];
  if (f.firesSkipped !== undefined) lines.push(`  metrics.firesSkipped ${int(f.firesSkipped)}`);
  if (f.warnings !== undefined) {
    lines.push(
      `  late-tick warnings ${int(f.warnings)} (skipped past threshold ${int(f.skippedWarnings)})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

process.stdout.write(`${machine()}\n`);
const started = performance.now();

const burstArgs = [`--jobs=${BURST_JOBS}`, `--seconds=${SECONDS}`, `--warmup=${WARMUP}`];
const oursBurst = await scenario('./burst-ours.ts', [...burstArgs, `--concurrent=${BURST_JOBS}`]);
printBurst(
  `1a. fire burst, ours: ${BURST_JOBS} jobs '* * * * * *', concurrentRuns ${BURST_JOBS}, ${SECONDS} s after ${WARMUP} s of warm-up`,
  oursBurst,
);
const oursBurst5 = await scenario('./burst-ours.ts', [...burstArgs, '--concurrent=5']);
printBurst(
  `1b. fire burst, ours: ${BURST_JOBS} jobs '* * * * * *', concurrentRuns 5 (default), ${SECONDS} s after ${WARMUP} s of warm-up`,
  oursBurst5,
);
const cronBurst = await scenario('./burst-cron.ts', burstArgs);
printBurst(
  `1c. fire burst, peer: ${BURST_JOBS} cron CronJobs '* * * * * *', ${SECONDS} s after ${WARMUP} s of warm-up`,
  cronBurst,
);

const drain = await scenario('./drain-ours.ts', [`--jobs=${DRAIN_JOBS}`, '--concurrent=50']);
process.stdout.write(
  `\n2a. drain, ours: ${DRAIN_JOBS} once-jobs due now, concurrentRuns 50 (load after: ${load()})\n`,
);
if (drain) {
  process.stdout.write(
    `  runs/s ${int(drain.runsPerSec)} (${int(drain.drainMs)} ms from start(), of which start() ${int(drain.startMs)} ms)` +
      `   adds/s ${int(drain.addsPerSec)} (${int(drain.addMs)} ms)\n`,
  );
}
const bound = await scenario('./drain-baseline.ts', [`--jobs=${DRAIN_JOBS}`, '--concurrent=50']);
process.stdout.write(
  `\n2b. drain, bound: min-heap of ${DRAIN_JOBS}, 50 workers awaiting an async no-op\n`,
);
if (bound) {
  process.stdout.write(
    `  runs/s ${int(bound.runsPerSec)} (median of ${int(bound.rounds)} rounds, ${Number(bound.medianMs).toFixed(1)} ms;` +
      ` first round ${int(bound.runsPerSecFirst)})\n`,
  );
}
const share = drain && bound ? (Number(drain.runsPerSec) / Number(bound.runsPerSec)) * 100 : NaN;
process.stdout.write(
  `  ours is ${Number.isFinite(share) ? share.toFixed(1) : 'n/a'}% of the bound\n`,
);

// ---- 3. persisted drain on PostgreSQL -------------------------------------------------------------

const num = (n: unknown, digits = 2): string =>
  typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
const counts = (f: Figures): Record<string, number> =>
  (f.counts ?? {}) as unknown as Record<string, number>;

process.stdout.write(
  `\n3. persisted drain, PostgreSQL (TypeOrmStorage): once-jobs due now, no-op handler, concurrentRuns 50\n`,
);
const persistBound = await scenario('./persist-postgres.ts', ['--mode=bound']);
const pgSkipped = persistBound?.skipped === true;
let persistOff: Figures | undefined;
let persistOn: Figures | undefined;
if (pgSkipped) {
  process.stdout.write(
    `  skipped: PostgreSQL is not reachable at ${String(persistBound?.url)} (${String(persistBound?.reason)}).` +
      ' Start it, or set TEST_POSTGRES_URL.\n',
  );
} else {
  if (persistBound) {
    process.stdout.write(
      `  server bound, one connection, best of 3 rounds (${String(persistBound.settings)}):\n` +
        `    single-row INSERT commits/s ${int(persistBound.commitsPerSec)}` +
        ` (bare pg ${int(persistBound.commitsPerSecRaw)}; a fresh QueryRunner each ${int(persistBound.commitsPerSecFreshRunner)})\n` +
        `    100-row INSERTs rows/s ${int(persistBound.rowsPerSec100)} (bare pg ${int(persistBound.rowsPerSec100Raw)})\n` +
        `    SELECT 1 round trips/s ${int(persistBound.selectsPerSec)}` +
        ` (bare pg ${int(persistBound.selectsPerSecRaw)}; a fresh QueryRunner each ${int(persistBound.selectsPerSecFreshRunner)})\n`,
    );
  }
  const common = ['--concurrent=50'];
  persistOff = await scenario('./persist-postgres.ts', [
    '--mode=off',
    `--jobs=${PERSIST_JOBS_UNBATCHED}`,
    ...common,
  ]);
  process.stdout.write(
    `  3a. batch off, ${int(PERSIST_JOBS_UNBATCHED)} jobs (load after: ${load()})\n`,
  );
  if (persistOff) {
    const c = counts(persistOff);
    const perSec = Number(persistOff.statements) / (Number(persistOff.runsMs) / 1000);
    process.stdout.write(
      `    runs/s ${int(persistOff.runsPerSec)} persisted (every run row written ${ms(persistOff.runsMs)} ms after start(),` +
        ` of which start() ${ms(persistOff.startMs)} ms; every job row ${ms(persistOff.jobsMs)} ms)\n` +
        `    statements ${int(persistOff.statements)} = ${num(persistOff.statementsPerRun)} per run` +
        ` (run upserts ${int(c.runUpsert)}, job updates ${int(c.jobUpdate)}, selects ${int(c.select)}, begin/commit ${int(persistOff.controlStatements)})` +
        ` = ${int(perSec)} statements/s, ${ratio(perSec, persistBound?.commitsPerSec)} the single-row commit bound\n` +
        `    CPU during the drain: node ${int(persistOff.nodeCpuMs)} ms, postgres ${int(persistOff.postgresCpuMs)} ms` +
        ` (${int((Number(persistOff.postgresCpuMs) * 1000) / Number(persistOff.statements))} µs per statement)\n`,
    );
  }
  persistOn = await scenario('./persist-postgres.ts', [
    '--mode=on',
    `--jobs=${PERSIST_JOBS}`,
    `--batch-size=${PERSIST_BATCH_SIZE}`,
    `--flush=${PERSIST_FLUSH_MS}`,
    ...common,
  ]);
  process.stdout.write(
    `  3b. batch on (batchSize ${PERSIST_BATCH_SIZE}, batchFlushInterval ${PERSIST_FLUSH_MS} ms), ${int(PERSIST_JOBS)} jobs (load after: ${load()})\n`,
  );
  if (persistOn) {
    const c = counts(persistOn);
    const flushes = Number(persistOn.flushes);
    const records = Number(persistOn.upsertedRuns) + Number(persistOn.batchUpdatedJobs);
    const flushStatements = Number(persistOn.statements) - c.select!;
    process.stdout.write(
      `    runs/s ${int(persistOn.runsPerSec)} persisted (every run row written ${ms(persistOn.runsMs)} ms after start():` +
        ` start() ${ms(persistOn.startMs)} ms, handlers all done at ${ms(persistOn.handlersMs)} ms; every job row at ${ms(persistOn.jobsMs)} ms)\n` +
        `    statements ${int(persistOn.statements)} = ${num(persistOn.statementsPerRun, 4)} per run` +
        ` (run upserts ${int(c.runUpsert)}, job batch updates ${int(c.jobBatchUpdate)}, single job updates ${int(c.jobUpdate)},` +
        ` selects ${int(c.select)}, begin/commit ${int(persistOn.controlStatements)})\n` +
        `    flushes ${int(flushes)} (failed ${int(persistOn.flushFailures)}): ${num(flushStatements / flushes, 1)} round trips per flush,` +
        ` ${int(records / flushes)} records per flush (runs ${int(persistOn.upsertedRuns)}, jobs ${int(persistOn.batchUpdatedJobs)}), largest run upsert ${int(persistOn.maxRunsPerUpsert)} rows\n` +
        `    time in flush statements (TypeORM slow-query log, ≥1 ms): run upserts ${int(
          (persistOn.slowMs as unknown as Record<string, number>)?.runUpsert,
        )} ms, job updates ${int((persistOn.slowMs as unknown as Record<string, number>)?.jobBatchUpdate)} ms\n` +
        `    CPU during the drain: node ${int(persistOn.nodeCpuMs)} ms, postgres ${int(persistOn.postgresCpuMs)} ms\n` +
        `    ours / bound: ${ratio(persistOn.runsPerSec, persistBound?.rowsPerSec100)} of the 100-row INSERT rows/s in runs/s;` +
        ` each run writes 2 rows (its run, its job), so ${ratio(Number(persistOn.runsPerSec) * 2, persistBound?.rowsPerSec100)} in rows\n` +
        `    aim (≥ 10,000 runs/s, ≤ 1 round trip per batch write; a flush makes two: its runs, then its jobs): runs/s ${Number(persistOn.runsPerSec) >= 10_000 ? 'met' : 'NOT met'},` +
        ` round trips per batch write ${num(flushStatements / flushes / 2, 1)} (${flushStatements / flushes / 2 <= 1 ? 'met' : 'NOT met'})\n`,
    );
  }
}

// ---- 4. cluster scale-out on PostgreSQL -----------------------------------------------------------

const list = (values: unknown, format: (n: unknown) => string): string =>
  Array.isArray(values) ? values.map(format).join(' / ') : 'n/a';
process.stdout.write(
  `\n4. cluster scale-out, PostgreSQL: 1 / 2 / 3 instances (child processes), once-jobs due at one instant, concurrentRuns 10 each\n`,
);
const clusterOut = pgSkipped ? undefined : await scenario('./cluster-scale-out.ts', []);
const clusterSkipped = pgSkipped || clusterOut?.skipped === true;
if (clusterSkipped) {
  process.stdout.write(
    '  skipped: PostgreSQL is not reachable. Start it, or set TEST_POSTGRES_URL.\n',
  );
} else if (clusterOut) {
  process.stdout.write(
    `  4a. handler waits ${String(clusterOut.handlerMs)} ms, ${int(clusterOut.slowJobs)} jobs: runs/s ${list(clusterOut.slowRunsPerSec, int)}` +
      ` (2 / 3 instances: ${ratio(clusterOut.slowRatio2, 1)} / ${ratio(clusterOut.slowRatio3, 1)} of 1; aim 3 >= 2.50x: ${Number(clusterOut.slowRatio3) >= 2.5 ? 'met' : 'NOT met'});` +
      ` runs per instance ${list(clusterOut.slowPerInstance, String)}\n` +
      `  4b. no-op handler, ${int(clusterOut.noopJobs)} jobs: fires/s ${list(clusterOut.noopRunsPerSec, int)}` +
      ` (2 / 3 instances: ${ratio(clusterOut.noopRatio2, 1)} / ${ratio(clusterOut.noopRatio3, 1)} of 1); cluster off, 1 instance: ${int(clusterOut.singleRunsPerSec)}\n` +
      `      CPU per run, instances: ${list(clusterOut.noopNodeCpuMsPerRun, (n) => num(n))} ms; postgres: ${list(clusterOut.noopPostgresCpuMsPerRun, (n) => num(n))} ms\n` +
      `  4c. statements per run (no-op): cluster off ${num(clusterOut.statementsPerRunSingle)}, cluster 1 / 2 / 3 instances ${list(clusterOut.statementsPerRunCluster, (n) => num(n))};` +
      ` idle cluster instance ${num(clusterOut.idleStatementsPerSec)} statements/s (default timings), ${num(clusterOut.idleStatementsPerSecShort)} (heartbeat 500 ms, poll 200 ms)\n` +
      `  4d. recurring jobs (${int(clusterOut.periodicJobs)} every second), 1 / 2 / 3 instances: runs/s ${list(clusterOut.periodicRunsPerSec, int)};` +
      ` statements per run ${list(clusterOut.periodicStatementsPerRun, (n) => num(n))}; claims lost per run ${list(clusterOut.periodicLostPerRun, (n) => num(n))}\n` +
      `  4e. idle cluster instance with ${int(clusterOut.idleManyJobs)} jobs: CPU ${num(clusterOut.idleManyCpuMsPerSec, 1)} ms/s (100 jobs: ${num(clusterOut.idleCpuMsPerSec, 1)} ms/s);` +
      ` a poll's read of them: ${num(clusterOut.pollVersionsCpuMs, 1)} ms CPU (ids and versions) against ${num(clusterOut.pollFullCpuMs, 1)} ms (every full row)\n` +
      `  every job run exactly once: ${clusterOut.wrongRuns === 0 ? 'yes' : `NO (${String(clusterOut.wrongRuns)} wrong)`} (${int(clusterOut.seconds)} s, load after: ${load()})\n`,
  );
}
const clusterAt = (key: string, i: number): unknown =>
  Array.isArray(clusterOut?.[key]) ? (clusterOut[key] as unknown as unknown[])[i] : undefined;

const rows: string[][] = [
  ['Scenario', 'ours', 'peer / baseline', 'ratio (ours / other)'],
  [
    `Burst: fires/s (${int(BURST_JOBS)} jobs every second, ${SECONDS} s)`,
    int(oursBurst?.firesPerSec),
    `${int(cronBurst?.firesPerSec)} (cron)`,
    ratio(oursBurst?.firesPerSec, cronBurst?.firesPerSec),
  ],
  [
    `Burst: missed fires (of ${int(BURST_JOBS * SECONDS)})`,
    int(oursBurst?.missed),
    `${int(cronBurst?.missed)} (cron)`,
    '',
  ],
  [
    'Burst: lateness p50 / p99 / max (ms)',
    latency(oursBurst),
    `${latency(cronBurst)} (cron)`,
    `p99 ${ratio(oursBurst?.p99, cronBurst?.p99)}`,
  ],
  [
    'Burst: heap per idle job',
    kib(oursBurst?.heapPerJob),
    `${kib(cronBurst?.heapPerJob)} (cron)`,
    ratio(oursBurst?.heapPerJob, cronBurst?.heapPerJob),
  ],
  [
    'Burst, concurrentRuns 5: fires/s, missed, lateness p50 / p99 / max (ms)',
    oursBurst5
      ? `${int(oursBurst5.firesPerSec)}, ${int(oursBurst5.missed)}, ${latency(oursBurst5)}`
      : 'n/a',
    cronBurst
      ? `${int(cronBurst.firesPerSec)}, ${int(cronBurst.missed)}, ${latency(cronBurst)} (cron)`
      : 'n/a',
    `p99 ${ratio(oursBurst5?.p99, cronBurst?.p99)}`,
  ],
  [
    `Drain: runs/s (${int(DRAIN_JOBS)} due once-jobs, 50 in flight)`,
    int(drain?.runsPerSec),
    `${int(bound?.runsPerSec)} (bare heap + await)`,
    Number.isFinite(share) ? `${share.toFixed(1)}%` : 'n/a',
  ],
  ['Drain: adds/s (addJob, sequential)', int(drain?.addsPerSec), '', ''],
  [
    `Persisted drain, PostgreSQL, batch on: runs/s (${int(PERSIST_JOBS)} due once-jobs)`,
    pgSkipped ? 'skipped' : int(persistOn?.runsPerSec),
    `${int(persistBound?.rowsPerSec100)} rows/s (100-row INSERTs)`,
    pgSkipped ? '' : ratio(persistOn?.runsPerSec, persistBound?.rowsPerSec100),
  ],
  [
    `Persisted drain, PostgreSQL, batch off: runs/s (${int(PERSIST_JOBS_UNBATCHED)} due once-jobs)`,
    pgSkipped ? 'skipped' : int(persistOff?.runsPerSec),
    `${int(persistBound?.commitsPerSec)} commits/s (single-row INSERTs)`,
    pgSkipped ? '' : ratio(persistOff?.runsPerSec, persistBound?.commitsPerSec),
  ],
  [
    'Persisted drain, PostgreSQL: statements per run, batch off / on',
    pgSkipped
      ? 'skipped'
      : `${num(persistOff?.statementsPerRun)} / ${num(persistOn?.statementsPerRun, 4)}`,
    '',
    '',
  ],
  [
    `Cluster, PostgreSQL, ${String(clusterOut?.handlerMs ?? 50)} ms handler: runs/s with 1 / 2 / 3 instances`,
    clusterSkipped ? 'skipped' : list(clusterOut?.slowRunsPerSec, int),
    `${int(clusterAt('slowRunsPerSec', 0))} (1 instance)`,
    clusterSkipped
      ? ''
      : `${ratio(clusterOut?.slowRatio2, 1)} / ${ratio(clusterOut?.slowRatio3, 1)} (2 / 3 instances)`,
  ],
  [
    'Cluster, PostgreSQL, no-op handler: fires/s with 1 / 2 / 3 instances',
    clusterSkipped ? 'skipped' : list(clusterOut?.noopRunsPerSec, int),
    `${int(clusterOut?.singleRunsPerSec)} (cluster off)`,
    clusterSkipped ? '' : ratio(clusterAt('noopRunsPerSec', 0), clusterOut?.singleRunsPerSec),
  ],
  [
    'Cluster, PostgreSQL: statements per run, 1 / 2 / 3 instances; idle statements/s',
    clusterSkipped
      ? 'skipped'
      : `${list(clusterOut?.statementsPerRunCluster, (n) => num(n))}; idle ${num(clusterOut?.idleStatementsPerSec)}/s`,
    `${num(clusterOut?.statementsPerRunSingle)} (cluster off)`,
    clusterSkipped
      ? ''
      : ratio(clusterAt('statementsPerRunCluster', 0), clusterOut?.statementsPerRunSingle),
  ],
  [
    `Cluster, PostgreSQL: ${int(clusterOut?.periodicJobs)} recurring jobs every second, statements per run with 1 / 2 / 3 instances`,
    clusterSkipped ? 'skipped' : list(clusterOut?.periodicStatementsPerRun, (n) => num(n)),
    `${num(clusterAt('periodicStatementsPerRun', 0))} (1 instance)`,
    clusterSkipped
      ? ''
      : ratio(clusterAt('periodicStatementsPerRun', 2), clusterAt('periodicStatementsPerRun', 0)),
  ],
  [
    `Cluster, PostgreSQL: a poll's read of ${int(clusterOut?.idleManyJobs)} unchanged jobs, CPU ms`,
    clusterSkipped ? 'skipped' : num(clusterOut?.pollVersionsCpuMs, 1),
    `${num(clusterOut?.pollFullCpuMs, 1)} (every full row)`,
    clusterSkipped ? '' : ratio(clusterOut?.pollVersionsCpuMs, clusterOut?.pollFullCpuMs),
  ],
];
const table = rows.map((r) => `| ${r.join(' | ')} |`);
table.splice(1, 0, `|${rows[0]!.map(() => ' --- ').join('|')}|`);
process.stdout.write(`\n${table.join('\n')}\n`);
process.stdout.write(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
