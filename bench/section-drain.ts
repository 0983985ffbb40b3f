/**
 * Section 2 of `npm run bench`, the in-memory drain: 100,000 due once-jobs, ours against the event
 * loop's bound (a bare min-heap and 50 workers awaiting a no-op) and the floor (`drain-floor.ts`: the
 * least code writing the same records).
 */
import { int } from './format.js';
import { load } from './machine.js';
import { scenario } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

const JOBS = 100_000;

export async function drainSection(out: Transcript, board: Scoreboard): Promise<void> {
  const drain = await scenario(out, './drain-ours.ts', [`--jobs=${JOBS}`, '--concurrent=50']);
  out.write(
    `\n2a. drain, ours: ${JOBS} once-jobs due now, concurrentRuns 50 (load after: ${load()})\n`,
  );
  if (drain) {
    out.write(
      `  runs/s ${int(drain.runsPerSec)} (${int(drain.drainMs)} ms from start(), of which start() ${int(drain.startMs)} ms)` +
        `   adds/s ${int(drain.addsPerSec)} (${int(drain.addMs)} ms)\n`,
    );
  }
  const bound = await scenario(out, './drain-baseline.ts', [`--jobs=${JOBS}`, '--concurrent=50']);
  out.write(`\n2b. drain, bound: min-heap of ${JOBS}, 50 workers awaiting an async no-op\n`);
  if (bound) {
    out.write(
      `  runs/s ${int(bound.runsPerSec)} (median of ${int(bound.rounds)} rounds, ${Number(bound.medianMs).toFixed(1)} ms;` +
        ` first round ${int(bound.runsPerSecFirst)})\n`,
    );
  }
  const floor = await scenario(out, './drain-floor.ts', [`--jobs=${JOBS}`, '--concurrent=50']);
  out.write(
    `\n2c. drain, floor: the least code writing a run's records (bench/floor.ts), 50 workers\n`,
  );
  if (floor) {
    out.write(
      `  runs/s ${int(floor.runsPerSec)} (${int(floor.drainMs)} ms from the load, of which the load ${int(floor.startMs)} ms)\n`,
    );
  }
  const share = drain && bound ? (Number(drain.runsPerSec) / Number(bound.runsPerSec)) * 100 : NaN;
  const shareText = Number.isFinite(share) ? `${share.toFixed(1)}%` : 'n/a';
  const floorShare =
    floor && bound ? (Number(floor.runsPerSec) / Number(bound.runsPerSec)) * 100 : NaN;
  const floorText = Number.isFinite(floorShare) ? `${floorShare.toFixed(1)}%` : 'n/a';
  out.write(`  ours is ${shareText} of the bound, the floor ${floorText}\n`);

  board.row(
    `Drain, in memory: runs/s (${int(JOBS)} due once-jobs, 50 in flight)`,
    int(drain?.runsPerSec),
    `${int(bound?.runsPerSec)} (bare heap + await, no storage)`,
    shareText,
  );
  board.row(
    'Drain, in memory: runs/s, ours vs the floor (the same records, nothing else)',
    int(drain?.runsPerSec),
    `${int(floor?.runsPerSec)} (floor: ${floorText} of the bound)`,
    drain && floor ? `${(Number(drain.runsPerSec) / Number(floor.runsPerSec)).toFixed(2)}x` : 'n/a',
  );
  board.row('Drain, in memory: adds/s (addJob, sequential)', int(drain?.addsPerSec));
}
