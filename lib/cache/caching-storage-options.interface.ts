import type { JobLogger } from '../interfaces/logger.interface.js';

/** How a `CachingStorage` keeps jobs. Durations are milliseconds. */
export interface CachingStorageOptions {
  /** Most jobs kept; the least recently used one is evicted to make room. An integer of at least 1. */
  capacity: number;
  /**
   * How long a cached job is served after it was read or written (ms, rounded up to a whole
   * millisecond); a read does not extend it. It bounds how stale a job changed by another process can be.
   */
  ttl: number;
  /** How often expired jobs are swept out of memory (ms; capped at about 24.8 days, the longest timer). */
  cleanupInterval: number;
  /** Where a failing sweep is reported. */
  logger: JobLogger;
  /**
   * The clock the TTL is measured with (milliseconds, never going backwards; only differences
   * matter). Default `performance.now()` (monotonic), looked up on every call so fake timers apply.
   */
  now?: () => number;
}
