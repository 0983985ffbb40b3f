import { JobSchedulerError } from './job-scheduler.error.js';

/** The storage could not be reached for something the scheduler cannot do without (loading jobs at start). */
export class StorageUnavailableError extends JobSchedulerError {
  readonly code = 'STORAGE_UNAVAILABLE';

  constructor(doing: string, cause: unknown) {
    super(
      `The scheduler could not ${doing}: the storage failed (${cause instanceof Error ? cause.message : String(cause)}). Check that the database is up and reachable; the scheduler was not started.`,
      { cause },
    );
  }
}
