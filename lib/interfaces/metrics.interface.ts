/** A point-in-time snapshot of the scheduler's counters (`metrics()`). */
export interface SchedulerMetrics {
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  runsRetried: number;
  runsTimedOut: number;
  /** Fires not run because the job's previous run was still going. */
  firesSkipped: number;
  /** Handlers running now. */
  runningNow: number;
  /** Runs due and waiting for a free slot. */
  queuedNow: number;
  /** Jobs the scheduler holds in its timer queue. */
  scheduledJobs: number;
}
