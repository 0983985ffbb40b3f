import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FireTimer } from '../../../lib/core/fire-timer.js';
import type { JobEntry } from '../../../lib/core/job-entry.js';

/** A stand-in entry: the timer only reads its generation. */
const entry = (gen = 0): JobEntry => ({ gen }) as unknown as JobEntry;

describe('FireTimer', () => {
  let wakes: number;
  let timer: FireTimer;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000 });
    wakes = 0;
    timer = new FireTimer(
      () => wakes++,
      () => Date.now(),
    );
  });

  afterEach(() => {
    timer.cancel();
    vi.useRealTimers();
  });

  it('gives fires back in due order, equal instants in booking order', () => {
    const [a, b, c] = [entry(), entry(), entry()];
    timer.book(a, 3_000, 1, 3_000, undefined, false);
    timer.book(b, 2_000, 1, 2_000, undefined, false);
    timer.book(c, 2_000, 2, 1_500, undefined, false);
    expect(timer.size).toBe(3);
    expect(timer.takeDue(1_999)).toBeUndefined();
    const first = timer.takeDue(2_000)!;
    const second = timer.takeDue(2_000)!;
    expect([first.entry, second.entry]).toStrictEqual([b, c]);
    expect(second).toMatchObject({ at: 2_000, attempt: 2, scheduledAt: 1_500, gen: 0 });
    expect(timer.takeDue(2_500)).toBeUndefined();
    expect(timer.take()!.entry).toBe(a);
    expect(timer.take()).toBeUndefined();
  });

  it('ignores a fire at NaN or Infinity', () => {
    timer.book(entry(), NaN, 1, NaN, undefined, true);
    timer.book(entry(), Infinity, 1, Infinity, undefined, true);
    expect(timer.size).toBe(0);
  });

  it('wakes once the earliest armed instant has passed, and not when disarmed', () => {
    timer.book(entry(), 1_500, 1, 1_500, undefined, true);
    timer.wakeAt(1_200);
    vi.advanceTimersByTime(199);
    expect(wakes).toBe(0);
    vi.advanceTimersByTime(1);
    expect(wakes).toBe(1);
    timer.armNext();
    timer.cancel();
    vi.advanceTimersByTime(1_000);
    expect(wakes).toBe(1);
  });

  it('rebooks a fire after those already booked for its instant', () => {
    const [a, b] = [entry(), entry()];
    timer.book(a, 2_000, 1, 2_000, undefined, false);
    timer.book(b, 2_000, 1, 2_000, undefined, false);
    const taken = timer.takeDue(2_000)!;
    timer.rebook(taken, false);
    expect(timer.takeDue(2_000)!.entry).toBe(b);
    expect(timer.takeDue(2_000)!.entry).toBe(a);
  });
});
