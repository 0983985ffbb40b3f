import { JobSchedulerError } from './job-scheduler.error.js';

/**
 * Cluster mode: the instance running a run stopped renewing its lease (it died, hung, or lost the
 * database) before the run ended; another instance recorded the run failed with this error.
 */
export class InstanceLostError extends JobSchedulerError {
  readonly code = 'INSTANCE_LOST';

  constructor(
    readonly jobId: string,
    readonly leaseId: string | null,
    readonly recordedBy: string,
  ) {
    super(
      leaseId === null
        ? `Run of job "${jobId}" was lost: the process running it stopped before the run ended (recorded by ${recordedBy}).`
        : `Run of job "${jobId}" was lost: the instance running it (lease ${leaseId}) stopped renewing its lease before the run ended (recorded by ${recordedBy}).`,
    );
  }
}
