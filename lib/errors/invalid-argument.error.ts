import { describeValue } from './describe-value.js';
import { JobSchedulerError } from './job-scheduler.error.js';

/** A method was called with a bad argument; `argument` names it. */
export class InvalidArgumentError extends JobSchedulerError {
  readonly code = 'INVALID_ARGUMENT';

  constructor(
    readonly argument: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`Invalid argument "${argument}": got ${describeValue(value)}; expected ${expected}.`);
  }
}
