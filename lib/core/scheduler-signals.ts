import { Subject, type Observable } from 'rxjs';
import type { Job } from '../interfaces/job.interface.js';
import type { JobEvent, JobEventType } from '../interfaces/job-event.interface.js';
import type { SchedulerCounters } from '../interfaces/metrics.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { copyJob, copyRun } from './record-copy.js';

/** The counters of what happened (monotonic since the scheduler was made). */
export type SchedulerTallies = Omit<
  SchedulerCounters,
  'runningNow' | 'queuedNow' | 'scheduledJobs' | 'jobsWithoutHandler'
>;

/** The gauges of what is going on now, read from the parts that hold it. */
export type SchedulerGauges = Pick<
  SchedulerCounters,
  'runningNow' | 'queuedNow' | 'scheduledJobs' | 'jobsWithoutHandler'
>;

/**
 * What the scheduler tells the world: its counters (incremented where things happen), the events of
 * `events$` (built only while someone subscribes: an event carries copies of the job and the run),
 * and the snapshot of counters and gauges that `metrics()` and the OpenTelemetry instruments read.
 */
export class SchedulerSignals {
  readonly tallies: SchedulerTallies = {
    runsStarted: 0,
    runsSucceeded: 0,
    runsFailed: 0,
    runsRetried: 0,
    runsTimedOut: 0,
    firesSkipped: 0,
    firesMissed: 0,
    firesClaimedElsewhere: 0,
    firesDeferred: 0,
  };
  readonly events$: Observable<JobEvent>;
  private readonly events = new Subject<JobEvent>();

  constructor(
    private readonly now: () => number,
    private readonly gauges: () => SchedulerGauges,
  ) {
    this.events$ = this.events.asObservable();
  }

  /** Publishes an event about `job` (and `run`) to the subscribers of `events$`, if any. */
  emit(type: JobEventType, job: Job, run?: Run, error?: string): void {
    if (!this.events.observed) return;
    this.events.next({
      type,
      jobId: job.id,
      at: this.now(),
      job: copyJob(job),
      run: run && copyRun(run),
      runId: run?.id,
      error,
    });
  }

  /** The counters and the gauges now. */
  snapshot(): SchedulerCounters {
    return { ...this.tallies, ...this.gauges() };
  }
}
