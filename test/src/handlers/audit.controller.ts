import { Controller, Get } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

/** A controller with a method handler: controllers are scanned too. */
@Controller('audit')
export class AuditController {
  constructor(private readonly probe: Probe) {}

  @Get()
  status(): string {
    return 'ok';
  }

  @JobHandler('audit.flush')
  flush(payload: unknown, ctx: JobContext): string {
    this.probe.record({
      handler: 'audit.flush',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return 'flushed';
  }
}
