import { JobSchedulerError } from './job-scheduler.error.js';
import { describeValue } from './describe-value.js';

/** A module, scheduler or storage option is invalid. `option` names it. */
export class InvalidOptionsError extends JobSchedulerError {
  readonly code = 'INVALID_OPTIONS';

  constructor(
    readonly option: string,
    readonly value: unknown,
    expected: string,
  ) {
    super(`Invalid option "${option}": got ${describeValue(value)}; expected ${expected}.`);
  }
}
