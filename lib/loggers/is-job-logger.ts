import type { JobLogger } from '../interfaces/logger.interface.js';

/** Whether a value can serve as the scheduler's logger: it has `log`, `warn` and `error`. */
export function isJobLogger(value: unknown): value is JobLogger {
  const logger = value as Partial<JobLogger> | null;
  return (
    typeof logger === 'object' &&
    logger !== null &&
    typeof logger.log === 'function' &&
    typeof logger.warn === 'function' &&
    typeof logger.error === 'function'
  );
}
