import { JobSchedulerError } from './job-scheduler.error.js';
/** No job has the given id. */
export class JobNotFoundError extends JobSchedulerError {
  readonly code = 'JOB_NOT_FOUND';

  constructor(readonly jobId: string) {
    super(
      `Job "${jobId}" was not found: it was never added, or it was removed. Check the id, or list jobs with listJobs().`,
    );
  }
}
