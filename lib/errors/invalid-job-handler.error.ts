import { JobSchedulerError } from './job-scheduler.error.js';
/**
 * `@JobHandler()` was misused: a bad name or options (thrown where the decorator is applied), or a
 * class marked as a handler that has no `execute` method (thrown at bootstrap).
 */
export class InvalidJobHandlerError extends JobSchedulerError {
  readonly code = 'INVALID_JOB_HANDLER';

  constructor(
    /** Where the decorator is: `ClassName` or `ClassName#method` (or `@JobHandler(...)` when unknown). */
    readonly target: string,
    problem: string,
  ) {
    super(`Invalid @JobHandler on ${target}: ${problem}.`);
  }
}
