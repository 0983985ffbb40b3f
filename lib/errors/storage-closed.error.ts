import { JobSchedulerError } from './job-scheduler.error.js';
/** The storage was used after `close()`. */
export class StorageClosedError extends JobSchedulerError {
  readonly code = 'STORAGE_CLOSED';

  constructor(storage = 'The storage') {
    super(`${storage} is closed: it cannot be used after close(). Create a new storage instance.`);
  }
}
