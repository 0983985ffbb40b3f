import { JobSchedulerError } from './job-scheduler.error.js';
/** The job is paused. */
export class JobPausedError extends JobSchedulerError {
  readonly code = 'JOB_PAUSED';

  constructor(readonly jobId: string) {
    super(`Job "${jobId}" is paused: resume it with resumeJob("${jobId}") before triggering it.`);
  }
}
