/** setTimeout's largest delay (2^31-1 ms, about 24.8 days); longer waits are chunked. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * The scheduler's one timer. `wakeAt(at)` arms it for an epoch-ms instant unless it is already armed
 * earlier; it calls `onWake` once that instant has passed. Delays beyond 2^31-1 ms are chunked, and
 * NaN, infinite or negative delays never reach `setTimeout`.
 */
export class WakeTimer {
  private handle: ReturnType<typeof setTimeout> | undefined;
  private armedAt = Infinity;

  constructor(
    private readonly onWake: () => void,
    private readonly now: () => number,
  ) {}

  /** Arms the timer for `at`; an earlier arming wins. NaN and Infinity are ignored. */
  wakeAt(at: number): void {
    if (!(at < this.armedAt) || !Number.isFinite(at)) return;
    this.arm(at);
  }

  /** The instant the timer is armed for (Infinity when idle). */
  get nextWake(): number {
    return this.armedAt;
  }

  cancel(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.armedAt = Infinity;
  }

  private arm(at: number): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.armedAt = at;
    const delay = Math.min(Math.max(at - this.now(), 0), MAX_TIMER_DELAY);
    this.handle = setTimeout(this.fire, delay);
  }

  private readonly fire = (): void => {
    this.handle = undefined;
    const at = this.armedAt;
    // A chunk of a long wait ended, or the clock is behind the instant: wait again.
    if (this.now() < at) return this.arm(at);
    this.armedAt = Infinity;
    this.onWake();
  };
}
