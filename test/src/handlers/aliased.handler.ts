import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

/** Token of an alias (`useExisting`) of `AliasedHandler`: the handler must be registered once. */
export const ALIASED_HANDLER = Symbol('ALIASED_HANDLER');

@JobHandler('aliased')
@Injectable()
export class AliasedHandler {
  constructor(private readonly probe: Probe) {}

  execute(payload: unknown, ctx: JobContext): string {
    this.probe.record({
      handler: 'aliased',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return 'aliased';
  }
}
