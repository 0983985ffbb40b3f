/** Base class of every error the scheduler throws; `code` is stable across versions. */
export abstract class JobSchedulerError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
