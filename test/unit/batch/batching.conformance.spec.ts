import { vitestApi } from '../../utils/vitest-api.js';
import { BatchingStorage } from '../../../lib/batch/batching.storage.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { describeStorageConformance } from '../../../lib/testing/index.js';
import { PerRecordStorage } from './counting-storage.js';

// Everything stays buffered for the whole test: reads are answered from the buffer.
describeStorageConformance(
  vitestApi,
  'BatchingStorage(MemoryStorage)',
  () =>
    new BatchingStorage(new MemoryStorage(), {
      batchSize: 10_000,
      flushInterval: 60_000,
      logger: new NopLogger(),
    }),
);

// Small batches and a 1 ms interval: flushes run while the tests write and read.
describeStorageConformance(
  vitestApi,
  'BatchingStorage(MemoryStorage), flushing all the time',
  () =>
    new BatchingStorage(new MemoryStorage(), {
      batchSize: 2,
      flushInterval: 1,
      logger: new NopLogger(),
    }),
);

// An inner storage without BatchStorage: flushed one record at a time.
describeStorageConformance(
  vitestApi,
  'BatchingStorage(per-record storage)',
  () =>
    new BatchingStorage(new PerRecordStorage(), {
      batchSize: 3,
      flushInterval: 1,
      logger: new NopLogger(),
    }),
);
