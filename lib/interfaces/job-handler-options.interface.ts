import type { Duration, JobBackoff, MisfirePolicy } from './job.interface.js';

/**
 * Second argument of `@JobHandler(name, options)`. With `cron` or `interval`, the handler also
 * declares a recurring job, created (or updated) in storage at bootstrap under the stable id
 * `handler:<name>`; the other fields describe that job.
 */
export interface JobHandlerOptions {
  /** Cron expression (6 fields with seconds, or 5) of the declared job. Excludes `interval`. */
  cron?: string;
  /** Time between fires of the declared job: milliseconds or `'500ms'`, `'5s'`, `'10m'`... Excludes `cron`. */
  interval?: Duration;
  /** IANA time zone the `cron` expression is read in (default UTC). */
  timezone?: string;
  /** The JSON value the declared job passes to the handler. */
  payload?: unknown;
  /** Retries of a failed run of the declared job (default 0). */
  maxRetry?: number;
  /** Description of the declared job. */
  description?: string;
  /** Name of the declared job (default: the handler's name). */
  jobName?: string;
  /** How long a run of the declared job may take (default: the scheduler's `jobTimeout`). */
  timeout?: Duration | null;
  /** The wait before a retry of the declared job (default: the scheduler's `retryDelay`). */
  retryDelay?: Duration | null;
  /** How the declared job's retries are spaced (default `'fixed'`). */
  backoff?: JobBackoff;
  /** The longest wait before a retry of the declared job (default: no cap). */
  maxRetryDelay?: Duration | null;
  /** From 0 to 1: how much of each retry's wait is random (default 0). */
  jitter?: number;
  /** What the declared job does with fires missed while no scheduler ran (default `'fire-once'`). */
  misfirePolicy?: MisfirePolicy;
  /** With `'fire-all'`, the most missed fires run in one catch-up (default 10). */
  maxMisfires?: number;
  /**
   * At most this many runs of the handler at once on this instance (within `concurrentRuns`); fires
   * of other handlers are not held up behind them. Default: no limit of its own.
   */
  concurrency?: number;
}

/** What `@JobHandler()` stores on a class or a method. */
export interface JobHandlerMetadata {
  /** The handler's name: what jobs refer to as `handlerName`. */
  readonly name: string;
  readonly options: Readonly<JobHandlerOptions>;
}
