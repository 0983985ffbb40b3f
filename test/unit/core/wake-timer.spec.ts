import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY, WakeTimer } from '../../../lib/core/wake-timer.js';

describe('WakeTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('wakes once the instant has passed, and an earlier arming wins', async () => {
    const woke: number[] = [];
    const timer = new WakeTimer(() => woke.push(Date.now()), Date.now);
    const t0 = Date.now();
    timer.wakeAt(t0 + 1000);
    timer.wakeAt(t0 + 500);
    timer.wakeAt(t0 + 2000);
    await vi.advanceTimersByTimeAsync(600);
    expect(woke).toEqual([t0 + 500]);
    expect(timer.nextWake).toBe(Infinity);
  });

  it('chunks delays beyond 2^31-1 ms instead of passing them to setTimeout', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const woke = vi.fn();
    const timer = new WakeTimer(woke, Date.now);
    const far = Date.now() + 40 * 24 * 3600_000; // 40 days
    timer.wakeAt(far);
    for (const call of spy.mock.calls) expect(call[1]).toBeLessThanOrEqual(MAX_TIMER_DELAY);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY);
    expect(woke).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(far - Date.now());
    expect(woke).toHaveBeenCalledTimes(1);
    for (const call of spy.mock.calls) expect(call[1]).toBeLessThanOrEqual(MAX_TIMER_DELAY);
    spy.mockRestore();
  });

  it('never passes NaN or negative delays to a timer', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const woke = vi.fn();
    const timer = new WakeTimer(woke, Date.now);
    timer.wakeAt(NaN);
    timer.wakeAt(Infinity);
    expect(spy).not.toHaveBeenCalled();
    timer.wakeAt(Date.now() - 5000);
    expect(spy.mock.calls[0]?.[1]).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(woke).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('cancel stops a pending wake', async () => {
    const woke = vi.fn();
    const timer = new WakeTimer(woke, Date.now);
    timer.wakeAt(Date.now() + 100);
    timer.cancel();
    await vi.advanceTimersByTimeAsync(200);
    expect(woke).not.toHaveBeenCalled();
  });
});
