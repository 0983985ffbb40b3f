import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULER_OPTIONS,
  normalizeSchedulerOptions,
} from '../../../lib/core/normalize-options.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { StdLogger } from '../../../lib/loggers/std-logger.js';
import type { SchedulerOptions } from '../../../lib/interfaces/scheduler-options.interface.js';

const defaultLogger = () => new StdLogger();

describe('normalizeSchedulerOptions', () => {
  it("fills the seed's defaults", () => {
    const options = normalizeSchedulerOptions(undefined, defaultLogger);
    expect(options).toMatchObject({
      concurrentRuns: 5,
      jobTimeout: 300_000,
      retryDelay: 5_000,
      autoStart: true,
      enableBatchUpdate: false,
      batchSize: 10,
      batchFlushInterval: 1_000,
      enableCache: false,
      cacheCapacity: 100,
      cacheTTL: 300_000,
      cacheCleanupInterval: 60_000,
      shutdownTimeout: 30_000,
      maxOutputSize: 65_536,
    });
    expect(options.logger).toBeInstanceOf(StdLogger);
    expect(options.historyRetention).toBeNull();
    expect(options.cluster).toBeNull();
    expect(Object.keys(DEFAULT_SCHEDULER_OPTIONS).sort()).toEqual(
      Object.keys(options)
        .filter((k) => !['logger', 'historyRetention', 'tracer', 'cluster'].includes(k))
        .sort(),
    );
  });

  it('reads cluster: true with the defaults, or an object of durations', () => {
    const on = normalizeSchedulerOptions({ cluster: true }, defaultLogger).cluster;
    expect(on).toEqual({
      instanceId: `${hostname()}-${process.pid}`,
      leaseTtl: 30_000,
      heartbeatInterval: 10_000,
      pollInterval: 1_000,
    });
    expect(
      normalizeSchedulerOptions(
        {
          cluster: {
            instanceId: 'web-1',
            leaseTtl: '5s',
            heartbeatInterval: 1000,
            pollInterval: '250ms',
          },
        },
        defaultLogger,
      ).cluster,
    ).toEqual({
      instanceId: 'web-1',
      leaseTtl: 5_000,
      heartbeatInterval: 1_000,
      pollInterval: 250,
    });
    expect(normalizeSchedulerOptions({ cluster: false }, defaultLogger).cluster).toBeNull();
    // Normalized options go through again unchanged (JobModule normalizes, then the Scheduler does).
    expect(normalizeSchedulerOptions({ cluster: on }, defaultLogger).cluster).toEqual(on);
  });

  it.each([
    [{ cluster: 'yes' }, 'cluster', '"yes"'],
    [{ cluster: [] }, 'cluster', 'got []'],
    [{ cluster: { leaseTTL: '30s' } }, 'cluster.leaseTTL', '"30s"'],
    [{ cluster: { instanceId: '' } }, 'cluster.instanceId', '""'],
    [{ cluster: { instanceId: 'x'.repeat(101) } }, 'cluster.instanceId', 'xxxx'],
    [{ cluster: { leaseTtl: '0s' } }, 'cluster.leaseTtl', '"0s"'],
    [{ cluster: { pollInterval: -1 } }, 'cluster.pollInterval', '-1'],
    [
      { cluster: { leaseTtl: '10s', heartbeatInterval: '10s' } },
      'cluster.heartbeatInterval',
      '"10s"',
    ],
  ])('refuses cluster option %j, naming %s', (options, name, value) => {
    expect(() => normalizeSchedulerOptions(options as SchedulerOptions, defaultLogger)).toThrow(
      expect.objectContaining({ name: 'InvalidOptionsError', option: name }),
    );
    expect(() => normalizeSchedulerOptions(options as SchedulerOptions, defaultLogger)).toThrow(
      value,
    );
  });

  it('reads durations as strings or milliseconds, and keeps a given logger', () => {
    const logger = new NopLogger();
    const options = normalizeSchedulerOptions(
      { jobTimeout: '10m', retryDelay: 0, batchFlushInterval: '500ms', cacheTTL: 1000, logger },
      defaultLogger,
    );
    expect(options).toMatchObject({
      jobTimeout: 600_000,
      retryDelay: 0,
      batchFlushInterval: 500,
      cacheTTL: 1000,
    });
    expect(options.logger).toBe(logger);
  });

  it.each([
    ['concurrentRuns', 0],
    ['concurrentRuns', 2.5],
    ['concurrentRuns', '5'],
    ['batchSize', -1],
    ['cacheCapacity', NaN],
    ['maxOutputSize', 10],
    ['jobTimeout', 0],
    ['jobTimeout', 'forever'],
    ['jobTimeout', Infinity],
    ['retryDelay', -1],
    ['retryDelay', '5 sec later'],
    ['batchFlushInterval', '0ms'],
    ['cacheTTL', null],
    ['cacheCleanupInterval', {}],
    ['shutdownTimeout', 'NaN'],
    ['autoStart', 'yes'],
    ['enableBatchUpdate', 1],
    ['enableCache', 'true'],
    ['logger', {}],
    ['logger', console.log],
    ['concurrentRun', 3],
    ['tracer', {}],
  ])('rejects %s = %o, naming the option and the value', (option, value) => {
    let error: unknown;
    try {
      normalizeSchedulerOptions({ [option]: value } as never, defaultLogger);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const invalid = error as InvalidOptionsError;
    expect(invalid.code).toBe('INVALID_OPTIONS');
    expect(invalid.option).toBe(option);
    expect(invalid.message).toContain(`"${option}"`);
    expect(invalid.message).toMatch(/expected .+/);
  });

  it('rejects options that are not an object', () => {
    expect(() => normalizeSchedulerOptions(42 as never, defaultLogger)).toThrow(
      InvalidOptionsError,
    );
  });
});
