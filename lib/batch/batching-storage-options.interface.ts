import type { StorageFaultLog } from '../core/storage-fault-log.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { JobTracer } from '../interfaces/job-tracer.js';

/** How a `BatchingStorage` collects and flushes writes. Durations are milliseconds. */
export interface BatchingStorageOptions {
  /** Flush as soon as this many records (jobs + runs, each id counted once) are pending. */
  batchSize: number;
  /** Flush at least this often while anything is pending (ms). */
  flushInterval: number;
  /** Where flush failures and losses are reported. */
  logger: JobLogger;
  /**
   * Backpressure bound: once this many records are held (pending or being written), a write that adds
   * a record returns a promise that resolves only when a flush has made room again. Nothing is dropped.
   * Default `max(1000, batchSize * 100)`; at least `batchSize`.
   */
  maxPending?: number;
  /** How long `close()` keeps retrying a failing flush before it gives up, logs the loss and closes (ms). Default 10 s. */
  closeTimeout?: number;
  /** First delay before retrying a failed flush (ms); doubles per consecutive failure. Default 100. */
  retryBaseDelay?: number;
  /**
   * Longest delay between flush retries (ms). Default 5 s: after an outage, what was buffered is
   * written within about 5 s of the storage's return.
   */
  retryMaxDelay?: number;
  /**
   * Where a failed flush and the next successful one are reported instead of `logger` (the
   * scheduler's fault log, so that an outage is logged once whatever fails). Default: none, the
   * buffer logs them itself (once per run of failures, then every few).
   */
  faults?: StorageFaultLog;
  /** The clock (epoch ms) for `closeTimeout`. Default `Date.now`. */
  now?: () => number;
  /**
   * Traces each flush (`batch.flush.runs` / `batch.flush.jobs`, linked to the spans that made the
   * writes it carries). Default: `createJobTracer()`.
   */
  tracer?: JobTracer;
}
