import { hostname } from 'node:os';
import { isJobLogger } from '../loggers/is-job-logger.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { JobTracer } from '../interfaces/job-tracer.js';
import type {
  NormalizedClusterOptions,
  NormalizedHistoryRetention,
  NormalizedSchedulerOptions,
  SchedulerOptions,
} from '../interfaces/scheduler-options.interface.js';
import { DURATION_HINT, parseDuration } from './duration.js';

/** The options' defaults (durations in milliseconds), as the README's options table lists them. */
export const DEFAULT_SCHEDULER_OPTIONS = {
  concurrentRuns: 5,
  jobTimeout: 5 * 60_000,
  retryDelay: 5_000,
  autoStart: true,
  enableBatchUpdate: false,
  batchSize: 10,
  batchFlushInterval: 1_000,
  enableCache: false,
  cacheCapacity: 100,
  cacheTTL: 5 * 60_000,
  cacheCleanupInterval: 60_000,
  shutdownTimeout: 30_000,
  maxOutputSize: 64 * 1024,
  misfireThreshold: 1_000,
} as const;

/**
 * Every option key accepted; `storage` and `removeUndeclaredJobs` are the module's (validated
 * there). A typo is an error, not a no-op.
 */
const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  ...Object.keys(DEFAULT_SCHEDULER_OPTIONS),
  'logger',
  'storage',
  'removeUndeclaredJobs',
  'historyRetention',
  'tracer',
  'cluster',
]);

/**
 * Validates scheduler options and fills the defaults: the one place both the core `Scheduler` and
 * `JobModule` (both forms) go through. Throws `InvalidOptionsError` naming the option and the value.
 * An unknown key is rejected, so a misspelt option never passes silently.
 */
export function normalizeSchedulerOptions(
  options: SchedulerOptions | undefined,
  defaultLogger: () => JobLogger,
): NormalizedSchedulerOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionsError('options', options, 'an object (or nothing, for the defaults)');
  }
  const o = options as Options;
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new InvalidOptionsError(
        key,
        o[key],
        `one of the known options: ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const d = DEFAULT_SCHEDULER_OPTIONS;
  return {
    concurrentRuns: positiveInteger(o, 'concurrentRuns', d.concurrentRuns),
    jobTimeout: duration(o, 'jobTimeout', d.jobTimeout, true),
    retryDelay: duration(o, 'retryDelay', d.retryDelay, false),
    autoStart: boolean(o, 'autoStart', d.autoStart),
    logger: logger(options.logger) ?? defaultLogger(),
    enableBatchUpdate: boolean(o, 'enableBatchUpdate', d.enableBatchUpdate),
    batchSize: positiveInteger(o, 'batchSize', d.batchSize),
    batchFlushInterval: duration(o, 'batchFlushInterval', d.batchFlushInterval, true),
    enableCache: boolean(o, 'enableCache', d.enableCache),
    cacheCapacity: positiveInteger(o, 'cacheCapacity', d.cacheCapacity),
    cacheTTL: duration(o, 'cacheTTL', d.cacheTTL, true),
    cacheCleanupInterval: duration(o, 'cacheCleanupInterval', d.cacheCleanupInterval, true),
    shutdownTimeout: duration(o, 'shutdownTimeout', d.shutdownTimeout, false),
    maxOutputSize: positiveInteger(o, 'maxOutputSize', d.maxOutputSize, 64),
    misfireThreshold: duration(o, 'misfireThreshold', d.misfireThreshold, true),
    historyRetention: historyRetention(o.historyRetention),
    tracer: tracer(o.tracer),
    cluster: cluster(o.cluster),
  };
}

const CLUSTER_KEYS: ReadonlySet<string> = new Set([
  'instanceId',
  'leaseTtl',
  'heartbeatInterval',
  'pollInterval',
]);

/** The longest `cluster.instanceId` (a lease id adds 13 characters, within 128). */
export const MAX_INSTANCE_ID_LENGTH = 100;

function cluster(value: unknown): NormalizedClusterOptions | null {
  if (value === undefined || value === null || value === false) return null;
  const expected =
    "true, or an object with instanceId, leaseTtl, heartbeatInterval and/or pollInterval, e.g. { leaseTtl: '30s' }";
  if (value !== true && (typeof value !== 'object' || Array.isArray(value))) {
    throw new InvalidOptionsError('cluster', value, expected);
  }
  const c = (value === true ? {} : value) as Options;
  for (const key of Object.keys(c)) {
    if (!CLUSTER_KEYS.has(key)) {
      throw new InvalidOptionsError(
        `cluster.${key}`,
        c[key],
        `one of ${[...CLUSTER_KEYS].join(', ')}`,
      );
    }
  }
  const instanceId = c.instanceId ?? `${hostname()}-${process.pid}`;
  if (
    typeof instanceId !== 'string' ||
    instanceId.trim() === '' ||
    instanceId.length > MAX_INSTANCE_ID_LENGTH ||
    instanceId.includes('\u0000')
  ) {
    throw new InvalidOptionsError(
      'cluster.instanceId',
      c.instanceId,
      `a non-empty string of at most ${MAX_INSTANCE_ID_LENGTH} characters, unique per running instance (default <hostname>-<pid>)`,
    );
  }
  const leaseTtl = duration(c, 'leaseTtl', 30_000, true, 'cluster.');
  const heartbeatInterval = duration(c, 'heartbeatInterval', 10_000, true, 'cluster.');
  const pollInterval = duration(c, 'pollInterval', 1_000, true, 'cluster.');
  if (heartbeatInterval >= leaseTtl) {
    throw new InvalidOptionsError(
      'cluster.heartbeatInterval',
      c.heartbeatInterval ?? heartbeatInterval,
      `a duration shorter than cluster.leaseTtl (${leaseTtl} ms), so that a live instance renews its lease before it expires (a third of it or less is best)`,
    );
  }
  return { instanceId, leaseTtl, heartbeatInterval, pollInterval };
}

function tracer(value: unknown): JobTracer | undefined {
  if (value === undefined) return undefined;
  const t = value as Partial<JobTracer> | null;
  if (
    !t ||
    typeof t !== 'object' ||
    typeof t.startRun !== 'function' ||
    typeof t.endRun !== 'function'
  ) {
    throw new InvalidOptionsError(
      'tracer',
      value,
      'a JobTracer (such as new OpenTelemetryJobTracer()), or nothing for the default',
    );
  }
  return t as JobTracer;
}

const RETENTION_KEYS: ReadonlySet<string> = new Set([
  'maxRunsPerJob',
  'maxAge',
  'interval',
  'batchSize',
]);

function historyRetention(value: unknown): NormalizedHistoryRetention | null {
  if (value === undefined || value === null) return null;
  const expected =
    "an object with maxRunsPerJob (an integer >= 1) and/or maxAge (a duration), e.g. { maxRunsPerJob: 100, maxAge: '30d' }";
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionsError('historyRetention', value, expected);
  }
  const r = value as Options;
  for (const key of Object.keys(r)) {
    if (!RETENTION_KEYS.has(key)) {
      throw new InvalidOptionsError(
        `historyRetention.${key}`,
        r[key],
        `one of ${[...RETENTION_KEYS].join(', ')}`,
      );
    }
  }
  if (r.maxRunsPerJob === undefined && r.maxAge === undefined) {
    throw new InvalidOptionsError('historyRetention', value, expected);
  }
  return {
    maxRunsPerJob:
      r.maxRunsPerJob === undefined
        ? undefined
        : positiveInteger(r, 'maxRunsPerJob', 0, 1, 'historyRetention.'),
    maxAge:
      r.maxAge === undefined ? undefined : duration(r, 'maxAge', 0, true, 'historyRetention.'),
    interval: duration(r, 'interval', 60_000, true, 'historyRetention.'),
    batchSize: positiveInteger(r, 'batchSize', 1000, 1, 'historyRetention.'),
  };
}

type Options = Record<string, unknown>;

function positiveInteger(
  options: Options,
  key: string,
  fallback: number,
  min = 1,
  path = '',
): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidOptionsError(
      path + key,
      value,
      `an integer >= ${min}${fallback ? ` (default ${fallback})` : ''}`,
    );
  }
  return value;
}

function duration(
  options: Options,
  key: string,
  fallback: number,
  positive: boolean,
  path = '',
): number {
  const value = options[key];
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || (positive && ms <= 0) || ms > MAX_DURATION) {
    const bound = positive ? 'greater than 0' : '>= 0';
    throw new InvalidOptionsError(path + key, value, `a duration ${bound}: ${DURATION_HINT}`);
  }
  return ms;
}

/** About 285 years: far beyond any timer, small enough to stay exact as epoch arithmetic. */
const MAX_DURATION = 2 ** 53 / 1000;

function boolean(options: Options, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionsError(key, value, 'true or false');
  return value;
}

function logger(value: unknown): JobLogger | undefined {
  if (value === undefined) return undefined;
  if (!isJobLogger(value)) {
    throw new InvalidOptionsError(
      'logger',
      value,
      'a LoggerService (an object with log, error and warn methods), such as new Logger(), StdLogger or NopLogger',
    );
  }
  return value;
}
