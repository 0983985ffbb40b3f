/** The first restart of a fire whose start could not be written comes this soon (ms). */
export const RESTART_FIRST_MS = 50;
/** Restarts of one fire slow down to one every this long (ms). */
export const RESTART_MAX_MS = 1_000;
/** The first retry of a run record that could not be written (ms). */
export const WRITE_RETRY_FIRST_MS = 100;
/** Retries of one record slow down to one every this long (ms). */
export const WRITE_RETRY_MAX_MS = 2_000;

/**
 * The wait before the `n`-th restart (n from 1) of a fire whose start (or claim) failed: 50 ms
 * doubling to 1 s, times a random factor in [0.75, 1] so that instances and jobs do not retry in
 * step. A fire on time gets about four tries within the default `misfireThreshold` (1 s); after an
 * outage, a fire the misfire policy keeps starts within a second of the storage's return.
 */
export function restartDelay(n: number, random: () => number = Math.random): number {
  return backoffDelay(RESTART_FIRST_MS, RESTART_MAX_MS, n, 0.25, random);
}

/**
 * The wait before the `n`-th retry (n from 1) of something that keeps failing: `first` doubling to
 * `max`, times a random factor in [1 - spread, 1] so that what fails together does not retry in step.
 */
export function backoffDelay(
  first: number,
  max: number,
  n: number,
  spread: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(max, first * 2 ** Math.min(Math.max(n, 1) - 1, 30));
  return Math.round(full * (1 - spread + spread * random()));
}

/**
 * One thing retried until it goes through (a record write, a batch flush, a lease renewal): its
 * failures in a row, and the wait before its next try (`backoffDelay`). Each user reports its
 * failures its own way (the scheduler's once per episode, through `StorageFaultLog`).
 */
export class RetryBackoff {
  private count = 0;

  constructor(
    private readonly first: number,
    private readonly max: number,
    private readonly spread = 0.25,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures in a row so far (0 after a success). */
  get failures(): number {
    return this.count;
  }

  /** A try failed: counted, and the wait before the next one. */
  failed(): number {
    this.count++;
    return this.delay();
  }

  /** The wait before the next try after the failures so far. */
  delay(): number {
    return backoffDelay(this.first, this.max, this.count, this.spread, this.random);
  }

  /** A try went through: resolves to how many had failed in a row before it. */
  succeeded(): number {
    const failed = this.count;
    this.count = 0;
    return failed;
  }
}
