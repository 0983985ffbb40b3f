import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

/** A plain service with two method handlers and a method that is not one. */
@Injectable()
export class ReportService {
  private readonly prefix = 'report';

  constructor(private readonly probe: Probe) {}

  @JobHandler('report.build')
  build(payload: { month: string }, ctx: JobContext): string {
    this.probe.record({
      handler: 'report.build',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return `${this.prefix}:${payload.month}`;
  }

  @JobHandler('report.email')
  async email(payload: unknown, ctx: JobContext): Promise<void> {
    await Promise.resolve();
    this.probe.record({
      handler: 'report.email',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
  }

  notAHandler(): string {
    return this.prefix;
  }
}
