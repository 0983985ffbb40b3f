import type { JobLogger } from '../interfaces/logger.interface.js';

/** Discards everything: the seed's `NopLogger`. */
export class NopLogger implements JobLogger {
  log(): void {}
  error(): void {}
  warn(): void {}
  debug(): void {}
  verbose(): void {}
}
