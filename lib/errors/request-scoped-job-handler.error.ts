import { JobSchedulerError } from './job-scheduler.error.js';
/** A `@JobHandler` is on a request-scoped provider (or one depending on a request-scoped provider). */
export class RequestScopedJobHandlerError extends JobSchedulerError {
  readonly code = 'REQUEST_SCOPED_JOB_HANDLER';

  constructor(
    readonly handlerName: string,
    /** `ClassName` or `ClassName#method`. */
    readonly source: string,
  ) {
    super(
      `Job handler "${handlerName}" (${source}) is on a request-scoped provider, or on one that depends on a request-scoped provider: jobs run outside any request, so a handler needs one long-lived instance. Make its provider default-scoped (and its dependencies too), and pass request data in the job's payload.`,
    );
  }
}
