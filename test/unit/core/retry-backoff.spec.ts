import { describe, expect, it } from 'vitest';
import {
  RetryBackoff,
  RESTART_MAX_MS,
  WRITE_RETRY_FIRST_MS,
  WRITE_RETRY_MAX_MS,
  restartDelay,
} from '../../../lib/core/retry-backoff.js';

describe('fault backoff', () => {
  const top = (): number => 1 - Number.EPSILON;
  const bottom = (): number => 0;

  it('restarts a fire 50 ms after its start failed, doubling to 1 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => restartDelay(n, top))).toStrictEqual([
      50,
      100,
      200,
      400,
      800,
      RESTART_MAX_MS,
      RESTART_MAX_MS,
    ]);
  });

  it('gives a fire about four tries within the default misfireThreshold (1 s)', () => {
    let at = 0;
    let tries = 0;
    for (let n = 1; at + restartDelay(n, top) <= 1_000; n++) {
      at += restartDelay(n, top);
      tries++;
    }
    expect(tries).toBe(4);
  });

  it('retries a record 100 ms after it failed, doubling to 2 s (as RetriedWrites makes its backoff)', () => {
    const record = new RetryBackoff(WRITE_RETRY_FIRST_MS, WRITE_RETRY_MAX_MS, 0.25, top);
    const waits = [1, 2, 3, 4, 5, 6].map(() => record.failed());
    for (let n = 7; n < 100; n++) record.failed();
    expect([...waits, record.failed()]).toStrictEqual([
      100,
      200,
      400,
      800,
      1_600,
      WRITE_RETRY_MAX_MS,
      WRITE_RETRY_MAX_MS,
    ]);
  });

  it('spreads the waits over [75%, 100%] so that instances and jobs do not retry in step', () => {
    expect(restartDelay(1, bottom)).toBe(38);
    expect(restartDelay(10, bottom)).toBe(750);
    expect(new RetryBackoff(WRITE_RETRY_FIRST_MS, WRITE_RETRY_MAX_MS, 0.25, bottom).failed()).toBe(
      75,
    );
    for (let i = 0; i < 100; i++) {
      const delay = restartDelay(3);
      expect(delay).toBeGreaterThanOrEqual(150);
      expect(delay).toBeLessThanOrEqual(200);
    }
  });

  it('RetryBackoff counts failures in a row, waits longer after each, and starts over after a success', () => {
    const backoff = new RetryBackoff(100, 1_000, 0.5, top);
    expect(backoff.failures).toBe(0);
    expect([1, 2, 3, 4, 5].map(() => backoff.failed())).toStrictEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.failures).toBe(5);
    expect(backoff.delay()).toBe(1_000);
    expect(backoff.succeeded()).toBe(5);
    expect(backoff.succeeded()).toBe(0);
    expect(backoff.failed()).toBe(100);
    expect(new RetryBackoff(100, 1_000, 0.5, bottom).failed()).toBe(50);
    expect(new RetryBackoff(700, 700, 0).failed()).toBe(700);
  });
});
