import type {
  BatchingStorageMetrics,
  CachingStorageMetrics,
} from '../interfaces/metrics.interface.js';
import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import type { JobStorage } from '../interfaces/job-storage.js';
import type { JobTracer } from '../interfaces/job-tracer.js';
import type { CoordinatorFactory } from './run-coordinator.js';
import type { StorageFaultLog } from './storage-fault-log.js';

/**
 * What the composition root (`lib/scheduler.ts`, the one place that reads the options and knows the
 * write buffer, the cache and the cluster code) hands the scheduler core: the storage as given, the
 * options, and the parts those options turned on. The core never imports those parts.
 */
export interface SchedulerParts {
  /** The storage given (or the default one). */
  readonly storage: JobStorage;
  readonly options: NormalizedSchedulerOptions;
  /** Wraps the storage (the write buffer, the cache) given the scheduler's shared services. */
  readonly wrap?: (services: SharedServices) => WrappedStorage;
  /** Cluster mode: the coordinator that claims fires and fences records with this instance's lease. */
  readonly cluster?: { readonly coordinator: CoordinatorFactory };
}

/** The scheduler's services that the storage wrappers share. */
export interface SharedServices {
  /** Where storage failures are reported, once per episode. */
  readonly faults: StorageFaultLog;
  readonly tracer: JobTracer;
}

/** The storage as the scheduler reads and writes it, and the wrappers it went through. */
export interface WrappedStorage {
  readonly store: JobStorage;
  readonly buffer?: WriteBuffer;
  readonly cache?: ReadCache;
}

/** The write buffer (`enableBatchUpdate`), as the scheduler uses it. */
export interface WriteBuffer {
  /** Writes what is buffered, retrying until it lands or `ms` have passed. */
  flushWithin(ms: number): Promise<'written' | 'failed' | 'hung'>;
  metrics(): BatchingStorageMetrics;
}

/** The job cache (`enableCache`), as the scheduler uses it. */
export interface ReadCache {
  /** Stops its sweep timer (the scheduler has stopped). */
  dispose(): void;
  metrics(): CachingStorageMetrics;
}
