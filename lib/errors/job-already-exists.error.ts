import { JobSchedulerError } from './job-scheduler.error.js';
/** `addJob` was given an id that is taken. */
export class JobAlreadyExistsError extends JobSchedulerError {
  readonly code = 'JOB_ALREADY_EXISTS';

  constructor(readonly jobId: string) {
    super(
      `Job "${jobId}" already exists: choose another id, or leave id empty to get a generated one.`,
    );
  }
}
