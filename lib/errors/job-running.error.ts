import { JobSchedulerError } from './job-scheduler.error.js';
/** The job has a run in progress (or queued), and a job never runs twice at once. */
export class JobRunningError extends JobSchedulerError {
  readonly code = 'JOB_RUNNING';

  constructor(readonly jobId: string) {
    super(
      `Job "${jobId}" is already running or queued to run: a job never runs twice at once; wait for its run to end.`,
    );
  }
}
