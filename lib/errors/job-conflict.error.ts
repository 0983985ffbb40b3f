import { JobSchedulerError } from './job-scheduler.error.js';

/**
 * Cluster mode: a change to a job kept meeting changes made at the same moment by other instances,
 * and was given up after several tries. Nothing was written; try again.
 */
export class JobConflictError extends JobSchedulerError {
  readonly code = 'JOB_CONFLICT';

  constructor(
    readonly jobId: string,
    action: string,
    tries: number,
  ) {
    super(
      `Could not ${action} job "${jobId}": other instances changed it each time (${tries} tries). Nothing was written; try again.`,
    );
  }
}
