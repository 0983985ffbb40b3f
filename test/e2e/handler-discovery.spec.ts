import {
  Injectable,
  Module,
  type INestApplication,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DuplicateJobHandlerError,
  InvalidJobError,
  InvalidJobHandlerError,
  JobHandler,
  JobModule,
  RequestScopedJobHandlerError,
  SchedulerService,
} from '../../lib/index.js';
import { MemoryStorage } from '../../lib/storage/memory/memory.storage.js';
import { makeRun } from '../../lib/testing/fixtures.js';
import { ALIASED_HANDLER, AliasedHandler } from '../src/handlers/aliased.handler.js';
import { AuditController } from '../src/handlers/audit.controller.js';
import { CleanupHandler } from '../src/handlers/cleanup.handler.js';
import { FACTORY_MADE_HANDLER, FactoryMadeHandler } from '../src/handlers/factory-made.handler.js';
import { HANDLER_NAMES, HandlersModule } from '../src/handlers/handlers.module.js';
import {
  BadCronHandler,
  DependsOnRequestScopedHandler,
  FirstDuplicateHandler,
  NoExecuteHandler,
  RequestContextService,
  RequestScopedService,
  SecondDuplicateService,
  TransientService,
} from '../src/handlers/invalid.handlers.js';
import { ReportService } from '../src/handlers/report.service.js';
import { Probe, ProbeModule } from '../src/probe.module.js';
import { TestApps, nextJobEvent } from '../utils/apps.js';

const apps = new TestApps();
afterEach(() => apps.closeAll());

/** Adds a once job far in the future for a handler, triggers it, and returns its run. */
async function runOnce(app: INestApplication, handlerName: string, payload: unknown = null) {
  const scheduler = app.get(SchedulerService);
  const job = await scheduler.addJob({ handlerName, payload, runAt: Date.now() + 3_600_000 });
  const succeeded = nextJobEvent(scheduler, job.id, 'run.succeeded');
  await scheduler.triggerJob(job.id);
  const event = await succeeded;
  return event.run!;
}

describe('discovery of @JobHandler classes and methods', () => {
  it('registers every kind of handler of a feature module', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    const scheduler = app.get(SchedulerService);
    for (const name of HANDLER_NAMES) expect(scheduler.hasHandler(name), name).toBe(true);
    expect(scheduler.hasHandler('notAHandler')).toBe(false);
  });

  it('runs a class handler through its execute(payload, ctx)', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    const run = await runOnce(app, 'cleanup', { action: 'purge' });
    expect(run.status).toBe('success');
    expect(run.output).toBe('{"cleaned":"purge"}');
    const [call] = app.get(Probe).callsOf('cleanup');
    expect(call).toMatchObject({ payload: { action: 'purge' }, attempt: 1, jobId: run.jobId });
    expect(call.self).toBe(app.get(CleanupHandler));
  });

  it('runs method handlers bound to their provider instance (sync and async)', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    expect((await runOnce(app, 'report.build', { month: '2024-05' })).output).toBe(
      'report:2024-05',
    );
    expect((await runOnce(app, 'report.email', { to: 'ops' })).status).toBe('success');
    const probe = app.get(Probe);
    expect(probe.callsOf('report.build')[0].self).toBe(app.get(ReportService));
    expect(probe.callsOf('report.email')[0]).toMatchObject({
      payload: { to: 'ops' },
      self: app.get(ReportService),
    });
  });

  it('runs a method handler of a controller', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    expect((await runOnce(app, 'audit.flush')).output).toBe('flushed');
    expect(app.get(Probe).callsOf('audit.flush')[0].self).toBe(app.get(AuditController));
  });

  it('registers an aliased provider (useExisting) once, as its original instance', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    expect(app.get(ALIASED_HANDLER)).toBe(app.get(AliasedHandler));
    expect((await runOnce(app, 'aliased')).output).toBe('aliased');
    const calls = app.get(Probe).callsOf('aliased');
    expect(calls).toHaveLength(1);
    expect(calls[0].self).toBe(app.get(AliasedHandler));
  });

  it('finds a handler class built by a factory provider (useFactory) through its instance', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    expect((await runOnce(app, 'factory-made')).output).toBe('made by a factory');
    const instance = app.get<FactoryMadeHandler>(FACTORY_MADE_HANDLER);
    expect(instance).toBeInstanceOf(FactoryMadeHandler);
    expect(app.get(Probe).callsOf('factory-made')[0].self).toBe(instance);
  });

  it('finds a method handler on a value provider (useValue)', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ProbeModule, HandlersModule] });
    expect((await runOnce(app, 'value.method', { n: 1 })).output).toBe(
      'from a value provider: {"n":1}',
    );
  });

  it('gives a transient provider its own fully built instance', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot()], providers: [TransientService] });
    expect((await runOnce(app, 'transient')).output).toBe('transient number');
  });

  it('registers handlers before other providers bootstrap, so they can add jobs then', async () => {
    @Injectable()
    class Bootstrapper implements OnApplicationBootstrap {
      jobId = '';
      constructor(private readonly scheduler: SchedulerService) {}
      async onApplicationBootstrap(): Promise<void> {
        this.jobId = (
          await this.scheduler.addJob({
            handlerName: 'cleanup',
            payload: { action: 'boot' },
            runAt: Date.now(),
          })
        ).id;
      }
    }
    @Module({ providers: [Bootstrapper] })
    class BootModule {}
    const app = await apps.init({
      imports: [JobModule.forRoot(), ProbeModule, HandlersModule, BootModule],
    });
    expect(app.get(Bootstrapper).jobId).not.toBe('');
  });
  it("registers handlers before any other module's onModuleInit, however deep", async () => {
    @Injectable()
    class EarlyJobs implements OnModuleInit {
      jobId = '';
      constructor(private readonly scheduler: SchedulerService) {}
      async onModuleInit(): Promise<void> {
        this.jobId = (
          await this.scheduler.addJob({ handlerName: 'cleanup', runAt: Date.now() + 60_000 })
        ).id;
      }
    }
    @Module({ providers: [EarlyJobs] })
    class DeepModule {}
    @Module({ imports: [DeepModule] })
    class MiddleModule {}
    const app = await apps.init({
      imports: [MiddleModule, ProbeModule, HandlersModule, JobModule.forRoot()],
    });
    expect(app.get(EarlyJobs).jobId).not.toBe('');
  });
  it('keeps a declared job whose declaration is gone, unless removeUndeclaredJobs removes it', async () => {
    const storage = new MemoryStorage();
    @Injectable()
    class Old {
      @JobHandler('old-report', { cron: '0 0 3 * * *' })
      report(): void {}
    }
    @Injectable()
    class Kept {
      @JobHandler('kept-report', { cron: '0 0 4 * * *' })
      report(): void {}
    }
    @Module({ providers: [Old, Kept] })
    class BeforeModule {}
    @Module({ providers: [Kept] })
    class AfterModule {}
    const before = await apps.init({ imports: [JobModule.forRoot({ storage }), BeforeModule] });
    await before.close();
    await storage.createRun(makeRun('handler:old-report', { status: 'success' }));
    // The next deploy: Old is deleted from the code.
    const keeping = await apps.init({ imports: [JobModule.forRoot({ storage }), AfterModule] });
    expect(await storage.getJob('handler:old-report')).not.toBeNull();
    expect(keeping.get(SchedulerService).metrics().jobsWithoutHandler).toBe(1);
    await keeping.close();
    const removing = await apps.init({
      imports: [JobModule.forRoot({ storage, removeUndeclaredJobs: true }), AfterModule],
    });
    expect(await storage.getJob('handler:old-report')).toBeNull();
    expect(await storage.getJobRunCount('handler:old-report')).toBe(0);
    expect(await storage.getJob('handler:kept-report')).not.toBeNull();
    expect(removing.get(SchedulerService).metrics().jobsWithoutHandler).toBe(0);
    expect(() => JobModule.forRoot({ removeUndeclaredJobs: 'yes' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', option: 'removeUndeclaredJobs' }),
    );
  });

  it('gives a declared job the run and misfire policy of its decorator', async () => {
    @Injectable()
    class Report {
      @JobHandler('nightly-report', {
        cron: '0 0 2 * * *',
        maxRetry: 3,
        timeout: '20m',
        retryDelay: '30s',
        backoff: 'exponential',
        maxRetryDelay: '10m',
        jitter: 0.2,
        misfirePolicy: 'skip',
        maxMisfires: 3,
      })
      run(): void {}
    }
    @Module({ providers: [Report] })
    class ReportModule {}
    const app = await apps.init({ imports: [JobModule.forRoot(), ReportModule] });
    expect(await app.get(SchedulerService).getJob('handler:nightly-report')).toMatchObject({
      timeout: 1_200_000,
      retryDelay: 30_000,
      backoff: 'exponential',
      maxRetryDelay: 600_000,
      jitter: 0.2,
      misfirePolicy: 'skip',
      maxMisfires: 3,
    });
  });

  it('registers a handler with its concurrency, class and method alike', async () => {
    const seen = { now: 0, most: 0 };
    const busy = async (): Promise<void> => {
      seen.most = Math.max(seen.most, ++seen.now);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.now--;
    };
    @Injectable()
    @JobHandler('one-at-a-time', { concurrency: 1 })
    class OneAtATime {
      execute(): Promise<void> {
        return busy();
      }
    }
    @Injectable()
    class Methods {
      @JobHandler('also-one-at-a-time', { concurrency: 1 })
      run(): Promise<void> {
        return busy();
      }
    }
    @Module({ providers: [OneAtATime, Methods] })
    class LimitedModule {}
    const app = await apps.init({ imports: [JobModule.forRoot(), LimitedModule] });
    const scheduler = app.get(SchedulerService);
    for (const handlerName of ['one-at-a-time', 'also-one-at-a-time']) {
      seen.most = 0;
      const jobs = [];
      for (let i = 0; i < 3; i++)
        jobs.push(await scheduler.addJob({ handlerName, runAt: Date.now() }));
      await Promise.all(jobs.map((job) => nextJobEvent(scheduler, job.id, 'run.succeeded')));
      expect([handlerName, seen.most]).toEqual([handlerName, 1]);
    }
  });
});

describe('handlers that fail bootstrap', () => {
  it('two handlers with one name: DuplicateJobHandlerError naming both places', async () => {
    const app = await apps.create({
      providers: [FirstDuplicateHandler, SecondDuplicateService],
      imports: [JobModule.forRoot()],
    });
    const failure = app.init();
    await expect(failure).rejects.toBeInstanceOf(DuplicateJobHandlerError);
    await expect(failure).rejects.toMatchObject({
      code: 'DUPLICATE_JOB_HANDLER',
      handlerName: 'duplicate',
      first: 'FirstDuplicateHandler',
      second: 'SecondDuplicateService#run',
    });
    await expect(failure).rejects.toThrow(
      'Two handlers are named "duplicate": FirstDuplicateHandler and SecondDuplicateService#run',
    );
  });

  it('a handler on a request-scoped provider: RequestScopedJobHandlerError naming Class#method', async () => {
    const app = await apps.create({
      imports: [JobModule.forRoot()],
      providers: [RequestScopedService],
    });
    const failure = app.init();
    await expect(failure).rejects.toBeInstanceOf(RequestScopedJobHandlerError);
    await expect(failure).rejects.toMatchObject({
      code: 'REQUEST_SCOPED_JOB_HANDLER',
      handlerName: 'request-scoped',
      source: 'RequestScopedService#run',
    });
    await expect(failure).rejects.toThrow(
      /Job handler "request-scoped" \(RequestScopedService#run\) is on a request-scoped provider.*Make its provider default-scoped/,
    );
  });

  it('a handler on a provider that depends on a request-scoped one is rejected too', async () => {
    const app = await apps.create({
      imports: [JobModule.forRoot()],
      providers: [RequestContextService, DependsOnRequestScopedHandler],
    });
    await expect(app.init()).rejects.toMatchObject({
      code: 'REQUEST_SCOPED_JOB_HANDLER',
      source: 'DependsOnRequestScopedHandler#run',
    });
  });

  it('a handler class without execute: InvalidJobHandlerError naming the class', async () => {
    const app = await apps.create({
      imports: [JobModule.forRoot()],
      providers: [NoExecuteHandler],
    });
    const failure = app.init();
    await expect(failure).rejects.toBeInstanceOf(InvalidJobHandlerError);
    await expect(failure).rejects.toMatchObject({
      code: 'INVALID_JOB_HANDLER',
      target: 'NoExecuteHandler',
    });
    await expect(failure).rejects.toThrow(
      /Invalid @JobHandler on NoExecuteHandler: the class is marked @JobHandler\("no-execute"\) but has no execute\(payload, ctx\) method/,
    );
  });

  it('a declared job with a bad cron: InvalidJobError naming the field and the job', async () => {
    const app = await apps.create({ imports: [JobModule.forRoot()], providers: [BadCronHandler] });
    const failure = app.init();
    await expect(failure).rejects.toBeInstanceOf(InvalidJobError);
    await expect(failure).rejects.toMatchObject({ field: 'cron' });
    await expect(failure).rejects.toThrow(
      /field "cron" .*It is declared by @JobHandler\("bad-cron", \{ \.\.\. \}\) on BadCronHandler, as job "handler:bad-cron"\./,
    );
  });
});

describe('@JobHandler() misuse throws where it is applied', () => {
  const decorateClass = (name: unknown, options?: unknown) => {
    class Target {
      execute(): void {}
    }
    (JobHandler as (name: unknown, options?: unknown) => ClassDecorator)(name, options)(Target);
  };

  it.each([
    [
      'an empty name',
      '',
      /Invalid @JobHandler on Target: the handler name must be a non-blank string \(got ""\)/,
    ],
    ['a blank name', '   ', /the handler name must be a non-blank string/],
    ['a non-string name', 42, /the handler name must be a non-blank string \(got 42\)/],
    ['no name', undefined, /the handler name must be a non-blank string \(got undefined\)/],
  ])('%s', (_label, name, message) => {
    expect(() => decorateClass(name)).toThrow(InvalidJobHandlerError);
    expect(() => decorateClass(name)).toThrow(message);
  });

  it.each([
    ['options that are not an object', 'nightly', /options must be an object/],
    [
      'cron and interval together',
      { cron: '* * * * * *', interval: '1s' },
      /"cron" and "interval" exclude each other/,
    ],
    ['an empty cron', { cron: '' }, /option "cron" must be a cron expression/],
    [
      'an interval of the wrong type',
      { interval: true },
      /option "interval" must be milliseconds or a duration/,
    ],
    [
      'a timezone without cron',
      { interval: '1s', timezone: 'Europe/Paris' },
      /option "timezone".*goes with "cron"/,
    ],
    [
      'a negative maxRetry',
      { cron: '0 * * * * *', maxRetry: -1 },
      /option "maxRetry" must be an integer >= 0/,
    ],
    [
      'a description that is not a string',
      { cron: '0 * * * * *', description: 1 },
      /option "description" must be a string/,
    ],
    [
      'job fields without a schedule',
      { payload: {}, maxRetry: 1 },
      /options "payload", "maxRetry" describe a declared job, which needs "cron" or "interval"/,
    ],
    [
      'a concurrency of 0',
      { concurrency: 0 },
      /option "concurrency" must be a whole number of at least 1/,
    ],
    [
      'a run policy without a schedule',
      { timeout: '1m' },
      /option "timeout" describe.*a declared job, which needs "cron" or "interval"/,
    ],
    ['an unknown option', { cronn: '* * * * * *' }, /unknown option "cronn"/],
  ])('%s', (_label, options, message) => {
    expect(() => decorateClass('name', options)).toThrow(InvalidJobHandlerError);
    expect(() => decorateClass('name', options)).toThrow(message);
  });

  it('on a static method', () => {
    class Target {
      static run(): void {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Target, 'run')!;
    expect(() => (JobHandler('static') as MethodDecorator)(Target, 'run', descriptor)).toThrow(
      /Invalid @JobHandler on Target#run: it cannot decorate a static method/,
    );
  });

  it('twice on one method', () => {
    class Target {
      run(): void {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Target.prototype, 'run')!;
    (JobHandler('first') as MethodDecorator)(Target.prototype, 'run', descriptor);
    expect(() =>
      (JobHandler('second') as MethodDecorator)(Target.prototype, 'run', descriptor),
    ).toThrow(/Invalid @JobHandler on Target#run: it is already marked @JobHandler\("first"\)/);
  });

  it('on an accessor', () => {
    class Target {
      get value(): number {
        return 1;
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Target.prototype, 'value')!;
    expect(() =>
      (JobHandler('getter') as MethodDecorator)(Target.prototype, 'value', descriptor),
    ).toThrow(/it can only decorate a method/);
  });
});
