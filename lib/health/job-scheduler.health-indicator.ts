import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { parseDuration } from '../core/duration.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { Duration } from '../interfaces/job.interface.js';
import { SchedulerService } from '../scheduler.service.js';

/** What `isHealthy` checks beyond "started and storage reachable". */
export interface JobSchedulerHealthOptions {
  /** Down when the oldest due fire has waited longer than this. Default `'1m'`. */
  maxLag?: Duration;
}

/**
 * A `@nestjs/terminus` health indicator for the scheduler: up when it is started, its storage
 * answers `ping()`, no due fire has waited longer than `maxLag`, and (cluster mode) its lease is
 * valid. Import it from
 * `nestjs-job-scheduler/terminus` and list it in a module that imports `TerminusModule`.
 */
@Injectable()
export class JobSchedulerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly scheduler: SchedulerService,
  ) {}

  async isHealthy<const Key extends string = 'jobScheduler'>(
    key: Key = 'jobScheduler' as Key,
    options: JobSchedulerHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const maxLag = options.maxLag === undefined ? 60_000 : parseDuration(options.maxLag);
    if (maxLag === null || maxLag <= 0) {
      throw new InvalidOptionsError(
        'maxLag',
        options.maxLag,
        "a duration greater than 0, such as '30s'",
      );
    }
    const indicator = this.indicators.check(key);
    const health = await this.scheduler.health();
    const data = { ...health, maxLagMs: maxLag };
    const healthy =
      health.started &&
      health.storageReachable &&
      health.oldestDueLagMs <= maxLag &&
      (health.cluster?.leaseValid ?? true);
    return healthy ? indicator.up(data) : indicator.down(data);
  }
}
