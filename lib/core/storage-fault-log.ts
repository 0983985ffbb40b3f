import type { JobLogger } from '../interfaces/logger.interface.js';
import { errorForLog, formatError } from './run-output.js';

/** An episode ends once the storage has answered for this long without a failure. */
export const FAULT_EPISODE_QUIET_MS = 5_000;
/** While an episode lasts, a reminder is logged this often. */
export const FAULT_REMINDER_MS = 60_000;

/**
 * One place where a scheduler reports its storage's failures, so that an outage (or a burst of
 * killed connections) is logged once, not once per call and per retry. The first failure begins an
 * episode and is logged (warn, with what failed and why); later failures are counted. The episode
 * ends once the storage has answered for `FAULT_EPISODE_QUIET_MS` with no failure (log, with how
 * many calls failed and for how long); a long one is recalled every `FAULT_REMINDER_MS` (warn).
 *
 * `succeeded()` is on hot paths: outside an episode it is one comparison. A throwing logger is
 * ignored (there is nowhere else to report to).
 */
export class StorageFaultLog {
  private failures = 0;
  private since = NaN;
  private lastFailureAt = -Infinity;
  /** Whether a call succeeded since the last failure. */
  private answered = false;
  private lastReminderAt = -Infinity;
  private lastError: unknown;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly logger: JobLogger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether an episode is going on (a failure without `FAULT_EPISODE_QUIET_MS` of calm since). */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Failed calls in the episode going on (0 when none). */
  get failedCalls(): number {
    return this.failures;
  }

  /** A storage call failed; `what` says which ("the start of a run of job "x""). */
  failed(what: string, error: unknown): void {
    const now = this.now();
    this.failures++;
    this.lastFailureAt = now;
    this.answered = false;
    this.lastError = error;
    if (this.failures === 1) {
      this.since = now;
      this.lastReminderAt = now;
      this.report(
        'warn',
        `Storage fault: ${what} failed: ${errorForLog(error)}. The scheduler retries (a fire while it is on time, then as its misfire policy says; records until they are written); further failures are counted, not logged, until the storage has answered for ${FAULT_EPISODE_QUIET_MS} ms.`,
      );
    } else if (now - this.lastReminderAt >= FAULT_REMINDER_MS) {
      this.lastReminderAt = now;
      this.report(
        'warn',
        `Storage still failing after ${seconds(now - this.since)} s: ${this.failures} failed calls; the last: ${errorForLog(error)}`,
      );
    }
    this.arm();
  }

  /** A storage call succeeded. */
  succeeded(): void {
    if (this.failures === 0) return;
    this.answered = true;
    this.arm();
  }

  /** Forgets the timer (the scheduler stopped); an episode going on stays open. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Checks for the end of the episode once it could have ended. */
  private arm(): void {
    if (this.timer !== undefined || !this.answered) return;
    const delay = Math.max(0, this.lastFailureAt + FAULT_EPISODE_QUIET_MS - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, delay);
    this.timer.unref?.();
  }

  private check(): void {
    if (this.failures === 0 || !this.answered) return;
    const now = this.now();
    if (now - this.lastFailureAt < FAULT_EPISODE_QUIET_MS) {
      this.arm();
      return;
    }
    this.report(
      'log',
      `Storage recovered: it answers again; ${this.failures} call(s) failed over ${seconds(this.lastFailureAt - this.since)} s (the last: ${formatError(this.lastError, 300)}).`,
    );
    this.failures = 0;
    this.since = NaN;
    this.lastError = undefined;
  }

  private report(level: 'log' | 'warn', message: string): void {
    try {
      this.logger[level](message);
    } catch {
      // The logger is where errors go; nothing better to do.
    }
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
