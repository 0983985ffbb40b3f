import { JobSchedulerError } from './job-scheduler.error.js';
/** No handler is registered under the name. */
export class HandlerNotFoundError extends JobSchedulerError {
  readonly code = 'HANDLER_NOT_FOUND';

  constructor(readonly handlerName: string) {
    super(
      `No handler is registered under the name "${handlerName}": mark a provider with @JobHandler("${handlerName}"), or call registerHandler("${handlerName}", handler) first.`,
    );
  }
}
