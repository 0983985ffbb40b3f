import { HttpException, HttpStatus } from '@nestjs/common';
import { HandlerNotFoundError } from '../errors/handler-not-found.error.js';
import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import { InvalidJobError } from '../errors/invalid-job.error.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { JobAlreadyExistsError } from '../errors/job-already-exists.error.js';
import { JobConflictError } from '../errors/job-conflict.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { JobPausedError } from '../errors/job-paused.error.js';
import { JobRunningError } from '../errors/job-running.error.js';
import { JobSchedulerError } from '../errors/job-scheduler.error.js';
import { SchedulerNotStartedError } from '../errors/scheduler-not-started.error.js';

/** The JSON body of every error of the admin API. */
export interface AdminErrorBody {
  statusCode: number;
  code: string;
  message: string;
  field?: string;
}

/** An error of the admin API itself (not of the scheduler), with its status and code. */
export class AdminHttpError extends HttpException {
  constructor(status: number, code: string, message: string) {
    super({ statusCode: status, code, message } satisfies AdminErrorBody, status);
  }
}

/** The status and body an error is answered with; `null` body fields never appear. */
export function errorResponse(error: unknown): AdminErrorBody {
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    if (typeof response === 'object' && response !== null && 'code' in response) {
      return response as AdminErrorBody;
    }
    return {
      statusCode: status,
      code: HttpStatus[status] ?? 'HTTP_ERROR',
      message:
        typeof response === 'string'
          ? response
          : String((response as { message?: unknown }).message ?? error.message),
    };
  }
  if (error instanceof JobSchedulerError) {
    const code = (error as JobSchedulerError & { code: string }).code;
    const body = (statusCode: number, field?: string): AdminErrorBody =>
      field === undefined
        ? { statusCode, code, message: error.message }
        : { statusCode, code, message: error.message, field };
    if (error instanceof InvalidJobError) return body(400, error.field);
    if (error instanceof InvalidArgumentError) return body(400, error.argument);
    if (error instanceof InvalidOptionsError) return body(400, error.option);
    if (error instanceof HandlerNotFoundError) return body(400, 'handlerName');
    if (error instanceof JobNotFoundError) return body(404);
    if (
      error instanceof JobAlreadyExistsError ||
      error instanceof JobRunningError ||
      error instanceof JobPausedError ||
      error instanceof JobConflictError
    ) {
      return body(409);
    }
    if (error instanceof SchedulerNotStartedError) return body(503);
  }
  return {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    message: 'The admin API failed; see the server log.',
  };
}
