import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, filter, timeout } from 'rxjs';
import { NopLogger, type JobEvent, type Scheduler } from '../../lib/index.js';

/** Builds real Nest applications and closes every one of them (call `closeAll()` in `afterEach`). */
export class TestApps {
  private readonly apps: INestApplication[] = [];

  /** Compiles the module and creates the application, without `init()`. */
  async create(metadata: ModuleMetadata): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule(metadata).setLogger(new NopLogger()).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    this.apps.push(app);
    return app;
  }

  /** `create()` then `init()`. */
  async init(metadata: ModuleMetadata): Promise<INestApplication> {
    const app = await this.create(metadata);
    await app.init();
    return app;
  }

  async closeAll(): Promise<void> {
    for (const app of this.apps.splice(0).reverse()) {
      await app.close().catch(() => undefined);
    }
  }
}

/**
 * The next event on `scheduler.events$` matching `predicate`. Call it before what causes the event,
 * and await it after.
 */
export function nextEvent(
  scheduler: Scheduler,
  predicate: (event: JobEvent) => boolean,
  ms = 5_000,
): Promise<JobEvent> {
  return firstValueFrom(scheduler.events$.pipe(filter(predicate), timeout(ms)));
}

/** The next event of a type for a job. */
export function nextJobEvent(
  scheduler: Scheduler,
  jobId: string,
  type: JobEvent['type'],
  ms = 5_000,
): Promise<JobEvent> {
  return nextEvent(scheduler, (event) => event.jobId === jobId && event.type === type, ms);
}
