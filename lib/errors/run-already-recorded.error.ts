import { JobSchedulerError } from './job-scheduler.error.js';

/** A run record for this fire (job, scheduled instant, attempt) exists already: a fire runs once. */
export class RunAlreadyRecordedError extends JobSchedulerError {
  readonly code = 'RUN_ALREADY_RECORDED';

  constructor(
    readonly jobId: string,
    readonly scheduledAt: Date,
    readonly attempt: number,
  ) {
    super(
      `A run of job "${jobId}" for the fire at ${scheduledAt.toISOString()} (attempt ${attempt}) is already recorded: each fire is run and recorded once only.`,
    );
  }
}
