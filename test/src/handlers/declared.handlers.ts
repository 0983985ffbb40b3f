import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../lib/index.js';
import { Probe } from '../probe.module.js';

/** Version 1 of a code-declared job. */
@JobHandler('nightly-cleanup', {
  cron: '0 0 3 * * *',
  timezone: 'Europe/Paris',
  payload: { keepDays: 7 },
  maxRetry: 2,
  description: 'Deletes old rows every night',
  jobName: 'Nightly cleanup',
})
@Injectable()
export class NightlyCleanupV1 {
  execute(): string {
    return 'v1';
  }
}

/** Version 2 of the same job, as a later deploy declares it: the cron changed. */
@JobHandler('nightly-cleanup', {
  cron: '0 30 4 * * *',
  timezone: 'Europe/Paris',
  payload: { keepDays: 7 },
  maxRetry: 2,
  description: 'Deletes old rows every night',
  jobName: 'Nightly cleanup',
})
@Injectable()
export class NightlyCleanupV2 {
  execute(): string {
    return 'v2';
  }
}

/** A method declaring a fast interval job, to see a declared job actually run. */
@Injectable()
export class HeartbeatService {
  constructor(private readonly probe: Probe) {}

  @JobHandler('heartbeat', { interval: '50ms', payload: { beat: true } })
  beat(payload: unknown, ctx: JobContext): string {
    this.probe.record({
      handler: 'heartbeat',
      payload,
      attempt: ctx.attempt,
      jobId: ctx.job.id,
      self: this,
    });
    return 'beat';
  }
}

/** A handler name long enough that its declared job id needs the hashed form. */
export const LONG_HANDLER_NAME = `reports.${'monthly-revenue-by-region-and-product-line.'.repeat(3)}rebuild`;

@Injectable()
export class LongNameService {
  @JobHandler(LONG_HANDLER_NAME, { cron: '0 0 1 1 * *' })
  rebuild(): string {
    return 'rebuilt';
  }
}
