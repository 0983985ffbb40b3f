import type { JobLogger } from '../interfaces/logger.interface.js';

/** Writes to the console with a level and context prefix (the default logger). */
export class StdLogger implements JobLogger {
  constructor(private readonly context = 'JobScheduler') {}

  log(message: unknown, ...params: unknown[]): void {
    console.log(this.format('LOG', message), ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    console.error(this.format('ERROR', message), ...params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    console.warn(this.format('WARN', message), ...params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    console.debug(this.format('DEBUG', message), ...params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    console.debug(this.format('VERBOSE', message), ...params);
  }

  private format(level: string, message: unknown): string {
    return `${new Date().toISOString()} ${level} [${this.context}] ${String(message)}`;
  }
}
