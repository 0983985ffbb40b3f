import { LRUCache } from 'lru-cache';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { Job } from '../interfaces/job.interface.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import { isJobLogger } from '../loggers/is-job-logger.js';
import type { CachingStorageOptions } from './caching-storage-options.interface.js';

/** The longest delay `setInterval` takes (a longer one fires after 1 ms). */
const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * The `lru-cache` a `CachingStorage` keeps its jobs in, from its options (checked:
 * `InvalidOptionsError` naming the first that is wrong): at most `capacity` jobs, each fresh for
 * `ttl` after it was put, expiry read from the clock on every lookup. `evicted` is called for each
 * job evicted to make room.
 */
export function jobLru(
  options: CachingStorageOptions,
  evicted: () => void,
): { logger: JobLogger; cache: LRUCache<string, Job>; cleanupInterval: number } {
  const logger = options?.logger;
  if (!isJobLogger(logger))
    throw new InvalidOptionsError('logger', logger, 'a logger with log, warn and error methods');
  const capacity = options.capacity;
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1)
    throw new InvalidOptionsError('capacity', capacity, 'an integer of at least 1');
  const ttl = positiveMs('ttl', options.ttl);
  const cleanupInterval = Math.min(
    positiveMs('cleanupInterval', options.cleanupInterval),
    MAX_TIMER_DELAY,
  );
  const now = options.now;
  if (now !== undefined && typeof now !== 'function')
    throw new InvalidOptionsError('now', now, 'a function returning milliseconds');
  const cache = new LRUCache<string, Job>({
    max: capacity,
    ttl,
    // Read the clock on every lookup: exact expiry and no timer behind the scenes.
    ttlResolution: 0,
    perf: offsetClock(now ?? (() => performance.now())),
    dispose: (_job, _id, reason) => {
      if (reason === 'evict') evicted();
    },
  });
  return { logger, cache, cleanupInterval };
}

/**
 * The clock as the LRU reads it: counted from 1 at construction, because the LRU takes a start time
 * of exactly 0 for "never expires" (a fake or test clock often starts at 0).
 */
function offsetClock(now: () => number): { now(): number } {
  const base = now() - 1;
  return { now: () => now() - base };
}

/** A positive finite duration, rounded up to whole milliseconds. */
function positiveMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidOptionsError(option, value, 'a number of milliseconds greater than 0');
  return Math.ceil(value);
}
