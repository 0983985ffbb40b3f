import { describe, expect, it } from 'vitest';
import { IntervalSchedule } from '../../../../lib/core/schedule/interval-schedule.js';
import type { Schedule } from '../../../../lib/core/schedule/schedule.js';

describe('IntervalSchedule', () => {
  it('fires intervalMs after the given instant', () => {
    const schedule: Schedule = new IntervalSchedule(5_000);
    expect(schedule.next(0)).toBe(5_000);
    expect(schedule.next(1_767_225_600_123)).toBe(1_767_225_605_123);
  });

  it('is strictly after, and chains', () => {
    const schedule = new IntervalSchedule(1);
    let at = 100;
    for (let i = 0; i < 10; i++) {
      const next = schedule.next(at);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
    expect(at).toBe(110);
  });

  it('keeps its interval', () => {
    expect(new IntervalSchedule(250).intervalMs).toBe(250);
  });

  it('accepts a fractional interval', () => {
    expect(new IntervalSchedule(0.5).next(1)).toBe(1.5);
  });

  it.each([0, -1, Number.NaN, Infinity, -Infinity])('rejects an interval of %s', (ms) => {
    expect(() => new IntervalSchedule(ms)).toThrow(RangeError);
  });
});
