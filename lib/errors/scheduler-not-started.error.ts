import { JobSchedulerError } from './job-scheduler.error.js';
/** An operation that needs a running scheduler was called before `start()` (or after `stop()`). */
export class SchedulerNotStartedError extends JobSchedulerError {
  readonly code = 'SCHEDULER_NOT_STARTED';

  constructor(operation = 'This operation') {
    super(`${operation} needs a started scheduler: call start() first (or set autoStart: true).`);
  }
}
