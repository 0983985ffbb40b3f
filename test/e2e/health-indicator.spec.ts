import { Controller, Get, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobModule, MemoryStorage, NopLogger, SchedulerService } from '../../lib/index.js';
import { SharedMemoryClusterStorage } from '../utils/shared-memory-cluster-storage.js';
import { JobSchedulerHealthIndicator } from '../../lib/health/index.js';

// The README's snippet, as a user writes it.
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly jobs: JobSchedulerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.jobs.isHealthy('jobScheduler', { maxLag: '30s' })]);
  }
}

async function boot(
  storage = new MemoryStorage(),
  autoStart = true,
  cluster = false,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      JobModule.forRoot({
        storage,
        autoStart,
        logger: new NopLogger(),
        ...(cluster ? { cluster: { instanceId: 'web-1' } } : {}),
      }),
    ],
    controllers: [HealthController],
    providers: [JobSchedulerHealthIndicator],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('JobSchedulerHealthIndicator (@nestjs/terminus)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is up when started with a reachable storage', async () => {
    app = await boot();
    const result = await app.get(HealthController).check();
    expect(result.status).toBe('ok');
    expect(result.info?.jobScheduler).toMatchObject({
      status: 'up',
      started: true,
      storageReachable: true,
      oldestDueLagMs: 0,
      maxLagMs: 30_000,
    });
  });

  it('is down when the scheduler is not started', async () => {
    app = await boot(new MemoryStorage(), false);
    const error = await app
      .get(HealthController)
      .check()
      .catch((e: unknown) => e);
    expect((error as { getResponse(): unknown }).getResponse()).toMatchObject({
      status: 'error',
      error: { jobScheduler: { status: 'down', started: false } },
    });
  });

  it('is down when the storage does not answer', async () => {
    const storage = new MemoryStorage();
    app = await boot(storage);
    vi.spyOn(storage, 'ping').mockRejectedValue(new Error('connection refused'));
    const error = await app
      .get(HealthController)
      .check()
      .catch((e: unknown) => e);
    expect((error as { getResponse(): unknown }).getResponse()).toMatchObject({
      error: {
        jobScheduler: {
          status: 'down',
          storageReachable: false,
          storageError: 'Error: connection refused',
        },
      },
    });
  });

  it('in cluster mode, reports the lease and is down while it is not valid', async () => {
    const storage = new SharedMemoryClusterStorage();
    app = await boot(storage, true, true);
    const up = await app.get(HealthController).check();
    expect(up.info?.jobScheduler).toMatchObject({
      status: 'up',
      cluster: {
        instanceId: 'web-1',
        leaseId: expect.stringMatching(/^web-1#[0-9a-f]{12}$/),
        leaseValid: true,
      },
    });
    // 30 s later by the monotonic clock, with no renewal since: the lease is not trusted any more.
    const realNow = performance.now();
    vi.spyOn(performance, 'now').mockReturnValue(realNow + 31_000);
    const error = await app
      .get(HealthController)
      .check()
      .catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect((error as { getResponse(): unknown }).getResponse()).toMatchObject({
      error: { jobScheduler: { status: 'down', cluster: { leaseValid: false } } },
    });
  });

  it('is down when due work waits longer than maxLag', async () => {
    app = await boot();
    const scheduler = app.get(SchedulerService);
    scheduler.registerHandlerFunc('slow', () => new Promise((resolve) => setTimeout(resolve, 300)));
    // concurrentRuns 5: the sixth due job waits; pretend the clock moved on by 31 s.
    for (let i = 0; i < 6; i++) await scheduler.addJob({ runAt: new Date(), handlerName: 'slow' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const realNow = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(realNow + 31_000);
    const error = await app
      .get(HealthController)
      .check()
      .catch((e: unknown) => e);
    vi.restoreAllMocks();
    expect((error as { getResponse(): unknown }).getResponse()).toMatchObject({
      error: { jobScheduler: { status: 'down', queuedNow: 1 } },
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
  });
});
