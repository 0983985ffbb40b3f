import { Injectable } from '@nestjs/common';
import { JobHandler, type Handler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

export interface CleanupPayload {
  action: string;
}

/** A class handler: its `execute` is the handler. */
@JobHandler('cleanup')
@Injectable()
export class CleanupHandler implements Handler<CleanupPayload> {
  constructor(private readonly probe: Probe) {}

  execute(payload: CleanupPayload, ctx: JobContext<CleanupPayload>): { cleaned: string } {
    this.probe.record({
      handler: 'cleanup',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return { cleaned: payload.action };
  }
}
