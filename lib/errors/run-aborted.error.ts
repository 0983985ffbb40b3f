import { JobSchedulerError } from './job-scheduler.error.js';

/** A run was aborted because the scheduler stopped before it ended (past `shutdownTimeout`). */
export class RunAbortedError extends JobSchedulerError {
  readonly code = 'RUN_ABORTED';

  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`Run of job "${jobId}" was aborted: ${reason}.`);
  }
}
