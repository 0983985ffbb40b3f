import type { Job } from '../interfaces/job.interface.js';

/**
 * What happens to a job once a run of it has ended:
 * - `completed`: a `once` job succeeded; it never fires again.
 * - `failed`: a `once` job failed with no retry left; it never fires again.
 * - `retry`: the run failed with a retry left; the next attempt is due at `at`.
 * - `next`: a recurring job goes back to its schedule (its retries, if any, are over).
 */
export type AfterRun =
  | { readonly kind: 'completed' }
  | { readonly kind: 'failed' }
  | { readonly kind: 'retry'; readonly at: number }
  | { readonly kind: 'next' };

const COMPLETED: AfterRun = { kind: 'completed' };
const FAILED: AfterRun = { kind: 'failed' };
const NEXT: AfterRun = { kind: 'next' };

/**
 * Decides what follows a run of `job` that ended at `now`, `ok` or not. A failed run is retried
 * `retryDelay` ms later while the job has retries left (`retryCount < maxRetry`) and still exists.
 */
export function afterRun(
  job: Pick<Job, 'type' | 'retryCount' | 'maxRetry'>,
  ok: boolean,
  removed: boolean,
  now: number,
  retryDelay: number,
): AfterRun {
  if (!ok && job.retryCount < job.maxRetry && !removed)
    return { kind: 'retry', at: now + retryDelay };
  if (job.type === 'once') return ok ? COMPLETED : FAILED;
  return NEXT;
}
