import { JobSchedulerError } from './job-scheduler.error.js';

/** A run took longer than `jobTimeout`: its signal was aborted and the run recorded failed. */
export class JobTimeoutError extends JobSchedulerError {
  readonly code = 'JOB_TIMEOUT';

  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(
      `Job "${jobId}" timed out: its run took longer than jobTimeout (${timeoutMs} ms) and was aborted. Raise jobTimeout, or make the handler finish sooner (and honour ctx.signal).`,
    );
  }
}
