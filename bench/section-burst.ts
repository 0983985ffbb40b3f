/**
 * Section 1 of `npm run bench`, timer precision: 10,000 jobs on `* * * * * *`, ours (in memory)
 * against `cron`, `@nestjs/schedule` and `croner`, each in its own process, and against the floor
 * (`burst-floor.ts`: the least code writing the same records), also counting the first second.
 */
import { int, kib, ms } from './format.js';
import { load } from './machine.js';
import { scenario, type Figures } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

const SECONDS = 10;
const WARMUP = 2;
const JOBS = 10_000;

const latency = (f: Figures | undefined): string =>
  f ? `${ms(f.p50)} / ${ms(f.p99)} / ${ms(f.max)}` : 'n/a';

function print(out: Transcript, title: string, f: Figures | undefined): void {
  out.write(`\n${title} (load after: ${load()})\n`);
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
      `  late-tick warnings ${int(f.warnings)} (skipped past threshold ${int(f.skippedWarnings)});` +
        ` ticks over 1 s late (counted in the next second) ${int(f.repeats)}, seconds a job skipped ${int(f.gaps)}`,
    );
  }
  out.write(`${lines.join('\n')}\n`);
}

const PEERS = [
  { who: 'cron', file: './burst-cron.ts', title: `cron CronJobs` },
  {
    who: '@nestjs/schedule',
    file: './burst-nest-schedule.ts',
    title: 'CronJobs in @nestjs/schedule (SchedulerRegistry.addCronJob, job.start())',
  },
  { who: 'croner', file: './burst-croner.ts', title: 'croner Crons' },
] as const;

const LATENESS_WHY =
  "All 10,000 fall due on the same millisecond and each fire of ours is a whole run (a claim, a run record created and ended, the job updated, a context and an id), started one after another; the peers only call a function from each job's own timer.";
const FLOOR_WHY =
  'The floor writes the same records with nothing else; a run of ours also keeps its time-out, its retries and misfire policy, its events, metrics and span, and its recovery after a crash.';
const HEAP_WHY =
  'Each job of ours holds its stored record (name, payload, options, status) beside its timer entry; the peers hold a timer and a parsed pattern.';

/** One lateness comparison row: p99 the ratio, p50 beside it. */
function compareLateness(
  board: Scoreboard,
  scenario: string,
  ours: Figures | undefined,
  theirs: Figures | undefined,
  who: string,
  why: string,
): void {
  board.compare({
    scenario,
    ours: ours?.p99 as number | undefined,
    theirs: theirs?.p99 as number | undefined,
    oursText: latency(ours),
    theirsText: latency(theirs),
    ratioLabel: 'p99 ',
    secondary: {
      label: 'p50 ',
      ours: ours?.p50 as number | undefined,
      theirs: theirs?.p50 as number | undefined,
    },
    who,
    better: 'lower',
    format: ms,
    why,
  });
}

export async function burstSection(out: Transcript, board: Scoreboard): Promise<void> {
  const args = [`--jobs=${JOBS}`, `--seconds=${SECONDS}`, `--warmup=${WARMUP}`];
  const window = `${SECONDS} s after ${WARMUP} s of warm-up`;
  const ours = await scenario(out, './burst-ours.ts', [...args, `--concurrent=${JOBS}`]);
  print(
    out,
    `1a. fire burst, ours: ${JOBS} jobs '* * * * * *', concurrentRuns ${JOBS}, ${window}`,
    ours,
  );
  const ours5 = await scenario(out, './burst-ours.ts', [...args, '--concurrent=5']);
  print(
    out,
    `1b. fire burst, ours: ${JOBS} jobs '* * * * * *', concurrentRuns 5 (default), ${window}`,
    ours5,
  );
  const floor5 = await scenario(out, './burst-floor.ts', [...args, '--concurrent=5']);
  print(
    out,
    `1c. fire burst, floor: ${JOBS} jobs every second, 5 at a time, the least code writing a run's records (bench/floor.ts), ${window}`,
    floor5,
  );
  // The first second counted too: the code and the heap are cold for it.
  const cold = [`--jobs=${JOBS}`, `--seconds=${SECONDS}`, '--warmup=0', '--concurrent=5'];
  const ours5Cold = await scenario(out, './burst-ours.ts', cold);
  print(out, `1d. fire burst, ours, concurrentRuns 5, ${SECONDS} s from the first fire`, ours5Cold);
  const floor5Cold = await scenario(out, './burst-floor.ts', cold);
  print(out, `1e. fire burst, floor, 5 at a time, ${SECONDS} s from the first fire`, floor5Cold);
  const peers: Record<string, Figures | undefined> = {};
  let letter = 'f'.charCodeAt(0);
  for (const peer of PEERS) {
    peers[peer.who] = await scenario(out, peer.file, args);
    const label = `1${String.fromCharCode(letter++)}`;
    print(
      out,
      `${label}. fire burst, peer: ${JOBS} ${peer.title} '* * * * * *', ${window}`,
      peers[peer.who],
    );
  }

  const memory = await scenario(out, './memory-flat.ts', [`--jobs=${JOBS}`, '--seconds=60']);
  out.write(
    `\n1${String.fromCharCode(letter)}. memory over a minute, ours: ${JOBS} jobs '* * * * * *', every default (load after: ${load()})\n`,
  );
  if (memory) {
    out.write(
      `  heap after 15 s ${Number(memory.heapEarlyMiB).toFixed(1)} MiB, after 60 s ${Number(memory.heapLateMiB).toFixed(1)} MiB` +
        ` (${(Number(memory.growth) * 100).toFixed(1)}%), ${int(memory.runs)} runs\n`,
    );
  }

  const scenarioName = `Burst (${int(JOBS)} jobs every second, ${SECONDS} s)`;
  board.row(
    `Memory (${int(JOBS)} jobs every second, every default): heap after 60 s against after 15 s`,
    memory ? `${Number(memory.heapLateMiB).toFixed(1)} MiB` : 'n/a',
    memory ? `${Number(memory.heapEarlyMiB).toFixed(1)} MiB (after 15 s)` : '',
    memory ? `${(Number(memory.growth) * 100).toFixed(1)}% (aim: within 10%)` : 'n/a',
  );
  board.row(
    `${scenarioName}: fires/s; missed fires (of ${int(JOBS * SECONDS)})`,
    `${int(ours?.firesPerSec)}; ${int(ours?.missed)}`,
    PEERS.map(
      (p) => `${int(peers[p.who]?.firesPerSec)}; ${int(peers[p.who]?.missed)} (${p.who})`,
    ).join(', '),
  );
  for (const peer of PEERS) {
    const scenario = `${scenarioName}: lateness p50 / p99 / max (ms), vs ${peer.who}`;
    compareLateness(board, scenario, ours, peers[peer.who], peer.who, LATENESS_WHY);
  }
  for (const peer of PEERS) {
    board.compare({
      scenario: `${scenarioName}: heap per idle job, vs ${peer.who}`,
      ours: ours?.heapPerJob as number | undefined,
      theirs: peers[peer.who]?.heapPerJob as number | undefined,
      who: peer.who,
      better: 'lower',
      format: kib,
      why: HEAP_WHY,
    });
  }
  for (const [when, oursF, floorF] of [
    ['', ours5, floor5],
    [', from the first fire', ours5Cold, floor5Cold],
  ] as const) {
    const scenario = `${scenarioName}, concurrentRuns 5${when}: lateness p50 / p99 / max (ms), vs the floor`;
    compareLateness(board, scenario, oursF, floorF, 'floor', FLOOR_WHY);
  }
  compareLateness(
    board,
    `${scenarioName}, concurrentRuns 5, from the first fire: lateness p50 / p99 / max (ms), vs cron`,
    ours5Cold,
    peers.cron,
    'cron',
    LATENESS_WHY,
  );
  compareLateness(
    board,
    `${scenarioName}, concurrentRuns 5 (default): lateness p50 / p99 / max (ms), vs cron`,
    ours5,
    peers.cron,
    'cron',
    LATENESS_WHY,
  );
}
