import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Scheduler } from './scheduler.js';
import type { NormalizedJobModuleOptions } from './interfaces/job-module-options.interface.js';
import { NORMALIZED_JOB_MODULE_OPTIONS } from './job.constants.js';

/**
 * The scheduler as a Nest provider: the core `Scheduler` (same methods, same code), built from the
 * `JobModule` options and tied to the application's lifecycle. Handlers marked `@JobHandler` are
 * registered in `onModuleInit`; the scheduler starts in `onApplicationBootstrap` when `autoStart`
 * is true, and stops gracefully in `beforeApplicationShutdown` (in-flight runs get
 * `shutdownTimeout` to end, then are aborted and recorded failed; pending writes are flushed),
 * before TypeORM closes its `DataSource` in `onApplicationShutdown`. Signals (SIGTERM...) reach
 * the shutdown hooks only after `app.enableShutdownHooks()`.
 */
@Injectable()
export class SchedulerService
  extends Scheduler
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  constructor(@Inject(NORMALIZED_JOB_MODULE_OPTIONS) options: NormalizedJobModuleOptions) {
    super(options.storage, options);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.autoStart && !this.isStarted()) await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }
}
