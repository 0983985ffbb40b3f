import type { BatchingStorageMetrics } from '../batch/batching-storage-options.interface.js';
import type { CachingStorageMetrics } from '../cache/caching-storage-options.interface.js';
import type { DurationStats } from '../telemetry/duration-window.js';

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
