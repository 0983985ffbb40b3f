/** How a job is scheduled. */
export type JobType = 'cron' | 'once' | 'interval';

/**
 * Where a job is in its life:
 * - `pending`: waiting for its next fire (`nextRunAt`), or for a retry.
 * - `running`: a run of it is in progress.
 * - `paused`: never fired until resumed.
 * - `completed`: a `once` job that succeeded.
 * - `failed`: a `once` job whose retries ran out.
 */
export type JobStatus = 'pending' | 'running' | 'paused' | 'completed' | 'failed';

/**
 * What to do with fires missed while no scheduler ran (downtime, a clock jump forward): a fire later
 * than `misfireThreshold` is missed. `'fire-once'` runs one of them now, `'skip'` none (the job waits
 * for its next fire), `'fire-all'` each of them, oldest first, at most `maxMisfires`.
 */
export type MisfirePolicy = 'fire-once' | 'skip' | 'fire-all';

/** Milliseconds, or a string such as `'500ms'`, `'5s'`, `'10m'`, `'1h'`, `'1h30m'`. */
export type Duration = number | string;

/** A JSON value: what a job's payload and a handler's parsed input are. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A stored job, as the storage and the scheduler's queries return it. */
/** How retries are spaced: the same wait each time, or doubling from one retry to the next. */
export type JobBackoff = 'fixed' | 'exponential';

export interface Job<TPayload = unknown> {
  /** A non-empty string of at most 64 characters: chosen by the caller, or a generated UUID. */
  id: string;
  name: string;
  description: string;
  type: JobType;
  /** The cron expression (`type: 'cron'`), else `null`. */
  cron: string | null;
  /** Milliseconds between fires (`type: 'interval'`), else `null`. */
  interval: number | null;
  /** IANA time zone the cron expression is read in; `null` means UTC. */
  timezone: string | null;
  /** When a `once` job is due, else `null`. */
  runAt: Date | null;
  status: JobStatus;
  handlerName: string;
  /** Any JSON value; the handler receives it parsed. */
  payload: TPayload;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  /** Output of the last successful run, or error text of the last failed one. */
  lastResult: string;
  /** Retries used since the last success (reset by a success). */
  retryCount: number;
  maxRetry: number;
  /** Fires missed while no scheduler ran: run one now (default), none, or each (`'fire-all'`). */
  misfirePolicy: MisfirePolicy;
  /** With `'fire-all'`: the most missed fires run in one catch-up. */
  maxMisfires: number;
  /** How long a run may take, in ms; `null`: the scheduler's `jobTimeout`. */
  timeout: number | null;
  /** The wait before the first retry, in ms; `null`: the scheduler's `retryDelay`. */
  retryDelay: number | null;
  /** `'fixed'`: every retry waits `retryDelay`; `'exponential'`: the n-th waits `retryDelay * 2^(n-1)`. */
  backoff: JobBackoff;
  /** The longest wait before a retry, in ms; `null`: no cap. */
  maxRetryDelay: number | null;
  /** From 0 to 1: each wait is multiplied by a random factor in `[1 - jitter, 1]` (0: none). */
  jitter: number;
  /** Incremented by every write; lets a storage claim a fire by compare-and-set. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * What `addJob` takes. `type` may be left out when exactly one of `cron`, `interval` or `runAt` is given.
 * `id` is generated (UUID) when empty; `name` defaults to `handlerName`.
 */
export interface JobDefinition<TPayload = unknown> {
  id?: string;
  name?: string;
  description?: string;
  type?: JobType;
  cron?: string;
  interval?: Duration;
  timezone?: string;
  /** A `Date`, an ISO-8601 string or epoch milliseconds. A past instant runs once, at once. */
  runAt?: Date | string | number;
  handlerName: string;
  payload?: TPayload;
  maxRetry?: number;
  /** Default `'fire-once'`. */
  misfirePolicy?: MisfirePolicy;
  /** Default 10. */
  maxMisfires?: number;
  /** How long a run may take (default `null`: the scheduler's `jobTimeout`). */
  timeout?: Duration | null;
  /** The wait before a retry (default `null`: the scheduler's `retryDelay`). */
  retryDelay?: Duration | null;
  /** Default `'fixed'`. */
  backoff?: JobBackoff;
  /** The longest wait before a retry (default `null`: no cap). */
  maxRetryDelay?: Duration | null;
  /** From 0 to 1 (default 0): how much of each retry's wait is random, to spread retries apart. */
  jitter?: number;
}

/** What `addJob` takes beside the definition. */
export interface AddJobOptions {
  /**
   * A TypeORM `EntityManager` of the app's open transaction (`TypeOrmStorage` only; other storages
   * refuse it with `InvalidOptionsError`): the job is written through it, so it exists only if that
   * transaction commits, and is scheduled once it has (within about 100 ms); a job whose
   * transaction rolls back never fires. `addJob` resolves once the job is written, before the commit.
   */
  manager?: object;
}
