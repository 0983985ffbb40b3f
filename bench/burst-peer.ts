/**
 * The fire burst of a peer timer library (`cron`, `@nestjs/schedule`, `croner`): `--jobs` jobs on
 * `* * * * * *` with a no-op tick, observed for `--seconds` whole seconds after `--warmup`. These
 * libraries do not tell a tick its due instant, so lateness is the tick's time minus the start of
 * its second. A tick more than a second late would count for the next second: each job's ticks are
 * checked for that (`repeats`: a job ticking twice in one second) and for seconds a job skipped
 * (`gaps`). Each peer's file gives how to set up, add one job, and stop; this runs the rest.
 */
import { LatenessRecorder, intArg, nextSecond, report, settledHeap, sleepUntil } from './common.js';

/** One peer, ready to take jobs. */
export interface PeerTimers {
  /** Adds and starts one job firing `onTick` every second, as the peer's users would. */
  add(index: number, onTick: () => void): void;
  /** Stops every job (and whatever `setUp` made). */
  stop(): Promise<void>;
}

/** Runs the burst: `setUp` makes the peer (an app context, say) before the heap baseline is taken. */
export async function runPeerBurst(setUp: () => Promise<PeerTimers>): Promise<void> {
  const jobs = intArg('jobs', 10_000);
  const seconds = intArg('seconds', 10);
  /** Whole seconds of fires before the window (JIT warm-up, young generation grown back after the forced GCs). */
  const warmup = intArg('warmup', 2);

  const recorder = new LatenessRecorder(jobs * (seconds + 1));
  // cron warns on stderr for each tick it runs late or skips (past its 250 ms threshold): count them.
  let warnings = 0;
  let skippedWarnings = 0;
  console.warn = (message: unknown) => {
    warnings++;
    if (String(message).includes('Skipping')) skippedWarnings++;
  };
  /** The second each job last ticked in (epoch ms), to find repeats and gaps. */
  const lastSecond = new Float64Array(jobs);
  let repeats = 0;
  let gaps = 0;
  const tickOf = (index: number) => (): void => {
    const now = Date.now();
    const second = now - (now % 1000);
    const last = lastSecond[index]!;
    if (second === last) repeats++;
    else if (last !== 0 && second > last + 1000) gaps += (second - last) / 1000 - 1;
    lastSecond[index] = second;
    recorder.record(second, now);
  };
  const timers = await setUp();
  const baseline = settledHeap();

  await sleepUntil(nextSecond() + 20);
  const addStart = performance.now();
  for (let i = 0; i < jobs; i++) timers.add(i, tickOf(i));
  const addMs = performance.now() - addStart;
  const heap = settledHeap();
  const measuredAt = Date.now();
  const idleClean = measuredAt < nextSecond(addStart + performance.timeOrigin);

  recorder.windowStart = nextSecond(measuredAt) + warmup * 1000;
  recorder.windowEnd = recorder.windowStart + seconds * 1000;
  const heapBeforeWindow = settledHeap();
  await sleepUntil(recorder.windowEnd + 1500);
  const heapAfterWindow = settledHeap();
  await timers.stop();

  const expected = jobs * seconds;
  const summary = recorder.summary();
  report({
    jobs,
    seconds,
    warmup,
    expected,
    ...summary,
    firesPerSec: summary.fires / seconds,
    missed: expected - summary.fires,
    warnings,
    skippedWarnings,
    // Over the whole run, warm-up included.
    repeats,
    gaps,
    heapPerJob: (heap - baseline) / jobs,
    idleClean,
    // Every fire between the two measurements: the window's, the warm-up's and those after the window.
    retainedPerRun:
      (heapAfterWindow - heapBeforeWindow) / Math.max(1, summary.fires + recorder.outside),
    addsPerSec: jobs / (addMs / 1000),
  });
}
