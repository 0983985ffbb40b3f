import type { Schedule } from './schedule.js';

/** Fires every `intervalMs` milliseconds, counted from the previous fire. */
export class IntervalSchedule implements Schedule {
  /**
   * @param intervalMs Milliseconds between fires: finite and > 0 (a `RangeError` otherwise, since a
   * zero interval would fire at the instant it was asked about, not strictly after it).
   */
  constructor(readonly intervalMs: number) {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`intervalMs must be a finite number > 0, got ${intervalMs}`);
    }
  }

  /** `afterMs + intervalMs`. */
  next(afterMs: number): number {
    return afterMs + this.intervalMs;
  }
}
