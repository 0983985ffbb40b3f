import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it, vi, type Mock } from 'vitest';
import { BatchingStorage } from '../../../lib/batch/batching.storage.js';
import { CachingStorage } from '../../../lib/cache/caching.storage.js';
import type { CachingStorageOptions } from '../../../lib/cache/caching-storage-options.interface.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import { StorageClosedError } from '../../../lib/errors/storage-closed.error.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import {
  isBatchStorage,
  isPrunableStorage,
  type JobStorage,
} from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';
import { PerRecordStorage } from '../batch/counting-storage.js';
import { GatedReadStorage } from './gated-storage.js';

interface TestLogger {
  log: Mock<(message: string) => void>;
  warn: Mock<(message: string) => void>;
  error: Mock<(message: string) => void>;
}

const TTL = 5 * 60_000;
const CLEANUP = 60_000;

/** Lets pending promise callbacks run (no timers move). */
async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** What `promise` rejected with; fails the test when it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

describe('CachingStorage', () => {
  let storages: JobStorage[] = [];

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    for (const storage of storages) await storage.close().catch(() => {});
    storages = [];
  });

  /** A cache over `inner` (a `GatedReadStorage` unless given) with a spy logger, closed after the test. */
  function make<T extends JobStorage = GatedReadStorage>(
    options: Partial<CachingStorageOptions> = {},
    inner: T = new GatedReadStorage() as unknown as T,
  ): { inner: T; storage: CachingStorage; logger: TestLogger } {
    const logger: TestLogger = { log: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const storage = new CachingStorage(inner, {
      capacity: 100,
      ttl: TTL,
      cleanupInterval: CLEANUP,
      logger,
      ...options,
    });
    storages.push(storage);
    return { inner, storage, logger };
  }

  /** A job stored in the inner memory storage directly (the cache has not seen it). */
  async function seed(inner: GatedReadStorage, overrides: Partial<Job> = {}): Promise<Job> {
    const job = makeJob(overrides);
    await inner.memory.createJob(job);
    return job;
  }

  describe('construction', () => {
    it('is a BatchStorage and a PrunableStorage exactly when the inner storage is', () => {
      const overMemory = make({}, new MemoryStorage()).storage;
      expect(isBatchStorage(overMemory)).toBe(true);
      expect(isPrunableStorage(overMemory)).toBe(true);

      const overPerRecord = make({}, new PerRecordStorage()).storage;
      expect(isBatchStorage(overPerRecord)).toBe(false);
      expect(isPrunableStorage(overPerRecord)).toBe(false);
      expect('batchUpdateJobs' in overPerRecord).toBe(false);
      expect('pruneRuns' in overPerRecord).toBe(false);

      const batching = new BatchingStorage(new MemoryStorage(), {
        batchSize: 10,
        flushInterval: 1_000,
        logger: new NopLogger(),
      });
      const overBatching = make({}, batching).storage;
      expect(isBatchStorage(overBatching)).toBe(true);
      expect(isPrunableStorage(overBatching)).toBe(false);
    });

    it('exposes the inner storage', () => {
      const inner = new MemoryStorage();
      expect(make({}, inner).storage.inner).toBe(inner);
    });

    it.each([
      ['capacity', { capacity: 0 }, 'an integer of at least 1'],
      ['capacity', { capacity: 2.5 }, 'an integer of at least 1'],
      ['capacity', { capacity: '100' }, 'an integer of at least 1'],
      ['ttl', { ttl: 0 }, 'a number of milliseconds greater than 0'],
      ['ttl', { ttl: Number.NaN }, 'a number of milliseconds greater than 0'],
      ['ttl', { ttl: Number.POSITIVE_INFINITY }, 'a number of milliseconds greater than 0'],
      ['cleanupInterval', { cleanupInterval: -1 }, 'a number of milliseconds greater than 0'],
      ['logger', { logger: {} }, 'a logger with log, warn and error methods'],
      ['now', { now: 5 }, 'a function returning milliseconds'],
    ])('rejects a bad %s with InvalidOptionsError naming it', (option, bad, expected) => {
      const create = (): CachingStorage =>
        new CachingStorage(new MemoryStorage(), {
          capacity: 10,
          ttl: 1_000,
          cleanupInterval: 1_000,
          logger: new NopLogger(),
          ...(bad as Partial<CachingStorageOptions>),
        });
      expect(create).toThrow(InvalidOptionsError);
      expect(create).toThrow(`Invalid option "${option}"`);
      expect(create).toThrow(expected);
    });

    it('rejects a missing inner storage', () => {
      expect(
        () =>
          new CachingStorage(null as never, {
            capacity: 1,
            ttl: 1,
            cleanupInterval: 1,
            logger: new NopLogger(),
          }),
      ).toThrow('Invalid option "inner"');
    });

    it('holds no timer until a job is cached', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make();
      expect(vi.getTimerCount()).toBe(0);
      const job = await seed(inner);
      expect(await storage.getJob('missing')).toBeNull();
      expect(vi.getTimerCount()).toBe(0);
      await storage.getJob(job.id);
      expect(vi.getTimerCount()).toBe(1);
    });
  });

  describe('reads', () => {
    it('serves a cached job without reading the inner storage, counting hits and misses', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(1);
      for (let i = 0; i < 5; i++) expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(1);
      expect(storage.metrics()).toStrictEqual({ hits: 5, misses: 1, evictions: 0, size: 1 });
    });

    it('makes exactly one inner read for 100 concurrent misses of one id', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const results = await Promise.all(Array.from({ length: 100 }, () => storage.getJob(job.id)));
      expect(inner.calls.getJob).toBe(1);
      for (const result of results) expect(result).toStrictEqual(job);
      // Every caller has a copy of its own.
      expect(new Set(results).size).toBe(100);
      expect(storage.metrics()).toMatchObject({ hits: 0, misses: 100, size: 1 });
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(1);
      expect(storage.metrics()).toMatchObject({ hits: 1, misses: 100 });
    });

    it('shares one read per id, not across ids', async () => {
      const { inner, storage } = make();
      const a = await seed(inner);
      const b = await seed(inner);
      const release = inner.holdReads();
      const reads = [a, b, a, b, a].map((job) => storage.getJob(job.id));
      expect(inner.calls.getJob).toBe(2);
      release();
      expect((await Promise.all(reads)).map((job) => job?.id)).toStrictEqual([
        a.id,
        b.id,
        a.id,
        b.id,
        a.id,
      ]);
    });

    it("reads the inner storage within the caller's call and async context", async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const context = new AsyncLocalStorage<string>();
      const seen: Array<string | undefined> = [];
      const read = inner.getJob.bind(inner);
      vi.spyOn(inner, 'getJob').mockImplementation((id) => {
        seen.push(context.getStore());
        return read(id);
      });
      const pending = context.run('caller', () => storage.getJob(job.id));
      // Already called, synchronously: not deferred to a timer or another context.
      expect(seen).toStrictEqual(['caller']);
      expect(await pending).toStrictEqual(job);
      await context.run('other', () => storage.getJob(job.id));
      expect(seen).toStrictEqual(['caller']);
    });

    it('does not cache a failed read: every waiting caller gets the error, the next call reads again', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const failure = new Error('connection reset');
      inner.readFailure = failure;
      const reads = Array.from({ length: 10 }, () => storage.getJob(job.id));
      for (const read of reads) expect(await rejectionOf(read)).toBe(failure);
      expect(inner.calls.getJob).toBe(1);
      expect(storage.metrics().size).toBe(0);

      inner.readFailure = null;
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(2);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(2);
    });

    it('turns an inner read that throws synchronously into a rejection, not cached', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const failure = new Error('sync failure');
      const spy = vi.spyOn(inner, 'getJob').mockImplementationOnce(() => {
        throw failure;
      });
      expect(await rejectionOf(storage.getJob(job.id))).toBe(failure);
      spy.mockRestore();
      expect(await storage.getJob(job.id)).toStrictEqual(job);
    });

    it('does not cache null: a job stored afterwards, even behind its back, is seen at once', async () => {
      const { inner, storage } = make();
      expect(await storage.getJob('later')).toBeNull();
      expect(await storage.getJob('later')).toBeNull();
      expect(inner.calls.getJob).toBe(2);
      const job = await seed(inner, { id: 'later' });
      expect(await storage.getJob('later')).toStrictEqual(job);
    });

    it('passes listJobs through without filling the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      expect(await storage.listJobs()).toStrictEqual([job]);
      expect(await storage.listJobs('paused')).toStrictEqual([]);
      expect(inner.calls.listJobs).toBe(2);
      expect(storage.metrics().size).toBe(0);
    });
  });

  describe('copies', () => {
    it('returns a new copy on every hit; mutating one changes nothing cached', async () => {
      const { inner, storage } = make();
      const job = await seed(inner, { payload: { nested: { list: [1] } } });
      const first = (await storage.getJob(job.id))!;
      first.name = 'mutated';
      first.createdAt.setTime(0);
      first.nextRunAt?.setTime(0);
      (first.payload as { nested: { list: number[] } }).nested.list.push(2);
      const second = (await storage.getJob(job.id))!;
      expect(second).toStrictEqual(job);
      expect(second).not.toBe(first);
      expect(second.createdAt).not.toBe(first.createdAt);
      expect(inner.calls.getJob).toBe(1);
    });

    it('is not changed by mutating a job after writing it', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const update: Job = { ...job, version: 1, payload: { list: [1] }, updatedAt: new Date(1) };
      await storage.updateJob(update);
      const expected = structuredClone(update);
      update.version = 99;
      update.updatedAt.setTime(2);
      (update.payload as { list: number[] }).list.push(2);
      expect(await storage.getJob(job.id)).toStrictEqual(expected);
    });

    it('shares a frozen payload and clones any other', async () => {
      const { inner, storage } = make();
      const frozen = Object.freeze({ a: 1 });
      const a = await seed(inner, { payload: frozen });
      const b = await seed(inner, { payload: { a: 1 } });
      await storage.updateJob({ ...a, version: 1 });
      expect((await storage.getJob(a.id))?.payload).toBe(frozen);
      const first = await storage.getJob(b.id);
      const second = await storage.getJob(b.id);
      expect(second?.payload).toStrictEqual({ a: 1 });
      expect(second?.payload).not.toBe(first?.payload);
    });
  });

  describe('writes', () => {
    it('updateJob: the next read returns the written job, from the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const updated: Job = { ...job, version: 1, lastResult: 'ok', lastRunAt: new Date(5_000) };
      await storage.updateJob(updated);
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
      expect(inner.calls.getJob).toBe(1);
      expect(await inner.memory.getJob(job.id)).toStrictEqual(updated);
    });

    it('updateJob of a job not cached yet caches it', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const updated: Job = { ...job, version: 1 };
      await storage.updateJob(updated);
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
      expect(inner.calls.getJob).toBe(0);
    });

    it('pausing and resuming (status changes through updateJob) are read back at once', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      await storage.updateJob({ ...job, status: 'paused', version: 1 });
      expect((await storage.getJob(job.id))?.status).toBe('paused');
      await storage.updateJob({ ...job, status: 'pending', version: 2 });
      expect((await storage.getJob(job.id))?.status).toBe('pending');
    });

    it('a failed updateJob drops the job: the next read asks the inner storage', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const failure = new Error('write failed');
      inner.failure = failure;
      expect(await rejectionOf(storage.updateJob({ ...job, version: 1 }))).toBe(failure);
      inner.failure = null;
      expect(storage.metrics().size).toBe(0);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(2);
    });

    it('updateJob of an unknown job rejects and caches nothing', async () => {
      const { storage } = make();
      const ghost = makeJob();
      expect(await rejectionOf(storage.updateJob(ghost))).toBeInstanceOf(JobNotFoundError);
      expect(await storage.getJob(ghost.id)).toBeNull();
    });

    it('deleteJob: the next read returns null', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      await storage.deleteJob(job.id);
      expect(await storage.getJob(job.id)).toBeNull();
      expect(storage.metrics().size).toBe(0);
    });

    it('a failed deleteJob drops the job too', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const failure = new Error('delete failed');
      vi.spyOn(inner, 'deleteJob').mockRejectedValueOnce(failure);
      expect(await rejectionOf(storage.deleteJob(job.id))).toBe(failure);
      expect(storage.metrics().size).toBe(0);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(2);
    });

    it('createJob after a null read: the job is read back, from the cache', async () => {
      const { inner, storage } = make();
      const job = makeJob();
      expect(await storage.getJob(job.id)).toBeNull();
      await storage.createJob(job);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(1);
    });

    it('a createJob that fails caches nothing', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const duplicate: Job = { ...job, name: 'duplicate' };
      await expect(storage.createJob(duplicate)).rejects.toThrow(job.id);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
    });

    it('batchUpdateJobs: refreshes cached jobs, reads the others back, skips unknown ones', async () => {
      const { inner, storage } = make();
      const cached = await seed(inner);
      const uncached = await seed(inner);
      await storage.getJob(cached.id);
      const ghost = makeJob();
      const newCached: Job = { ...cached, status: 'running', version: 1 };
      const newUncached: Job = { ...uncached, lastResult: 'done', version: 1 };
      await storage.batchUpdateJobs!([newCached, ghost, newUncached]);
      expect(inner.calls.batchUpdateJobs).toBe(1);
      const reads = inner.calls.getJob;
      expect(await storage.getJob(cached.id)).toStrictEqual(newCached);
      expect(inner.calls.getJob).toBe(reads);
      expect(await storage.getJob(uncached.id)).toStrictEqual(newUncached);
      expect(await storage.getJob(ghost.id)).toBeNull();
    });

    it('a failed batchUpdateJobs drops every job it named', async () => {
      const { inner, storage } = make();
      const a = await seed(inner);
      const b = await seed(inner);
      await storage.getJob(a.id);
      await storage.getJob(b.id);
      const failure = new Error('batch failed');
      inner.failure = failure;
      expect(
        await rejectionOf(
          storage.batchUpdateJobs!([
            { ...a, version: 1 },
            { ...b, version: 1 },
          ]),
        ),
      ).toBe(failure);
      expect(storage.metrics().size).toBe(0);
    });
  });

  describe('races', () => {
    it('a write racing an in-flight miss wins: the older read never fills the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const release = inner.holdReads();
      // The miss reads the old job now, and is held before it returns.
      const miss = storage.getJob(job.id);
      const updated: Job = { ...job, version: 1, status: 'paused' };
      await storage.updateJob(updated);
      release();
      // The miss overlapped the write: it may return the older job, but must not cache it.
      expect(await miss).toStrictEqual(job);
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
      await ticks();
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
    });

    it('a miss after a write started does not join the read that began before it', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const release = inner.holdReads();
      const before = storage.getJob(job.id);
      const releaseWrite = inner.hold();
      const updated: Job = { ...job, version: 1 };
      const write = storage.updateJob(updated);
      const during = storage.getJob(job.id);
      expect(inner.calls.getJob).toBe(2);
      releaseWrite();
      await write;
      release();
      await Promise.all([before, during]);
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
    });

    it('a miss that starts during a write and ends after it does not fill the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const releaseWrite = inner.hold();
      const updated: Job = { ...job, version: 1 };
      const write = storage.updateJob(updated);
      const releaseRead = inner.holdReads();
      // Reads the stored job, which the held write has not changed yet.
      const miss = storage.getJob(job.id);
      releaseWrite();
      await write;
      releaseRead();
      expect(await miss).toStrictEqual(job);
      expect(await storage.getJob(job.id)).toStrictEqual(updated);
    });

    it('a miss that ends while a write is under way does not fill the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const releaseWrite = inner.hold();
      const write = storage.updateJob({ ...job, version: 1 });
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(storage.metrics().size).toBe(0);
      releaseWrite();
      await write;
      expect((await storage.getJob(job.id))?.version).toBe(1);
    });

    it('overlapping writes of one id leave it uncached; the next read returns the last one', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const releaseWrite = inner.hold();
      const first = storage.updateJob({ ...job, version: 1 });
      const second = storage.updateJob({ ...job, version: 2 });
      releaseWrite();
      await Promise.all([first, second]);
      expect(storage.metrics().size).toBe(0);
      expect((await storage.getJob(job.id))?.version).toBe(2);
    });

    it('a delete racing an in-flight miss: the miss does not bring the job back', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const release = inner.holdReads();
      const miss = storage.getJob(job.id);
      await storage.deleteJob(job.id);
      release();
      expect(await miss).toStrictEqual(job);
      expect(await storage.getJob(job.id)).toBeNull();
    });

    it('invalidate(id) during a miss keeps its result out of the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const release = inner.holdReads();
      const miss = storage.getJob(job.id);
      storage.invalidate(job.id);
      release();
      await miss;
      expect(storage.metrics().size).toBe(0);
    });

    it('invalidate() drops every job; invalidate(id) one', async () => {
      const { inner, storage } = make();
      const a = await seed(inner);
      const b = await seed(inner);
      await storage.getJob(a.id);
      await storage.getJob(b.id);
      storage.invalidate(a.id);
      expect(storage.metrics().size).toBe(1);
      await storage.getJob(b.id);
      expect(inner.calls.getJob).toBe(2);
      storage.invalidate();
      expect(storage.metrics().size).toBe(0);
      await storage.getJob(b.id);
      expect(inner.calls.getJob).toBe(3);
    });
  });

  describe('expiry and capacity', () => {
    it('serves a job for ttl ms, then reads it again (and sees changes made elsewhere)', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make({ ttl: 1_000, now: () => Date.now() });
      const job = await seed(inner);
      await storage.getJob(job.id);
      const changedElsewhere: Job = { ...job, version: 7 };
      await inner.memory.updateJob(changedElsewhere);
      vi.advanceTimersByTime(1_000);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(1);
      vi.advanceTimersByTime(1);
      expect(await storage.getJob(job.id)).toStrictEqual(changedElsewhere);
      expect(inner.calls.getJob).toBe(2);
      expect(storage.metrics()).toMatchObject({ hits: 1, misses: 2, evictions: 0 });
    });

    it('measures the ttl from the latest write, and a read does not extend it', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make({ ttl: 1_000, now: () => Date.now() });
      const job = await seed(inner);
      await storage.getJob(job.id);
      vi.advanceTimersByTime(600);
      await storage.getJob(job.id);
      vi.advanceTimersByTime(401);
      await storage.getJob(job.id);
      expect(inner.calls.getJob).toBe(2);
      vi.advanceTimersByTime(600);
      await storage.updateJob({ ...job, version: 1 });
      vi.advanceTimersByTime(600);
      expect((await storage.getJob(job.id))?.version).toBe(1);
      expect(inner.calls.getJob).toBe(2);
    });

    it('uses performance.now() by default, so fake timers move it too', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make({ ttl: 1_000 });
      const job = await seed(inner);
      await storage.getJob(job.id);
      vi.advanceTimersByTime(1_001);
      await storage.getJob(job.id);
      expect(inner.calls.getJob).toBe(2);
    });

    it('works with a clock that starts at 0 and rounds a fractional ttl up', async () => {
      let clock = 0;
      const { inner, storage } = make({ ttl: 9.5, now: () => clock });
      const job = await seed(inner);
      await storage.getJob(job.id);
      clock = 10;
      await storage.getJob(job.id);
      expect(inner.calls.getJob).toBe(1);
      clock = 11;
      await storage.getJob(job.id);
      expect(inner.calls.getJob).toBe(2);
    });

    it('sweeps expired jobs every cleanupInterval', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make({
        ttl: 1_000,
        cleanupInterval: 5_000,
        now: () => Date.now(),
      });
      const a = await seed(inner);
      await storage.getJob(a.id);
      vi.advanceTimersByTime(4_500);
      const b = await seed(inner);
      await storage.getJob(b.id);
      expect(storage.metrics().size).toBe(2);
      // The sweep at 5 s removes a (expired at 1 s), not b (fresh until 5.5 s).
      vi.advanceTimersByTime(500);
      expect(storage.metrics().size).toBe(1);
      vi.advanceTimersByTime(5_000);
      expect(storage.metrics()).toMatchObject({ size: 0, evictions: 0 });
    });

    it('reports a failing sweep to the logger instead of throwing from the timer', async () => {
      vi.useFakeTimers();
      const { inner, storage, logger } = make({ cleanupInterval: 1_000 });
      const job = await seed(inner);
      await storage.getJob(job.id);
      const cache = (storage as unknown as { cache: { purgeStale(): boolean } }).cache;
      vi.spyOn(cache, 'purgeStale').mockImplementation(() => {
        throw new Error('boom');
      });
      vi.advanceTimersByTime(1_000);
      expect(logger.error).toHaveBeenCalledTimes(1);
      expect(logger.error.mock.calls[0][0]).toContain(
        'CachingStorage: sweeping expired jobs failed',
      );
      expect(logger.error.mock.calls[0][0]).toContain('boom');
    });

    it('unrefs its sweep timer', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      const timer = (storage as unknown as { timer: NodeJS.Timeout | null }).timer;
      expect(timer).not.toBeNull();
      expect(timer?.hasRef()).toBe(false);
    });

    it('evicts the least recently used job beyond capacity, counting evictions', async () => {
      const { inner, storage } = make({ capacity: 2 });
      const a = await seed(inner);
      const b = await seed(inner);
      const c = await seed(inner);
      await storage.getJob(a.id);
      await storage.getJob(b.id);
      await storage.getJob(a.id); // a is now the most recently used
      await storage.getJob(c.id); // evicts b
      expect(storage.metrics()).toStrictEqual({ hits: 1, misses: 3, evictions: 1, size: 2 });
      const reads = inner.calls.getJob;
      await storage.getJob(a.id);
      await storage.getJob(c.id);
      expect(inner.calls.getJob).toBe(reads);
      expect(await storage.getJob(b.id)).toStrictEqual(b);
      expect(inner.calls.getJob).toBe(reads + 1);
      expect(storage.metrics().evictions).toBe(2);
    });

    it('counts neither replacement, deletion nor invalidation as eviction', async () => {
      const { inner, storage } = make({ capacity: 2 });
      const job = await seed(inner);
      await storage.getJob(job.id);
      await storage.updateJob({ ...job, version: 1 });
      await storage.deleteJob(job.id);
      await storage.createJob(job);
      storage.invalidate();
      expect(storage.metrics().evictions).toBe(0);
    });
  });

  describe('pass-through', () => {
    it('passes run methods, ping and pruneRuns to the inner storage untouched', async () => {
      const inner = new MemoryStorage();
      const { storage } = make({}, inner);
      const job = makeJob();
      await storage.createJob(job);
      const run = makeRun(job.id, { status: 'success', endAt: new Date(1) });
      const spies = {
        createRun: vi.spyOn(inner, 'createRun'),
        updateRun: vi.spyOn(inner, 'updateRun'),
        getRuns: vi.spyOn(inner, 'getRuns'),
        getJobRunCount: vi.spyOn(inner, 'getJobRunCount'),
        batchUpdateRuns: vi.spyOn(inner, 'batchUpdateRuns'),
        pruneRuns: vi.spyOn(inner, 'pruneRuns'),
        ping: vi.spyOn(inner, 'ping'),
      };
      await storage.createRun(run);
      await storage.updateRun(run);
      await storage.batchUpdateRuns!([run]);
      expect(await storage.getRuns(job.id, 5)).toStrictEqual([run]);
      expect(await storage.getJobRunCount(job.id)).toBe(1);
      expect(await storage.pruneRuns!({ maxRunsPerJob: 0, limit: 10 })).toBe(1);
      await storage.ping();
      expect(spies.createRun).toHaveBeenCalledWith(run);
      expect(spies.updateRun).toHaveBeenCalledWith(run);
      expect(spies.batchUpdateRuns).toHaveBeenCalledWith([run]);
      expect(spies.getRuns).toHaveBeenCalledWith(job.id, 5);
      expect(spies.getJobRunCount).toHaveBeenCalledWith(job.id);
      expect(spies.pruneRuns).toHaveBeenCalledWith({ maxRunsPerJob: 0, limit: 10 });
      expect(spies.ping).toHaveBeenCalledTimes(1);
      expect(storage.metrics()).toMatchObject({ hits: 0, misses: 0 });
    });
  });

  describe('close', () => {
    it('stops the sweep, empties the cache and closes the inner storage, once', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      expect(vi.getTimerCount()).toBe(1);
      await storage.close();
      await storage.close();
      expect(vi.getTimerCount()).toBe(0);
      expect(storage.metrics().size).toBe(0);
      expect(inner.calls.close).toBe(1);
    });

    it('dispose() stops the sweep and empties the cache, leaving both storages usable', async () => {
      vi.useFakeTimers();
      const { inner, storage } = make();
      const job = await seed(inner);
      await storage.getJob(job.id);
      storage.dispose();
      storage.dispose();
      expect(vi.getTimerCount()).toBe(0);
      expect(storage.metrics().size).toBe(0);
      expect(inner.calls.close).toBe(0);
      expect(await storage.getJob(job.id)).toStrictEqual(job);
      expect(inner.calls.getJob).toBe(2);
      expect(vi.getTimerCount()).toBe(1);
    });

    it('rejects every call afterwards with StorageClosedError, a cached job included', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const run = makeRun(job.id);
      await storage.getJob(job.id);
      await storage.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['getJob', () => storage.getJob(job.id)],
        ['createJob', () => storage.createJob(makeJob())],
        ['updateJob', () => storage.updateJob(job)],
        ['deleteJob', () => storage.deleteJob(job.id)],
        ['listJobs', () => storage.listJobs()],
        ['createRun', () => storage.createRun(run)],
        ['updateRun', () => storage.updateRun(run)],
        ['getRuns', () => storage.getRuns(job.id, 1)],
        ['getJobRunCount', () => storage.getJobRunCount(job.id)],
        ['ping', () => storage.ping()],
        ['batchUpdateJobs', () => storage.batchUpdateJobs!([job])],
        ['batchUpdateRuns', () => storage.batchUpdateRuns!([run])],
      ];
      for (const [method, call] of calls) {
        const error = await rejectionOf(call());
        expect(error, method).toBeInstanceOf(StorageClosedError);
        expect((error as Error).message, method).toContain('CachingStorage is closed');
      }
      expect(inner.calls.getJob).toBe(1);
    });

    it('a read under way when closing does not fill the cache', async () => {
      const { inner, storage } = make();
      const job = await seed(inner);
      const release = inner.holdReads();
      const miss = storage.getJob(job.id);
      const closing = storage.close();
      release();
      await miss;
      await closing;
      expect(storage.metrics().size).toBe(0);
    });

    it("rejects as the inner storage's close does", async () => {
      const inner = new MemoryStorage();
      const failure = new Error('close failed');
      vi.spyOn(inner, 'close').mockRejectedValue(failure);
      const { storage } = make({}, inner);
      expect(await rejectionOf(storage.close())).toBe(failure);
    });
  });
});
