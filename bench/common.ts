/**
 * Helpers shared by the benchmark scenarios: each scenario runs in its own child process (started by
 * `run.ts`) and reports one JSON object on a line starting with `RESULT `.
 */

/** The prefix of the line a scenario reports its figures on. */
export const RESULT_PREFIX = 'RESULT ';

/** Prints the scenario's figures for the parent to read. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** A named integer argument `--name=value`, or `fallback`. */
export function intArg(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const arg = process.argv.find((a) => a.startsWith(prefix));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(prefix.length));
  if (!Number.isSafeInteger(value)) throw new Error(`--${name} must be an integer, got ${arg}`);
  return value;
}

/** A named string argument `--name=value` that must be one of `allowed`; the first by default. */
export function choiceArg<T extends string>(name: string, allowed: readonly T[]): T {
  const prefix = `--${name}=`;
  const value = process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
  if (value === undefined) return allowed[0] as T;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${name} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return value as T;
}

/**
 * Runs `cleanup` (once) when the process is interrupted (SIGINT, SIGTERM, e.g. Ctrl-C on
 * `npm run bench`), then exits: what a scenario made on a shared server is removed even then.
 * Its `finally` blocks do the same on an ordinary end or an error. Returns what unregisters it.
 */
/**
 * `cleanup` made safe to call from the scenario's end and from Ctrl-C alike: it runs once (a second
 * call gets the first call's promise), and it is armed for SIGINT / SIGTERM now.
 */
export function onceCleanUp(cleanup: () => Promise<void>): () => Promise<void> {
  let cleaned: Promise<void> | undefined;
  const once = (): Promise<void> => (cleaned ??= cleanup());
  cleanUpOnInterrupt(once);
  return once;
}

export function cleanUpOnInterrupt(cleanup: () => Promise<void>): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`${signal}: cleaning up before exit\n`);
    cleanup().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** heapUsed (bytes) after full collections; needs `--expose-gc`. */
export function settledHeap(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves at (or just after) the epoch-ms instant `at`. */
export async function sleepUntil(at: number): Promise<void> {
  for (let left = at - Date.now(); left > 0; left = at - Date.now()) await sleep(left);
}

/** The start (epoch ms) of the next wall-clock second. */
export function nextSecond(now = Date.now()): number {
  return now - (now % 1000) + 1000;
}

/** Nearest-rank percentiles (p in 0..1) of the first `n` values; sorts that part in place. */
export function percentiles(values: Float64Array, n: number, ps: number[]): number[] {
  const sorted = values.subarray(0, n).sort();
  return ps.map((p) => (n === 0 ? NaN : (sorted[Math.max(0, Math.ceil(p * n) - 1)] as number)));
}

/**
 * Records lateness samples (ms) of the fires due in a window of whole seconds, without allocating
 * per sample: a preallocated array and a counter.
 */
export class LatenessRecorder {
  readonly samples: Float64Array;
  count = 0;
  /** Fires due before the window (warm-up) or after it. */
  outside = 0;
  windowStart = Infinity;
  windowEnd = Infinity;
  /** The largest lateness of each second of the window, by due second. */
  readonly maxBySecond: number[] = [];

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  /** Records a fire due at `dueAt` that started at `startedAt` (both epoch ms). */
  record(dueAt: number, startedAt: number): void {
    if (dueAt >= this.windowStart && dueAt < this.windowEnd && this.count < this.samples.length) {
      const late = startedAt - dueAt;
      this.samples[this.count++] = late;
      const second = Math.floor((dueAt - this.windowStart) / 1000);
      if (!((this.maxBySecond[second] ?? -Infinity) >= late)) this.maxBySecond[second] = late;
    } else {
      this.outside++;
    }
  }

  /** Count and lateness figures of the window. */
  summary(): { fires: number; p50: number; p99: number; max: number; maxBySecond: string } {
    const [p50, p99, max] = percentiles(this.samples, this.count, [0.5, 0.99, 1]);
    return {
      fires: this.count,
      p50: p50 as number,
      p99: p99 as number,
      max: max as number,
      maxBySecond: this.maxBySecond.map((m) => Math.round(m)).join(' '),
    };
  }
}
