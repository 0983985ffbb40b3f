import { JobSchedulerError } from './job-scheduler.error.js';
import { describeValue } from './describe-value.js';

/** A job definition is invalid (bad cron, interval, timezone, run time, type/field mismatch...). `field` names it. */
export class InvalidJobError extends JobSchedulerError {
  readonly code = 'INVALID_JOB';

  constructor(
    readonly field: string,
    readonly value: unknown,
    problem: string,
    readonly jobRef = '',
  ) {
    super(
      `Invalid job${jobRef ? ` ${jobRef}` : ''}: field "${field}" ${problem} (got ${describeValue(value)}).`,
    );
  }
}
