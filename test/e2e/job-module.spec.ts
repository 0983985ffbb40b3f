import { Injectable, Module } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DuplicateJobModuleError,
  InvalidOptionsError,
  JobModule,
  JobStorage,
  MemoryStorage,
  Scheduler,
  SchedulerService,
  type JobModuleOptions,
  type JobOptionsFactory,
} from '../../lib/index.js';
import { TestApps } from '../utils/apps.js';

const apps = new TestApps();
afterEach(() => apps.closeAll());

/** Stands for a config module: provides settings the async forms read. */
@Injectable()
class Settings {
  readonly concurrentRuns = 2;
  readonly storage = new MemoryStorage();
}

@Injectable()
class JobConfigService implements JobOptionsFactory {
  constructor(private readonly settings: Settings) {}

  createJobOptions(): JobModuleOptions {
    return { concurrentRuns: this.settings.concurrentRuns + 1, jobTimeout: '1m' };
  }
}

@Module({ providers: [Settings, JobConfigService], exports: [Settings, JobConfigService] })
class SettingsModule {}

/** A feature module that does not import JobModule: the module is global. */
@Injectable()
class ReportsService {
  constructor(readonly scheduler: SchedulerService) {}
}

@Module({ providers: [ReportsService] })
class ReportsModule {}

describe('JobModule.forRoot()', () => {
  it('provides a started SchedulerService, the same as the core Scheduler token, over a MemoryStorage', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot()] });
    const scheduler = app.get(SchedulerService);
    expect(scheduler).toBeInstanceOf(Scheduler);
    expect(app.get(Scheduler)).toBe(scheduler);
    expect(scheduler.storage).toBeInstanceOf(MemoryStorage);
    expect(app.get(JobStorage)).toBe(scheduler.storage);
    expect(scheduler.isStarted()).toBe(true);
    expect(scheduler.options).toMatchObject({
      concurrentRuns: 5,
      jobTimeout: 300_000,
      retryDelay: 5_000,
    });
  });

  it('normalises the options it is given and uses the given storage', async () => {
    const storage = new MemoryStorage();
    const app = await apps.init({
      imports: [
        JobModule.forRoot({ storage, concurrentRuns: 7, jobTimeout: '10s', retryDelay: 250 }),
      ],
    });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.storage).toBe(storage);
    expect(scheduler.options).toMatchObject({
      concurrentRuns: 7,
      jobTimeout: 10_000,
      retryDelay: 250,
    });
  });

  it('is global: a feature module injects SchedulerService without importing JobModule', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot(), ReportsModule] });
    expect(app.get(ReportsService).scheduler).toBe(app.get(SchedulerService));
  });

  it('is not global with isGlobal: false', async () => {
    await expect(
      apps.create({ imports: [JobModule.forRoot({ isGlobal: false }), ReportsModule] }),
    ).rejects.toThrow(/SchedulerService/);
  });

  it('gives every application its own storage, even when built from one module definition', async () => {
    @Module({ imports: [JobModule.forRoot()] })
    class AppModule {}
    const first = await apps.init({ imports: [AppModule] });
    const second = await apps.init({ imports: [AppModule] });
    const a = first.get(SchedulerService);
    const b = second.get(SchedulerService);
    expect(a).not.toBe(b);
    expect(a.storage).not.toBe(b.storage);
    a.registerHandlerFunc('noop', () => 'ok');
    await a.addJob({ id: 'only-in-first', handlerName: 'noop', cron: '0 0 * * * *' });
    expect(await b.listJobs()).toEqual([]);
  });

  it('fails clearly when imported without forRoot()', async () => {
    const failure = apps.create({ imports: [JobModule] });
    await expect(failure).rejects.toThrow(InvalidOptionsError);
    await expect(failure).rejects.toThrow(/JobModule\.forRoot\(options\)/);
  });

  it('fails bootstrap when configured twice in one application', async () => {
    @Module({ imports: [JobModule.forRoot({ concurrentRuns: 2 })] })
    class FeatureModule {}
    const app = await apps.create({ imports: [JobModule.forRoot(), FeatureModule] });
    const failure = app.init();
    await expect(failure).rejects.toThrow(DuplicateJobModuleError);
    await expect(failure).rejects.toThrow(/configured 2 times.*Import it once, in the root module/);
  });

  it('fails bootstrap when forRoot() and forRootAsync() are both imported', async () => {
    const app = await apps.create({
      imports: [JobModule.forRoot(), JobModule.forRootAsync({ useFactory: () => ({}) })],
    });
    await expect(app.init()).rejects.toMatchObject({ code: 'DUPLICATE_JOB_MODULE', count: 2 });
  });

  it('accepts one forRoot() module imported from two places (it is the same module)', async () => {
    const jobModule = JobModule.forRoot();
    @Module({ imports: [jobModule] })
    class FeatureModule {}
    const app = await apps.init({ imports: [jobModule, FeatureModule] });
    expect(app.get(SchedulerService).isStarted()).toBe(true);
  });
});

describe('JobModule.forRootAsync()', () => {
  it('useFactory with imports and inject (async factory)', async () => {
    const app = await apps.init({
      imports: [
        JobModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: async (settings: Settings) => ({
            storage: settings.storage,
            concurrentRuns: settings.concurrentRuns,
            retryDelay: '2s',
          }),
        }),
      ],
    });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.storage).toBe(app.get(Settings).storage);
    expect(app.get(JobStorage)).toBe(app.get(Settings).storage);
    expect(scheduler.options).toMatchObject({ concurrentRuns: 2, retryDelay: 2_000 });
    expect(scheduler.isStarted()).toBe(true);
  });

  it('useClass: the module instantiates the factory class (with its dependencies from imports)', async () => {
    const app = await apps.init({
      imports: [JobModule.forRootAsync({ imports: [SettingsModule], useClass: JobConfigService })],
    });
    expect(app.get(SchedulerService).options).toMatchObject({
      concurrentRuns: 3,
      jobTimeout: 60_000,
    });
  });

  it('useExisting: an existing provider from imports builds the options', async () => {
    const app = await apps.init({
      imports: [
        JobModule.forRootAsync({ imports: [SettingsModule], useExisting: JobConfigService }),
      ],
    });
    expect(app.get(SchedulerService).options).toMatchObject({
      concurrentRuns: 3,
      jobTimeout: 60_000,
    });
  });

  it('is global too', async () => {
    const app = await apps.init({
      imports: [JobModule.forRootAsync({ useFactory: () => ({}) }), ReportsModule],
    });
    expect(app.get(ReportsService).scheduler).toBe(app.get(SchedulerService));
  });

  it('needs exactly one of useFactory, useClass and useExisting', () => {
    expect(() => JobModule.forRootAsync({})).toThrow(InvalidOptionsError);
    expect(() => JobModule.forRootAsync({})).toThrow(
      /exactly one of useFactory, useClass or useExisting/,
    );
    expect(() =>
      JobModule.forRootAsync({ useFactory: () => ({}), useClass: JobConfigService }),
    ).toThrow(/Invalid option "useFactory, useClass"/);
  });
});
