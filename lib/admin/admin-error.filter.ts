import { Catch, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { SchedulerService } from '../scheduler.service.js';
import { errorForLog } from '../core/run-output.js';
import { errorResponse } from './admin-errors.js';

/**
 * Answers every error of the admin module's routes as JSON `{ statusCode, code, message, field? }`
 * (see `errorResponse`); an unexpected one (a 500) is logged with its stack, and its text is not sent.
 */
@Catch()
export class AdminErrorFilter implements ExceptionFilter {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SchedulerService) private readonly scheduler: SchedulerService,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const body = errorResponse(error);
    if (body.statusCode >= 500 && body.code === 'INTERNAL_ERROR') {
      this.scheduler.options.logger.error(`Admin API: ${errorForLog(error)}`);
    }
    const response = host.switchToHttp().getResponse<unknown>();
    this.adapterHost.httpAdapter.reply(response, body, body.statusCode);
  }
}
