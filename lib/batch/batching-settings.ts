import type { StorageFaultLog } from '../core/storage-fault-log.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { JobTracer } from '../interfaces/job-tracer.js';
import { isJobLogger } from '../loggers/is-job-logger.js';
import { createJobTracer } from '../telemetry/create-job-tracer.js';
import type { BatchingStorageOptions } from './batching-storage-options.interface.js';

/** The longest delay `setTimeout` takes. */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** `BatchingStorageOptions` checked, with their defaults. */
export interface BatchingSettings {
  readonly logger: JobLogger;
  readonly now: () => number;
  readonly batchSize: number;
  readonly flushInterval: number;
  readonly maxPending: number;
  readonly closeTimeout: number;
  readonly retryBaseDelay: number;
  readonly retryMaxDelay: number;
  readonly tracer: JobTracer;
  readonly faults: StorageFaultLog | undefined;
}

/** Checks the options (`InvalidOptionsError` naming the first that is wrong) and fills in defaults. */
export function batchingSettings(options: BatchingStorageOptions): BatchingSettings {
  const logger = options?.logger;
  if (!isJobLogger(logger))
    throw new InvalidOptionsError('logger', logger, 'a logger with log, warn and error methods');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function')
    throw new InvalidOptionsError('now', options.now, 'a function returning epoch milliseconds');
  const batchSize = integerOption('batchSize', options.batchSize, 1);
  const flushInterval = delayOption('flushInterval', options.flushInterval, 1);
  const maxPending = integerOption(
    'maxPending',
    options.maxPending ?? Math.max(1000, batchSize * 100),
    batchSize,
  );
  const closeTimeout = delayOption('closeTimeout', options.closeTimeout ?? 10_000, 0);
  const retryBaseDelay = delayOption('retryBaseDelay', options.retryBaseDelay ?? 100, 1);
  const retryMaxDelay = delayOption(
    'retryMaxDelay',
    options.retryMaxDelay ?? Math.max(5_000, retryBaseDelay),
    retryBaseDelay,
  );
  return {
    logger,
    now,
    batchSize,
    flushInterval,
    maxPending,
    closeTimeout,
    retryBaseDelay,
    retryMaxDelay,
    tracer: options.tracer ?? createJobTracer(),
    faults: options.faults,
  };
}

function integerOption(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new InvalidOptionsError(option, value, `an integer of at least ${min}`);
  return value;
}

function delayOption(option: string, value: unknown, min: number): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > MAX_TIMER_DELAY
  )
    throw new InvalidOptionsError(
      option,
      value,
      `a number of milliseconds from ${min} to ${MAX_TIMER_DELAY}`,
    );
  return value;
}
