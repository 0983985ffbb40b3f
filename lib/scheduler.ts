import { BatchingStorage } from './batch/batching.storage.js';
import { CachingStorage } from './cache/caching.storage.js';
import { ClusterCoordinator } from './cluster/cluster-coordinator.js';
import { normalizeSchedulerOptions } from './core/normalize-options.js';
import { SchedulerCore } from './core/scheduler.js';
import type { SchedulerParts, WrappedStorage } from './core/scheduler-parts.js';
import { InvalidOptionsError } from './errors/invalid-options.error.js';
import type { SchedulerOptions } from './interfaces/scheduler-options.interface.js';
import { StdLogger } from './loggers/std-logger.js';
import { isClusterStorage } from './interfaces/cluster-storage.js';
import type { JobStorage } from './interfaces/job-storage.js';
import { MemoryStorage } from './storage/memory/memory.storage.js';

/**
 * The scheduler: `new Scheduler(storage, options)`, over any `JobStorage` (a `MemoryStorage` when
 * none is given). This is the composition root: it reads the options, checks that they fit the
 * storage, and gives the core (`SchedulerCore`) the parts they turn on: the write buffer
 * (`enableBatchUpdate`), the job cache (`enableCache`) and the cluster coordinator (`cluster`).
 */
export class Scheduler extends SchedulerCore {
  constructor(storage?: JobStorage, options?: SchedulerOptions) {
    super(schedulerParts(storage ?? new MemoryStorage(), options));
  }
}

/** The parts of a scheduler over `storage` with `options`; `InvalidOptionsError` when they do not fit. */
export function schedulerParts(storage: JobStorage, options?: SchedulerOptions): SchedulerParts {
  const normalized = normalizeSchedulerOptions(options, () => new StdLogger());
  const cluster = normalized.cluster;
  if (cluster === null) {
    const { enableBatchUpdate, enableCache } = normalized;
    if (!enableBatchUpdate && !enableCache) return { storage, options: normalized };
    return {
      storage,
      options: normalized,
      wrap: ({ faults, tracer }): WrappedStorage => {
        const buffer = enableBatchUpdate
          ? new BatchingStorage(storage, {
              batchSize: normalized.batchSize,
              flushInterval: normalized.batchFlushInterval,
              logger: normalized.logger,
              tracer,
              faults,
            })
          : undefined;
        const written = buffer ?? storage;
        // The cache sits outside the batch buffer: a hit is one lookup, and a miss reads through
        // the buffer, so it sees pending writes.
        const cache = enableCache
          ? new CachingStorage(written, {
              capacity: normalized.cacheCapacity,
              ttl: normalized.cacheTTL,
              cleanupInterval: normalized.cacheCleanupInterval,
              logger: normalized.logger,
            })
          : undefined;
        return { store: cache ?? written, buffer, cache };
      },
    };
  }
  const reason = isClusterStorage(storage)
    ? storage.clusterUnsupportedReason()
    : `${storage.constructor.name} is single-instance (its jobs live in one process)`;
  if (reason !== null || !isClusterStorage(storage)) {
    throw new InvalidOptionsError(
      'cluster',
      options?.cluster,
      `a storage that several instances can share (TypeOrmStorage on PostgreSQL, MySQL or MariaDB), or cluster off: ${reason}`,
    );
  }
  for (const key of ['enableBatchUpdate', 'enableCache'] as const) {
    if (normalized[key]) {
      throw new InvalidOptionsError(
        key,
        true,
        `false in cluster mode: it batches its own writes (on PostgreSQL the claims, run records and ends of fires due together go in one statement each), each written before the run goes on, and jobs are read fresh, so that other instances see them`,
      );
    }
  }
  return {
    storage,
    options: normalized,
    cluster: {
      coordinator: (host) => new ClusterCoordinator(storage, { ...normalized, cluster }, host),
    },
  };
}
