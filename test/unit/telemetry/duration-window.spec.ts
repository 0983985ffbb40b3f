import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { DurationWindow } from '../../../lib/telemetry/duration-window.js';

describe('DurationWindow', () => {
  it('is all zeros when empty', () => {
    const window = new DurationWindow();
    expect(window.capacity).toBe(1024);
    expect(window.stats()).toEqual({ count: 0, sum: 0, p50: 0, p95: 0, max: 0, window: 0 });
    expect(window.quantile(0.99)).toBe(0);
  });

  it('gives nearest-rank quantiles and max over the recorded values', () => {
    const window = new DurationWindow(100);
    // 1..100 in a scrambled order.
    for (let i = 0; i < 100; i++) window.record(((i * 37) % 100) + 1);
    expect(window.stats()).toEqual({
      count: 100,
      sum: 5050,
      p50: 50,
      p95: 95,
      max: 100,
      window: 100,
    });
    expect(window.quantile(0.99)).toBe(99);
    expect(window.quantile(1)).toBe(100);
    expect(window.quantile(0.001)).toBe(1);
  });

  it('handles one value and a partly filled window', () => {
    const window = new DurationWindow(8);
    window.record(7);
    expect(window.stats()).toEqual({ count: 1, sum: 7, p50: 7, p95: 7, max: 7, window: 1 });
    window.record(3);
    window.record(5);
    expect(window.stats()).toMatchObject({ p50: 5, p95: 7, max: 7, window: 3 });
  });

  it('keeps only the last `capacity` values for quantiles and max, but counts and sums all', () => {
    const window = new DurationWindow(4);
    for (const ms of [1000, 900, 1, 2, 3, 4]) window.record(ms);
    expect(window.stats()).toEqual({ count: 6, sum: 1910, p50: 2, p95: 4, max: 4, window: 4 });
    for (let i = 0; i < 10; i++) window.record(10 + i);
    expect(window.stats()).toMatchObject({ count: 16, p50: 17, max: 19, window: 4 });
  });

  it('records negative and non-finite durations as 0', () => {
    const window = new DurationWindow(4);
    window.record(-5);
    window.record(Number.NaN);
    window.record(Infinity);
    window.record(2.5);
    expect(window.stats()).toEqual({ count: 4, sum: 2.5, p50: 0, p95: 2.5, max: 2.5, window: 4 });
  });

  it('reading does not disturb the ring', () => {
    const window = new DurationWindow(3);
    window.record(3);
    window.record(1);
    window.stats();
    window.record(2);
    window.record(9);
    // The window is now 1, 2, 9 (3 was overwritten), whatever the reads sorted.
    expect(window.stats()).toMatchObject({ p50: 2, max: 9, window: 3, sum: 15 });
  });

  it('rejects a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      expect(() => new DurationWindow(capacity)).toThrow(InvalidOptionsError);
    }
    expect(() => new DurationWindow(0)).toThrow(
      'Invalid option "durationWindow": got 0; expected an integer of at least 1.',
    );
  });
});

describe('DurationWindow quantiles against a sort', () => {
  /** Nearest rank over a sorted copy: what the selection must agree with. */
  function expected(values: number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  }

  it('agrees on random windows, with many equal values, ascending and descending runs', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const shapes: ((i: number, n: number) => number)[] = [
      () => Math.round(random() * 1000) / 10,
      () => Math.floor(random() * 3),
      () => 7,
      (i) => i,
      (i, n) => n - i,
      (i) => (i % 2 === 0 ? 0 : 1000 + i),
    ];
    for (const shape of shapes) {
      for (const n of [1, 2, 3, 5, 19, 20, 21, 100, 1000, 1024, 1500]) {
        const window = new DurationWindow(1024);
        const values: number[] = [];
        for (let i = 0; i < n; i++) {
          const value = shape(i, n);
          values.push(value);
          window.record(value);
        }
        const kept = values.slice(-1024);
        const stats = window.stats();
        expect([n, stats.p50, stats.p95, stats.max]).toEqual([
          n,
          expected(kept, 0.5),
          expected(kept, 0.95),
          Math.max(...kept),
        ]);
        for (const q of [0.01, 0.25, 0.5, 0.9, 0.99, 1]) {
          expect(window.quantile(q)).toBe(expected(kept, q));
        }
      }
    }
  });
});
