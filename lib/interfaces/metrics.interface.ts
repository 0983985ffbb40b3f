/** The scheduler's counters and gauges (what the OpenTelemetry instruments observe). */
export interface SchedulerCounters {
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  runsRetried: number;
  runsTimedOut: number;
  /** Fires not run because the job's previous run was still going (or already recorded). */
  firesSkipped: number;
  /** Missed fires (downtime, a clock jump) not run, per the jobs' `misfirePolicy`. */
  firesMissed: number;
  /** Cluster mode: fires this instance found claimed by another instance (run there, not here). */
  firesClaimedElsewhere: number;
  /**
   * Cluster mode: fires left first to the instance their job prefers (each instance prefers some of
   * the jobs); this instance runs one only if that instance has not after `pollInterval` + 250 ms.
   */
  firesDeferred: number;
  /** Handlers running now. */
  runningNow: number;
  /** Runs due and waiting for a free slot. */
  queuedNow: number;
  /** Jobs the scheduler holds in its timer queue. */
  scheduledJobs: number;
  /**
   * Jobs not fired because no handler of their `handlerName` is registered on this instance: they
   * wait (recording no run) and fire once one is.
   */
  jobsWithoutHandler: number;
}

/** A point-in-time snapshot (`metrics()`): counters, run durations, batch and cache figures. */
export interface SchedulerMetrics extends SchedulerCounters {
  /** Run durations (ms): count and sum since start; p50, p95 and max over the last 1024 runs. */
  duration: DurationStats;
  /** Batched writes (with `enableBatchUpdate`): flushes, flushed records, failures, pending. */
  batch?: BatchingStorageMetrics;
  /** The job cache (with `enableCache`): hits, misses, evictions, size. */
  cache?: CachingStorageMetrics;
}

/** A snapshot of a `BatchingStorage`'s counters. */
export interface BatchingStorageMetrics {
  /** Flushes that wrote everything they took. */
  flushes: number;
  /** Job records handed to the inner storage by successful writes. */
  flushedJobs: number;
  /** Run records handed to the inner storage by successful writes. */
  flushedRuns: number;
  /** Flush attempts that failed (their records were kept and retried). */
  flushFailures: number;
  /** Job records not written yet (buffered, or in a flush under way). */
  pendingJobs: number;
  /** Run records not written yet (buffered, or in a flush under way). */
  pendingRuns: number;
}

/** A snapshot of a `CachingStorage`'s counters. */
export interface CachingStorageMetrics {
  /** `getJob` calls answered from the cache. */
  hits: number;
  /** `getJob` calls that were not (including those that joined a read already under way). */
  misses: number;
  /** Jobs dropped to make room (capacity), not counting expiry, invalidation or replacement. */
  evictions: number;
  /** Jobs held now (expired ones included until they are swept or read). */
  size: number;
}

/** Run durations as `metrics()` reports them (milliseconds). */
export interface DurationStats {
  /** Durations recorded since start. */
  count: number;
  /** Their sum, since start. */
  sum: number;
  /** Over the last `window` durations (0 when none). */
  p50: number;
  p95: number;
  max: number;
  /** How many durations the quantiles and max are over. */
  window: number;
}
