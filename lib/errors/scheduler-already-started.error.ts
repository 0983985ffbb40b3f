import { JobSchedulerError } from './job-scheduler.error.js';
/** `start()` on a started scheduler. */
export class SchedulerAlreadyStartedError extends JobSchedulerError {
  readonly code = 'SCHEDULER_ALREADY_STARTED';

  constructor() {
    super(
      'The scheduler is already started: call start() once (with autoStart the module starts it for you).',
    );
  }
}
