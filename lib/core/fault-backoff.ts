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
  return backoff(RESTART_FIRST_MS, RESTART_MAX_MS, n, random);
}

/** The wait before the `n`-th retry (n from 1) of a record write: 100 ms doubling to 2 s, jittered. */
export function writeRetryDelay(n: number, random: () => number = Math.random): number {
  return backoff(WRITE_RETRY_FIRST_MS, WRITE_RETRY_MAX_MS, n, random);
}

function backoff(first: number, max: number, n: number, random: () => number): number {
  const full = Math.min(max, first * 2 ** Math.min(Math.max(n, 1) - 1, 30));
  return Math.round(full * (0.75 + 0.25 * random()));
}
