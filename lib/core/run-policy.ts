import { InvalidJobError } from '../errors/invalid-job.error.js';
import type { Job, JobBackoff, JobDefinition } from '../interfaces/job.interface.js';
import { DURATION_HINT, parseDuration } from './duration.js';

/** A job's own run policy: its time-out and how its retries are spaced. */
export type RunPolicy = Pick<
  Job,
  'timeout' | 'retryDelay' | 'backoff' | 'maxRetryDelay' | 'jitter'
>;

const BACKOFFS: readonly JobBackoff[] = ['fixed', 'exponential'];
/** The longest duration a policy takes: about 24.8 days (setTimeout's limit), far past any sane wait. */
const MAX_POLICY_MS = 2 ** 31 - 1;

/**
 * Checks the run policy fields of a definition (`timeout`, `retryDelay`, `maxRetryDelay` as
 * durations or `null` for the scheduler's; `backoff`; `jitter` from 0 to 1). Throws
 * `InvalidJobError` naming the field and the value.
 */
export function validateRunPolicy(input: JobDefinition, ref: string): RunPolicy {
  const backoff = input.backoff ?? 'fixed';
  if (!BACKOFFS.includes(backoff)) {
    throw new InvalidJobError(
      'backoff',
      input.backoff,
      `must be one of ${BACKOFFS.map((b) => `'${b}'`).join(', ')}`,
      ref,
    );
  }
  const jitter = input.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new InvalidJobError('jitter', input.jitter, 'must be a number from 0 to 1', ref);
  }
  return {
    timeout: policyDuration(input.timeout, 'timeout', 1, ref),
    retryDelay: policyDuration(input.retryDelay, 'retryDelay', 0, ref),
    backoff,
    maxRetryDelay: policyDuration(input.maxRetryDelay, 'maxRetryDelay', 0, ref),
    jitter,
  };
}

/**
 * How long the `retry`-th retry (from 1) of the job waits: its `retryDelay` (or `fallback`, the
 * scheduler's), doubled per retry when exponential, capped at `maxRetryDelay`, then multiplied by a
 * random factor in `[1 - jitter, 1]`.
 */
export function retryDelayOf(
  job: RunPolicy,
  retry: number,
  fallback: number,
  random: () => number = Math.random,
): number {
  const base = job.retryDelay ?? fallback;
  let delay = job.backoff === 'exponential' ? base * 2 ** Math.max(0, retry - 1) : base;
  if (job.maxRetryDelay !== null) delay = Math.min(delay, job.maxRetryDelay);
  if (!Number.isFinite(delay)) delay = MAX_POLICY_MS;
  if (job.jitter > 0) delay *= 1 - job.jitter * random();
  return Math.round(delay);
}

/** How long a run of the job may take: its `timeout`, or `fallback` (the scheduler's `jobTimeout`). */
export function timeoutOf(job: RunPolicy, fallback: number): number {
  return job.timeout ?? fallback;
}

function policyDuration(value: unknown, field: string, least: number, ref: string): number | null {
  if (value === undefined || value === null) return null;
  const ms = parseDuration(value);
  if (ms === null || ms < least || ms > MAX_POLICY_MS) {
    throw new InvalidJobError(
      field,
      value,
      `must be a duration of ${least === 0 ? '0 or more' : 'more than 0'} (at most 24 days), or null for the scheduler's: ${DURATION_HINT}`,
      ref,
    );
  }
  return ms;
}
