import { Injectable, Logger, Module, type LoggerService } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidOptionsError,
  JobModule,
  MemoryStorage,
  NopLogger,
  SchedulerService,
  StdLogger,
  type JobModuleOptions,
  type JobOptionsFactory,
} from '../../lib/index.js';
import { TestApps, nextJobEvent } from '../utils/apps.js';

const apps = new TestApps();
afterEach(() => apps.closeAll());

/** Invalid options, the option each must be reported under, and a piece of the expected message. */
const INVALID: [label: string, options: unknown, option: string, message: RegExp][] = [
  [
    'concurrentRuns 0',
    { concurrentRuns: 0 },
    'concurrentRuns',
    /Invalid option "concurrentRuns": got 0; expected an integer >= 1/,
  ],
  [
    'a bad duration string',
    { jobTimeout: 'soon' },
    'jobTimeout',
    /Invalid option "jobTimeout": got "soon"; expected a duration/,
  ],
  [
    'a negative retryDelay',
    { retryDelay: -1 },
    'retryDelay',
    /Invalid option "retryDelay": got -1/,
  ],
  [
    'autoStart not boolean',
    { autoStart: 'yes' },
    'autoStart',
    /Invalid option "autoStart": got "yes"; expected true or false/,
  ],
  [
    'a misspelt option',
    { concurentRuns: 2 },
    'concurentRuns',
    /Invalid option "concurentRuns".*known options/,
  ],
  ['a logger without methods', { logger: {} }, 'logger', /Invalid option "logger".*LoggerService/],
  [
    'a storage that is not one',
    { storage: {} },
    'storage',
    /Invalid option "storage".*JobStorage instance.*lacks createJob, getJob/,
  ],
  [
    'a storage given as a string',
    { storage: 'postgres://db' },
    'storage',
    /Invalid option "storage": got "postgres:\/\/db"; expected a JobStorage instance/,
  ],
  [
    'options that are not an object',
    42,
    'options',
    /Invalid option "options": got 42; expected an object of JobModuleOptions/,
  ],
];

describe('invalid options given to forRoot()', () => {
  it.each(INVALID)(
    '%s throws InvalidOptionsError at the call, naming the option',
    (_label, options, option, message) => {
      let error: unknown;
      try {
        JobModule.forRoot(options as JobModuleOptions);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', option });
      expect((error as Error).message).toMatch(message);
    },
  );

  it('null options are rejected too', () => {
    expect(() => JobModule.forRoot(null as unknown as JobModuleOptions)).toThrow(
      expect.objectContaining({ option: 'options' }),
    );
  });
});

describe('invalid options from forRootAsync()', () => {
  it.each(INVALID)(
    '%s from useFactory fails bootstrap with InvalidOptionsError naming the option',
    async (_label, options, option, message) => {
      const failure = apps.create({
        imports: [JobModule.forRootAsync({ useFactory: async () => options as JobModuleOptions })],
      });
      await expect(failure).rejects.toBeInstanceOf(InvalidOptionsError);
      await expect(failure).rejects.toMatchObject({ option });
      await expect(failure).rejects.toThrow(message);
    },
  );

  it('a factory that returns nothing is reported, not silently defaulted', async () => {
    const failure = apps.create({
      imports: [
        JobModule.forRootAsync({ useFactory: () => undefined as unknown as JobModuleOptions }),
      ],
    });
    await expect(failure).rejects.toMatchObject({ option: 'options' });
    await expect(failure).rejects.toThrow(/a forRootAsync factory must return one/);
  });

  it('useClass returning invalid options fails bootstrap naming the option', async () => {
    @Injectable()
    class BadConfig implements JobOptionsFactory {
      createJobOptions(): JobModuleOptions {
        return { batchSize: 0 };
      }
    }
    const failure = apps.create({ imports: [JobModule.forRootAsync({ useClass: BadConfig })] });
    await expect(failure).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(failure).rejects.toMatchObject({ option: 'batchSize' });
  });

  it('useExisting returning invalid options fails bootstrap naming the option', async () => {
    @Injectable()
    class BadConfig implements JobOptionsFactory {
      createJobOptions(): JobModuleOptions {
        return { cacheTTL: '5 minutes' };
      }
    }
    @Module({ providers: [BadConfig], exports: [BadConfig] })
    class ConfigModule {}
    const failure = apps.create({
      imports: [JobModule.forRootAsync({ imports: [ConfigModule], useExisting: BadConfig })],
    });
    await expect(failure).rejects.toBeInstanceOf(InvalidOptionsError);
    await expect(failure).rejects.toMatchObject({ option: 'cacheTTL' });
    await expect(failure).rejects.toThrow(/Invalid option "cacheTTL": got "5 minutes"/);
  });

  it('accepts any object with the JobStorage methods as storage', async () => {
    const memory = new MemoryStorage();
    const wrapped = {
      createJob: memory.createJob.bind(memory),
      getJob: memory.getJob.bind(memory),
      updateJob: memory.updateJob.bind(memory),
      deleteJob: memory.deleteJob.bind(memory),
      listJobs: memory.listJobs.bind(memory),
      createRun: memory.createRun.bind(memory),
      updateRun: memory.updateRun.bind(memory),
      getRuns: memory.getRuns.bind(memory),
      getJobRunCount: memory.getJobRunCount.bind(memory),
      close: memory.close.bind(memory),
      ping: memory.ping.bind(memory),
    } as unknown as MemoryStorage;
    const app = await apps.init({
      imports: [JobModule.forRootAsync({ useFactory: () => ({ storage: wrapped }) })],
    });
    expect(app.get(SchedulerService).storage).toBe(wrapped);
  });
});

describe('the logger option', () => {
  it("defaults to Nest's Logger with context JobScheduler", async () => {
    const app = await apps.init({ imports: [JobModule.forRoot()] });
    const logger = app.get(SchedulerService).options.logger;
    expect(logger).toBeInstanceOf(Logger);
    expect((logger as Logger & { context?: string }).context).toBe('JobScheduler');
  });

  it('takes a custom LoggerService, and the scheduler writes to it', async () => {
    const lines: string[] = [];
    const custom: LoggerService = {
      log: (message: string) => lines.push(`log ${message}`),
      error: (message: string) => lines.push(`error ${message}`),
      warn: (message: string) => lines.push(`warn ${message}`),
    };
    const app = await apps.init({ imports: [JobModule.forRoot({ logger: custom })] });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.options.logger).toBe(custom);
    scheduler.registerHandlerFunc('explode', () => {
      throw new Error('boom');
    });
    await scheduler.addJob({ id: 'explodes', handlerName: 'explode', runAt: Date.now() + 60_000 });
    const failed = nextJobEvent(scheduler, 'explodes', 'run.failed');
    await scheduler.triggerJob('explodes');
    await failed;
    expect(
      lines.some(
        (line) => line.startsWith('error') && line.includes('explodes') && line.includes('boom'),
      ),
    ).toBe(true);
  });

  it('takes StdLogger and NopLogger, through forRoot and forRootAsync', async () => {
    const std = new StdLogger();
    const nop = new NopLogger();
    const a = await apps.init({ imports: [JobModule.forRoot({ logger: std })] });
    const b = await apps.init({
      imports: [JobModule.forRootAsync({ useFactory: () => ({ logger: nop }) })],
    });
    expect(a.get(SchedulerService).options.logger).toBe(std);
    expect(b.get(SchedulerService).options.logger).toBe(nop);
  });
});
