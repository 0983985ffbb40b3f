import type { JobLogger } from '../interfaces/logger.interface.js';

/** Discards everything (for tests and benchmarks that want no output). */
export class NopLogger implements JobLogger {
  log(): void {}
  error(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
}
