import { JobSchedulerError } from './job-scheduler.error.js';

/**
 * A run took longer than its time-out (the job's `timeout`, else `jobTimeout`): its signal was
 * aborted and the run recorded failed.
 */
export class JobTimeoutError extends JobSchedulerError {
  readonly code = 'JOB_TIMEOUT';

  /** `own`: the time-out was the job's `timeout`, not the scheduler's `jobTimeout`. */
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    own = false,
  ) {
    const which = own ? 'its timeout' : 'jobTimeout';
    super(
      `Job "${jobId}" timed out: its run took longer than ${which} (${timeoutMs} ms) and was aborted. Raise ${which}, or make the handler finish sooner (and honour ctx.signal).`,
    );
  }
}
