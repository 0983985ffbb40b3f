import type { MisfirePolicy } from '../interfaces/job.interface.js';

/**
 * What to do with a missed fire of a recurring job (one later than `misfireThreshold`: downtime, a
 * clock jump forward):
 * - `run`: run it, and let the other missed fires go (`'fire-once'`).
 * - `skip`: run none; the job waits for its next fire after now (`'skip'`).
 * - `catch-up`: run it, as one of a catch-up that runs each missed fire in turn (`'fire-all'`).
 * - `give-up`: the catch-up has run `maxMisfires` fires: run no more, reset it, and wait for the
 *   next fire after now.
 */
export type MisfireDecision = 'run' | 'skip' | 'catch-up' | 'give-up';

/** Decides a missed fire by the job's policy and how many catch-up runs it has had in a row. */
export function decideMisfire(
  policy: MisfirePolicy,
  catchUpRuns: number,
  maxMisfires: number,
): MisfireDecision {
  switch (policy) {
    case 'fire-once':
      return 'run';
    case 'skip':
      return 'skip';
    case 'fire-all':
      return catchUpRuns >= maxMisfires ? 'give-up' : 'catch-up';
  }
}
