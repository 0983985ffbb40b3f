import { vitestApi } from '../../utils/vitest-api.js';
import { BatchingStorage } from '../../../lib/batch/batching.storage.js';
import { CachingStorage } from '../../../lib/cache/caching.storage.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import type { JobStorage } from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { describeStorageConformance } from '../../../lib/testing/index.js';
import { PerRecordStorage } from '../batch/counting-storage.js';

/** The module's defaults: 100 jobs, 5 minutes, a sweep every minute. */
const cached = (inner: JobStorage, capacity = 100): CachingStorage =>
  new CachingStorage(inner, {
    capacity,
    ttl: 5 * 60_000,
    cleanupInterval: 60_000,
    logger: new NopLogger(),
  });

describeStorageConformance(vitestApi, 'CachingStorage(MemoryStorage)', () =>
  cached(new MemoryStorage()),
);

// A one-job cache: evictions all the time, most reads are misses.
describeStorageConformance(vitestApi, 'CachingStorage(MemoryStorage), capacity 1', () =>
  cached(new MemoryStorage(), 1),
);

// The order the scheduler wires them: the cache outside the write-behind buffer.
describeStorageConformance(vitestApi, 'CachingStorage(BatchingStorage(MemoryStorage))', () =>
  cached(
    new BatchingStorage(new MemoryStorage(), {
      batchSize: 2,
      flushInterval: 1,
      logger: new NopLogger(),
    }),
  ),
);

// An inner storage without BatchStorage: the cache is not one either.
describeStorageConformance(
  vitestApi,
  'CachingStorage(per-record storage)',
  () => cached(new PerRecordStorage()),
  undefined,
  {
    batch: false,
  },
);
