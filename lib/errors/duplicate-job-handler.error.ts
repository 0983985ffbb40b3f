import { JobSchedulerError } from './job-scheduler.error.js';
/** Two handlers were registered under one name. */
export class DuplicateJobHandlerError extends JobSchedulerError {
  readonly code = 'DUPLICATE_JOB_HANDLER';

  constructor(
    readonly handlerName: string,
    readonly first: string,
    readonly second: string,
  ) {
    super(
      `Two handlers are named "${handlerName}": ${first} and ${second}. Handler names must be unique; rename one of them.`,
    );
  }
}
