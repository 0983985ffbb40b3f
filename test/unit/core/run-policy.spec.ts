import { describe, expect, it } from 'vitest';
import { retryDelayOf, timeoutOf, validateRunPolicy } from '../../../lib/core/run-policy.js';
import type { JobDefinition } from '../../../lib/interfaces/job.interface.js';

const definition = (fields: Partial<JobDefinition>): JobDefinition => ({
  handlerName: 'h',
  interval: '1s',
  ...fields,
});

describe('run policy', () => {
  it('defaults to the scheduler: no time-out or delay of its own, fixed, no jitter', () => {
    expect(validateRunPolicy(definition({}), '')).toEqual({
      timeout: null,
      retryDelay: null,
      backoff: 'fixed',
      maxRetryDelay: null,
      jitter: 0,
    });
  });

  it('reads durations as milliseconds or strings, null meaning the scheduler', () => {
    expect(
      validateRunPolicy(
        definition({
          timeout: '20m',
          retryDelay: 500,
          backoff: 'exponential',
          maxRetryDelay: '1h',
          jitter: 0.25,
        }),
        '',
      ),
    ).toEqual({
      timeout: 1_200_000,
      retryDelay: 500,
      backoff: 'exponential',
      maxRetryDelay: 3_600_000,
      jitter: 0.25,
    });
    expect(validateRunPolicy(definition({ timeout: null, retryDelay: 0 }), '')).toMatchObject({
      timeout: null,
      retryDelay: 0,
    });
  });

  it('spaces retries: fixed, doubling, capped, and jittered down by at most jitter', () => {
    const policy = { timeout: null, retryDelay: 1_000, maxRetryDelay: null, jitter: 0 };
    const fixed = { ...policy, backoff: 'fixed' as const };
    const exponential = { ...policy, backoff: 'exponential' as const };
    expect([1, 2, 3].map((n) => retryDelayOf(fixed, n, 5_000))).toEqual([1_000, 1_000, 1_000]);
    expect([1, 2, 3, 4].map((n) => retryDelayOf(exponential, n, 5_000))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
    const capped = { ...exponential, maxRetryDelay: 3_000 };
    expect([1, 2, 3, 4].map((n) => retryDelayOf(capped, n, 5_000))).toEqual([
      1_000, 2_000, 3_000, 3_000,
    ]);
    // The scheduler's retryDelay when the job has none.
    expect(retryDelayOf({ ...fixed, retryDelay: null }, 1, 5_000)).toBe(5_000);
    const jittered = { ...fixed, jitter: 0.5 };
    expect(retryDelayOf(jittered, 1, 0, () => 0)).toBe(1_000);
    expect(retryDelayOf(jittered, 1, 0, () => 0.999_999)).toBe(500);
    // Doubling far past any cap stays finite.
    expect(retryDelayOf(exponential, 2_000, 0)).toBe(2 ** 31 - 1);
  });

  it('takes the job time-out, or the scheduler one', () => {
    const policy = { retryDelay: null, backoff: 'fixed' as const, maxRetryDelay: null, jitter: 0 };
    expect(timeoutOf({ ...policy, timeout: 2_000 }, 300_000)).toBe(2_000);
    expect(timeoutOf({ ...policy, timeout: null }, 300_000)).toBe(300_000);
  });
});
