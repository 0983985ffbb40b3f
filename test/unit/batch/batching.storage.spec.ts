import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { PARALLEL_WRITE_PARTS } from '../../../lib/batch/batch-buffer.js';
import { BatchingStorage } from '../../../lib/batch/batching.storage.js';
import type { BatchingStorageOptions } from '../../../lib/batch/batching-storage-options.interface.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import { StorageClosedError } from '../../../lib/errors/storage-closed.error.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { isBatchStorage, isPrunableStorage } from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';
import { CountingBatchStorage, PerRecordStorage } from './counting-storage.js';

interface TestLogger {
  log: Mock<(message: string) => void>;
  warn: Mock<(message: string) => void>;
  error: Mock<(message: string) => void>;
}

/** A wrapper over `inner` with a spy logger; `batchSize` 10 and `flushInterval` 1 s unless given. */
function setup<T extends PerRecordStorage = CountingBatchStorage>(
  options: Partial<BatchingStorageOptions> = {},
  inner: T = new CountingBatchStorage() as unknown as T,
): { inner: T; storage: BatchingStorage; logger: TestLogger } {
  const logger: TestLogger = { log: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const storage = new BatchingStorage(inner, {
    batchSize: 10,
    flushInterval: 1_000,
    logger,
    ...options,
  });
  return { inner, storage, logger };
}

/** Lets pending promise callbacks run (no timers move). */
async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

/** Creates jobs through the wrapper (so it knows they exist); returns them. */
async function addJobs(storage: BatchingStorage, count: number, prefix = 'job'): Promise<Job[]> {
  const jobs: Job[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = new Date(Date.UTC(2030, 0, 1, 0, 0, i));
    const job = makeJob({ id: `${prefix}-${i}`, createdAt, updatedAt: createdAt });
    await storage.createJob(job);
    jobs.push(job);
  }
  return jobs;
}

/** Whether a promise has settled by now (after letting callbacks run). */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await ticks();
  return settled;
}

const at = (second: number): Date => new Date(Date.UTC(2030, 0, 2, 0, 0, second));

describe('BatchingStorage', () => {
  let storages: BatchingStorage[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    storages = [];
  });

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    for (const storage of storages) {
      storage.close().catch(() => {});
    }
  });

  /** `setup`, closed after the test. */
  function make<T extends PerRecordStorage = CountingBatchStorage>(
    options: Partial<BatchingStorageOptions> = {},
    inner?: T,
  ): { inner: T; storage: BatchingStorage; logger: TestLogger } {
    const made = setup<T>(options, inner);
    storages.push(made.storage);
    return made;
  }

  describe('construction', () => {
    it('is a JobStorage and a BatchStorage, over a batch or a per-record storage', () => {
      expect(isBatchStorage(make().storage)).toBe(true);
      expect(isBatchStorage(make({}, new PerRecordStorage()).storage)).toBe(true);
    });

    it('exposes the inner storage and does not claim PrunableStorage itself', () => {
      const inner = new MemoryStorage();
      const { storage } = make({}, inner as unknown as PerRecordStorage);
      expect(storage.inner).toBe(inner);
      expect(isPrunableStorage(storage)).toBe(false);
    });

    it.each([
      ['batchSize', { batchSize: 0 }, 'an integer of at least 1'],
      ['batchSize', { batchSize: 2.5 }, 'an integer of at least 1'],
      ['flushInterval', { flushInterval: 0 }, 'a number of milliseconds from 1'],
      ['flushInterval', { flushInterval: Number.NaN }, 'a number of milliseconds from 1'],
      ['maxPending', { batchSize: 10, maxPending: 9 }, 'an integer of at least 10'],
      ['closeTimeout', { closeTimeout: -1 }, 'a number of milliseconds from 0'],
      ['retryBaseDelay', { retryBaseDelay: 0 }, 'a number of milliseconds from 1'],
      ['retryMaxDelay', { retryBaseDelay: 500, retryMaxDelay: 100 }, 'from 500'],
      ['logger', { logger: {} }, 'a logger with log, warn and error methods'],
      ['now', { now: 5 }, 'a function returning epoch milliseconds'],
    ])('rejects a bad %s with InvalidOptionsError naming it', (option, bad, expected) => {
      const create = (): BatchingStorage =>
        new BatchingStorage(new MemoryStorage(), {
          batchSize: 10,
          flushInterval: 1_000,
          logger: { log() {}, warn() {}, error() {} },
          ...(bad as Partial<BatchingStorageOptions>),
        });
      expect(create).toThrow(InvalidOptionsError);
      expect(create).toThrow(`Invalid option "${option}"`);
      expect(create).toThrow(expected);
    });

    it('rejects a missing inner storage', () => {
      expect(
        () =>
          new BatchingStorage(null as never, {
            batchSize: 1,
            flushInterval: 1,
            logger: { log() {}, warn() {}, error() {} },
          }),
      ).toThrow('Invalid option "inner"');
    });
  });

  describe('flushing', () => {
    it('flushes as soon as batchSize records are pending', async () => {
      const { inner, storage } = make({ batchSize: 3 });
      const [a, b] = await addJobs(storage, 2);
      await storage.updateJob({ ...a, version: 1 });
      await storage.createRun(makeRun(a.id, { id: 'run-1' }));
      await ticks();
      expect(inner.calls.batchUpdateJobs + inner.calls.batchUpdateRuns).toBe(0);
      await storage.updateJob({ ...b, version: 1 });
      await ticks();
      expect(inner.calls.batchUpdateRuns).toBe(1);
      expect(inner.calls.batchUpdateJobs).toBe(1);
      expect(inner.records('batchUpdateJobs')).toBe(2);
      expect(inner.records('batchUpdateRuns')).toBe(1);
      expect(inner.log.slice(-2)).toStrictEqual(['batchUpdateRuns', 'batchUpdateJobs']);
      expect((await inner.memory.getJob(b.id))?.version).toBe(1);
    });

    it('writes a large flush in parts at once, each job in one part with its runs in order', async () => {
      const { inner, storage } = setup({ batchSize: 10_000 });
      const jobs = await addJobs(storage, 300);
      const release = inner.hold();
      for (const job of jobs) {
        await storage.updateJob({ ...job, version: 1 });
        for (let k = 0; k < 8; k++) {
          await storage.createRun(makeRun(job.id, { id: `${job.id}-run-${k}` }));
        }
      }
      const flushed = storage.flush();
      await ticks();
      // Both parts of the runs are out together (held), and no job write before they are written.
      const runWrites = inner.writes.filter((w) => w.method === 'batchUpdateRuns');
      expect(runWrites).toHaveLength(PARALLEL_WRITE_PARTS);
      expect(inner.calls.batchUpdateJobs).toBe(0);
      for (const write of runWrites) expect(write.records.length).toBeGreaterThan(500);
      // Each job's runs are in one part, in the order they were written.
      for (const job of jobs) {
        const parts = runWrites
          .map((w) => (w.records as Run[]).filter((r) => r.jobId === job.id).map((r) => r.id))
          .filter((ids) => ids.length > 0);
        expect(parts).toStrictEqual([Array.from({ length: 8 }, (_, k) => `${job.id}-run-${k}`)]);
      }
      release();
      await flushed;
      expect(inner.records('batchUpdateRuns')).toBe(2_400);
      expect(inner.records('batchUpdateJobs')).toBe(300);
      expect(inner.calls.batchUpdateJobs).toBe(1); // 300 jobs: under PARALLEL_WRITE_FROM, one call
      expect(await inner.memory.getRuns(jobs[7]!.id, 10)).toHaveLength(8);
    });

    it('keeps every record of a large flush when one of its parts fails, and writes them all again', async () => {
      const { inner, storage } = setup({ batchSize: 10_000, retryBaseDelay: 1, retryMaxDelay: 1 });
      const jobs = await addJobs(storage, 300);
      for (const job of jobs) {
        for (let k = 0; k < 8; k++) {
          await storage.createRun(makeRun(job.id, { id: `${job.id}-run-${k}` }));
        }
      }
      // The second call of the flush fails; the first lands.
      const batchUpdateRuns = inner.batchUpdateRuns.bind(inner);
      let calls = 0;
      inner.batchUpdateRuns = (runs: Run[]) =>
        ++calls === 2 ? Promise.reject(new Error('part lost')) : batchUpdateRuns(runs);
      await expect(storage.flush()).rejects.toThrow('part lost');
      expect(storage.metrics().pendingRuns).toBe(2_400);
      await storage.flush();
      expect(storage.metrics().pendingRuns).toBe(0);
      for (const job of jobs) expect(await inner.memory.getRuns(job.id, 10)).toHaveLength(8);
    });

    it('flushes every flushInterval while something is pending, with no timer otherwise', async () => {
      const { inner, storage } = make({ flushInterval: 1_000 });
      const [job] = await addJobs(storage, 1);
      expect(vi.getTimerCount()).toBe(0);
      await storage.updateJob({ ...job, version: 1 });
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(999);
      expect(inner.calls.batchUpdateJobs).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(inner.calls.batchUpdateJobs).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(inner.calls.batchUpdateJobs).toBe(1);

      await storage.updateJob({ ...job, version: 2 });
      await vi.advanceTimersByTimeAsync(1_000);
      expect(inner.calls.batchUpdateJobs).toBe(2);
      expect((await inner.memory.getJob(job.id))?.version).toBe(2);
    });

    it('unrefs its timer, so a pending flush does not keep the process alive', async () => {
      vi.useRealTimers();
      const { storage } = make({ flushInterval: 60_000 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob(job);
      // Internal: the buffer's one timer.
      const { buffer } = storage as unknown as { buffer: { timer: NodeJS.Timeout | null } };
      const timer = buffer.timer;
      expect(timer?.hasRef()).toBe(false);
      await storage.close();
    });

    it('collapses repeated writes of one id into one write of the latest', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      for (let version = 1; version <= 50; version++) await storage.updateJob({ ...job, version });
      const run = makeRun(job.id, { id: 'run-1' });
      await storage.createRun(run);
      await storage.updateRun({ ...run, status: 'success', endAt: at(5), duration: 5 });
      expect(storage.metrics()).toMatchObject({ pendingJobs: 1, pendingRuns: 1 });
      await storage.flush();
      expect(inner.records('batchUpdateJobs')).toBe(1);
      expect(inner.records('batchUpdateRuns')).toBe(1);
      expect((await inner.memory.getJob(job.id))?.version).toBe(50);
      expect(await inner.memory.getRuns(job.id, 10)).toStrictEqual([
        { ...run, status: 'success', endAt: at(5), duration: 5 },
      ]);
    });

    it('writes one record at a time when the inner storage is no BatchStorage', async () => {
      const { inner, storage } = make({ batchSize: 100 }, new PerRecordStorage());
      const [a, b] = await addJobs(storage, 2);
      await storage.updateJob({ ...a, version: 1 });
      await storage.updateJob({ ...b, version: 1 });
      await storage.createRun(makeRun(a.id, { id: 'run-a' }));
      await storage.createRun(makeRun(b.id, { id: 'run-b' }));
      await storage.flush();
      expect(inner.calls).toMatchObject({ updateJob: 2, updateRun: 2, createRun: 0 });
      expect(inner.log.filter((m) => m.startsWith('update'))).toStrictEqual([
        'updateRun',
        'updateRun',
        'updateJob',
        'updateJob',
      ]);
      expect(await inner.memory.getJobRunCount(a.id)).toBe(1);
      expect((await inner.memory.getJob(b.id))?.version).toBe(1);
    });

    it('uses the batch methods, not per-record writes, when the inner storage has them', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [a, b] = await addJobs(storage, 2);
      await storage.updateJob({ ...a, version: 1 });
      await storage.updateJob({ ...b, version: 1 });
      await storage.createRun(makeRun(a.id));
      await storage.flush();
      expect(inner.calls).toMatchObject({
        batchUpdateJobs: 1,
        batchUpdateRuns: 1,
        updateJob: 0,
        updateRun: 0,
        createRun: 0,
      });
    });

    it('skips a job deleted behind its back on the per-record path, writing the others', async () => {
      const { inner, storage, logger } = make({ batchSize: 100 }, new PerRecordStorage());
      const [gone, kept] = await addJobs(storage, 2);
      await storage.updateJob({ ...gone, version: 1 });
      await storage.updateJob({ ...kept, version: 1 });
      await inner.memory.deleteJob(gone.id); // another process deleted it
      await expect(storage.flush()).resolves.toBeUndefined();
      expect((await inner.memory.getJob(kept.id))?.version).toBe(1);
      expect(storage.metrics()).toMatchObject({ flushFailures: 0, pendingJobs: 0 });
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it('runs one flush at a time; writes meanwhile go to the next one, started when it ends', async () => {
      const { inner, storage } = make({ batchSize: 2 });
      const jobs = await addJobs(storage, 4);
      const release = inner.hold();
      await storage.updateJob({ ...jobs[0], version: 1 });
      await storage.updateJob({ ...jobs[1], version: 1 });
      await ticks();
      expect(inner.calls.batchUpdateJobs).toBe(1);
      await storage.updateJob({ ...jobs[2], version: 1 });
      await storage.updateJob({ ...jobs[3], version: 1 });
      await ticks();
      expect(inner.calls.batchUpdateJobs).toBe(1);
      expect(storage.metrics()).toMatchObject({ pendingJobs: 4 });
      // Records of the flush under way are still read from the wrapper.
      expect((await storage.getJob(jobs[0].id))?.version).toBe(1);
      expect((await storage.listJobs()).map((job) => job.version)).toStrictEqual([1, 1, 1, 1]);
      release();
      await ticks();
      expect(inner.calls.batchUpdateJobs).toBe(2);
      expect(inner.writes.map((w) => w.records.map((r) => r.id))).toStrictEqual([
        [jobs[0].id, jobs[1].id],
        [jobs[2].id, jobs[3].id],
      ]);
      expect(storage.metrics()).toMatchObject({ flushes: 2, flushedJobs: 4, pendingJobs: 0 });
    });

    it('resolves flush() once everything pending at call time is written, waiting for a flush under way', async () => {
      const { inner, storage } = make({ batchSize: 2 });
      const jobs = await addJobs(storage, 3);
      const release = inner.hold();
      await storage.updateJob({ ...jobs[0], version: 1 });
      await storage.updateJob({ ...jobs[1], version: 1 });
      await storage.updateJob({ ...jobs[2], version: 1 });
      const flushed = storage.flush();
      expect(await isSettled(flushed)).toBe(false);
      release();
      await flushed;
      for (const job of jobs) expect((await inner.memory.getJob(job.id))?.version).toBe(1);
      expect(storage.metrics()).toMatchObject({ pendingJobs: 0 });
    });

    it('resolves flush() at once when nothing is pending', async () => {
      const { inner, storage } = make();
      await storage.flush();
      expect(inner.calls.batchUpdateJobs + inner.calls.batchUpdateRuns).toBe(0);
    });
  });

  describe('failures', () => {
    it('keeps the records of a failed flush, retries with exponential backoff, then writes them all', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(1); // no jitter: the full delay
      const { inner, storage, logger } = make({
        batchSize: 10,
        flushInterval: 1_000,
        retryBaseDelay: 100,
        retryMaxDelay: 800,
      });
      const [job] = await addJobs(storage, 1);
      const run = makeRun(job.id, { id: 'run-1' });
      inner.failure = new Error('database is down');
      await storage.updateJob({ ...job, version: 1 });
      await storage.createRun(run);

      await vi.advanceTimersByTimeAsync(1_000);
      expect(inner.calls.batchUpdateRuns).toBe(1);
      expect(storage.metrics()).toMatchObject({ flushFailures: 1, pendingJobs: 1, pendingRuns: 1 });
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0][0]).toContain('database is down');
      expect(logger.warn.mock.calls[0][0]).toContain('retrying in 100 ms');

      // While backing off, reaching batchSize does not start a flush.
      const more = await addJobs(storage, 12, 'more');
      for (const other of more) await storage.updateJob({ ...other, version: 1 });
      await ticks();
      expect(inner.calls.batchUpdateRuns).toBe(1);

      // Retries at +100, +200, +400, +800, +800 (capped).
      for (const [delay, attempts] of [
        [100, 2],
        [200, 3],
        [400, 4],
        [800, 5],
        [800, 6],
      ] as const) {
        await vi.advanceTimersByTimeAsync(delay - 1);
        expect(inner.calls.batchUpdateRuns).toBe(attempts - 1);
        await vi.advanceTimersByTimeAsync(1);
        expect(inner.calls.batchUpdateRuns).toBe(attempts);
      }
      expect(storage.metrics()).toMatchObject({
        flushes: 0,
        flushFailures: 6,
        pendingJobs: 13,
        pendingRuns: 1,
      });
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.error).toHaveBeenCalledTimes(1); // at the 5th failure
      expect(logger.error.mock.calls[0][0]).toContain('attempt 5');

      inner.failure = null;
      await vi.advanceTimersByTimeAsync(800);
      expect(storage.metrics()).toStrictEqual({
        flushes: 1,
        flushedJobs: 13,
        flushedRuns: 1,
        flushFailures: 6,
        pendingJobs: 0,
        pendingRuns: 0,
      });
      expect((await inner.memory.getJob(job.id))?.version).toBe(1);
      for (const other of more) expect((await inner.memory.getJob(other.id))?.version).toBe(1);
      expect(await inner.memory.getRuns(job.id, 10)).toStrictEqual([run]);
      expect(logger.log).toHaveBeenCalledWith(expect.stringContaining('after 6 failed attempts'));
    });

    it('adds jitter: each retry comes between half and all of its delay', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0);
      const { inner, storage } = make({ flushInterval: 1_000, retryBaseDelay: 100 });
      const [job] = await addJobs(storage, 1);
      inner.failure = new Error('down');
      await storage.updateJob(job);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(inner.calls.batchUpdateJobs).toBe(1);
      await vi.advanceTimersByTimeAsync(49);
      expect(inner.calls.batchUpdateJobs).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(inner.calls.batchUpdateJobs).toBe(2);
    });

    it('rejects flush() with the storage error when its attempt fails, keeping the records', async () => {
      const { inner, storage } = make();
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 7 });
      const failure = new Error('connection refused');
      inner.failure = failure;
      await expect(storage.flush()).rejects.toBe(failure);
      expect(storage.metrics()).toMatchObject({ pendingJobs: 1, flushFailures: 1 });
      expect((await storage.getJob(job.id))?.version).toBe(7);
      inner.failure = null;
      await storage.flush();
      expect((await inner.memory.getJob(job.id))?.version).toBe(7);
    });

    it('keeps a write that arrives during a failing flush over the older copy put back', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      const run = makeRun(job.id, { id: 'run-1' });
      await storage.updateJob({ ...job, version: 1, status: 'running' });
      await storage.createRun(run);
      const release = inner.hold();
      inner.failure = new Error('deadlock');
      const failing = storage.flush();
      await ticks();
      expect(inner.calls.batchUpdateRuns).toBe(1);

      const finished: Run = { ...run, status: 'success', endAt: at(9), duration: 9 };
      await storage.updateJob({ ...job, version: 2, status: 'pending' });
      await storage.updateRun(finished);
      expect((await storage.getJob(job.id))?.version).toBe(2);
      expect(await storage.getRuns(job.id, 10)).toStrictEqual([finished]);

      release();
      await expect(failing).rejects.toThrow('deadlock');
      expect((await storage.getJob(job.id))?.version).toBe(2);
      expect(await storage.getRuns(job.id, 10)).toStrictEqual([finished]);
      expect(storage.metrics()).toMatchObject({ pendingJobs: 1, pendingRuns: 1 });
      expect(await storage.getJobRunCount(job.id)).toBe(1);

      inner.failure = null;
      await storage.flush();
      const stored = await inner.memory.getJob(job.id);
      expect(stored).toMatchObject({ version: 2, status: 'pending' });
      expect(await inner.memory.getRuns(job.id, 10)).toStrictEqual([finished]);
    });

    it('puts back only the unwritten records when a per-record flush fails midway', async () => {
      const inner = new PerRecordStorage();
      const { storage } = make({ batchSize: 100 }, inner);
      const [a, b] = await addJobs(storage, 2);
      await storage.createRun(makeRun(a.id, { id: 'run-a' }));
      await storage.updateJob({ ...a, version: 1 });
      await storage.updateJob({ ...b, version: 1 });
      // Fail the second job write only.
      const original = inner.updateJob.bind(inner);
      let jobWrites = 0;
      inner.updateJob = (job: Job) =>
        ++jobWrites === 2 ? Promise.reject(new Error('lost connection')) : original(job);
      await expect(storage.flush()).rejects.toThrow('lost connection');
      expect(storage.metrics()).toMatchObject({
        flushedRuns: 1,
        flushedJobs: 1,
        pendingJobs: 1,
        pendingRuns: 0,
      });
      expect(await storage.getJobRunCount(a.id)).toBe(1);
      await storage.flush();
      expect((await inner.memory.getJob(b.id))?.version).toBe(1);
      expect(await inner.memory.getJobRunCount(a.id)).toBe(1);
    });

    it('applies backpressure at maxPending: writes wait, then resolve once a flush made room', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const { inner, storage } = make({ batchSize: 2, maxPending: 4, retryBaseDelay: 100 });
      const jobs = await addJobs(storage, 5);
      inner.failure = new Error('down');
      await storage.updateJob({ ...jobs[0], version: 1 });
      await storage.updateJob({ ...jobs[1], version: 1 }); // starts a flush, which fails
      await ticks();
      expect(storage.metrics().flushFailures).toBe(1);
      await expect(storage.updateJob({ ...jobs[2], version: 1 })).resolves.toBeUndefined();
      const fourth = storage.updateJob({ ...jobs[3], version: 1 });
      const fifth = storage.createRun(makeRun(jobs[4].id));
      expect(await isSettled(fourth)).toBe(false);
      expect(await isSettled(fifth)).toBe(false);
      // A write replacing a pending record adds nothing: it does not wait.
      await expect(storage.updateJob({ ...jobs[0], version: 2 })).resolves.toBeUndefined();
      // Buffered all the same: reads see them.
      expect((await storage.getJob(jobs[3].id))?.version).toBe(1);

      await vi.advanceTimersByTimeAsync(100);
      expect(storage.metrics().flushFailures).toBe(2);
      expect(await isSettled(fourth)).toBe(false);

      inner.failure = null;
      await vi.advanceTimersByTimeAsync(200);
      await expect(fourth).resolves.toBeUndefined();
      await expect(fifth).resolves.toBeUndefined();
      expect(storage.metrics()).toMatchObject({ pendingJobs: 0, pendingRuns: 0 });
      expect((await inner.memory.getJob(jobs[0].id))?.version).toBe(2);
      expect((await inner.memory.getJob(jobs[3].id))?.version).toBe(1);
      expect(await inner.memory.getJobRunCount(jobs[4].id)).toBe(1);
    });
  });

  describe('reads see pending writes', () => {
    it('getJob returns the pending job, as a copy, without reading the inner storage', async () => {
      const { inner, storage } = make();
      const [job] = await addJobs(storage, 1);
      const update: Job = { ...job, version: 3, status: 'paused', payload: { n: 1 } };
      await storage.updateJob(update);
      const reads = inner.calls.getJob;
      const first = await storage.getJob(job.id);
      const second = await storage.getJob(job.id);
      expect(first).toStrictEqual(update);
      expect(first).not.toBe(second);
      expect(first?.payload).not.toBe(second?.payload);
      expect(inner.calls.getJob).toBe(reads);
      expect(inner.calls.batchUpdateJobs).toBe(0);
    });

    it('listJobs overlays pending jobs in the inner order, filtering by status after the overlay', async () => {
      const { storage } = make();
      const [a, b, c] = await addJobs(storage, 3);
      await storage.updateJob({ ...b, status: 'paused', version: 1 });
      expect(await storage.listJobs()).toStrictEqual([
        a,
        { ...b, status: 'paused', version: 1 },
        c,
      ]);
      expect((await storage.listJobs('paused')).map((j) => j.id)).toStrictEqual([b.id]);
      expect((await storage.listJobs('pending')).map((j) => j.id)).toStrictEqual([a.id, c.id]);
    });

    it('getRuns merges pending and stored runs, newest first, pending replacing stored, cut to limit', async () => {
      const { storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      const old = makeRun(job.id, { id: 'run-old', startAt: at(1) });
      const tie = makeRun(job.id, { id: 'run-tie-stored', startAt: at(3) });
      await storage.createRun(old);
      await storage.createRun(tie);
      await storage.flush();

      const newest = makeRun(job.id, { id: 'run-newest', startAt: at(5) });
      const middle = makeRun(job.id, { id: 'run-middle', startAt: at(2) });
      const tiePending = makeRun(job.id, { id: 'run-tie-pending', startAt: at(3) });
      const oldDone: Run = { ...old, status: 'success', endAt: at(1), output: 'ok' };
      await storage.createRun(newest);
      await storage.createRun(middle);
      await storage.createRun(tiePending);
      await storage.updateRun(oldDone);

      expect(await storage.getRuns(job.id, 10)).toStrictEqual([
        newest,
        tiePending,
        tie,
        middle,
        oldDone,
      ]);
      expect(await storage.getRuns(job.id, 2)).toStrictEqual([newest, tiePending]);
      expect(await storage.getRuns(job.id, 0)).toStrictEqual([]);
      const [first, again] = [await storage.getRuns(job.id, 1), await storage.getRuns(job.id, 1)];
      expect(first[0]).not.toBe(again[0]);
    });

    it('getJobRunCount adds the pending runs the inner storage does not hold yet', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      const stored = makeRun(job.id, { id: 'run-stored' });
      await storage.createRun(stored);
      await storage.flush();
      const fresh = makeRun(job.id, { id: 'run-fresh' });
      await storage.createRun(fresh);
      await storage.updateRun({ ...fresh, status: 'success' }); // still one new run
      await storage.createRun(makeRun(job.id, { id: 'run-fresh-2' }));
      const flushes = storage.metrics().flushes;
      expect(await storage.getJobRunCount(job.id)).toBe(3);
      expect(storage.metrics().flushes).toBe(flushes); // exact without flushing
      expect(inner.calls.getJobRunCount).toBe(1);
    });

    it('getJobRunCount flushes first when a pending update may be of a stored run', async () => {
      const { storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      const run = makeRun(job.id, { id: 'run-1' });
      await storage.createRun(run);
      await storage.flush();
      await storage.updateRun({ ...run, status: 'success' }); // stored already, or not: unknown here
      await storage.updateRun(makeRun(job.id, { id: 'run-new-by-update' })); // inserted by upsert
      expect(await storage.getJobRunCount(job.id)).toBe(2);
      expect(storage.metrics()).toMatchObject({ flushes: 2, pendingRuns: 0 });
    });
  });

  describe('existence checks', () => {
    it('buffers writes for jobs it knows without reading the inner storage', async () => {
      const { inner, storage } = make({ batchSize: 1_000 });
      const [job] = await addJobs(storage, 1);
      for (let i = 0; i < 100; i++) {
        await storage.updateJob({ ...job, version: i });
        await storage.createRun(makeRun(job.id));
      }
      expect(inner.calls.getJob).toBe(0);
    });

    it('reads a job written elsewhere once, keeping writes of it in call order', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const job = makeJob({ id: 'elsewhere' });
      await inner.memory.createJob(job); // another process created it
      const writes = [1, 2, 3].map((version) => storage.updateJob({ ...job, version }));
      await Promise.all(writes);
      expect(inner.calls.getJob).toBe(1);
      expect((await storage.getJob(job.id))?.version).toBe(3);
      await storage.updateJob({ ...job, version: 4 });
      expect(inner.calls.getJob).toBe(1);
    });

    it('rejects updateJob and createRun for an unknown job, and ignores updateRun for one', async () => {
      const { storage } = make();
      await expect(storage.updateJob(makeJob({ id: 'ghost' }))).rejects.toBeInstanceOf(
        JobNotFoundError,
      );
      await expect(storage.createRun(makeRun('ghost'))).rejects.toThrow('"ghost"');
      await expect(storage.updateRun(makeRun('ghost'))).resolves.toBeUndefined();
      expect(storage.metrics()).toMatchObject({ pendingJobs: 0, pendingRuns: 0 });
    });
  });

  describe('deleteJob', () => {
    it('discards the pending writes of the job and its runs, keeping the others', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [gone, kept] = await addJobs(storage, 2);
      await storage.updateJob({ ...gone, version: 1 });
      await storage.createRun(makeRun(gone.id, { id: 'run-gone' }));
      await storage.updateJob({ ...kept, version: 1 });
      await storage.createRun(makeRun(kept.id, { id: 'run-kept' }));
      await storage.deleteJob(gone.id);
      expect(storage.metrics()).toMatchObject({ pendingJobs: 1, pendingRuns: 1 });
      expect(await storage.getJob(gone.id)).toBeNull();
      expect(await storage.getRuns(gone.id, 10)).toStrictEqual([]);
      expect(await storage.getJobRunCount(gone.id)).toBe(0);

      await expect(storage.updateJob(gone)).rejects.toBeInstanceOf(JobNotFoundError);
      await storage.updateRun(makeRun(gone.id));
      await storage.createJob(makeJob({ id: gone.id })); // a new job under the old id
      await storage.flush();
      expect(inner.writes.flatMap((w) => w.records.map((r) => r.id))).toStrictEqual([
        'run-kept',
        kept.id,
      ]);
      expect(await storage.getJobRunCount(gone.id)).toBe(0);
    });

    it('keeps the pending writes when the deletion fails', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 5 });
      inner.deleteJob = () => Promise.reject(new Error('timeout'));
      await expect(storage.deleteJob(job.id)).rejects.toThrow('timeout');
      await storage.flush();
      expect((await inner.memory.getJob(job.id))?.version).toBe(5);
    });

    it('waits for a flush under way, so that a failed one cannot bring the records back', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      await storage.createRun(makeRun(job.id, { id: 'run-1' }));
      const release = inner.hold();
      inner.failure = new Error('down');
      const failing = storage.flush().catch(() => {});
      await ticks();
      const deleting = storage.deleteJob(job.id);
      expect(await isSettled(deleting)).toBe(false);
      release();
      await deleting;
      await failing;
      expect(storage.metrics()).toMatchObject({ pendingRuns: 0, pendingJobs: 0 });
    });
  });

  describe('close', () => {
    it('flushes, then closes the inner storage; later calls fail with StorageClosedError', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 1 });
      await storage.createRun(makeRun(job.id));
      await storage.close();
      expect(inner.log.slice(-3)).toStrictEqual(['batchUpdateRuns', 'batchUpdateJobs', 'close']);
      expect(inner.records('batchUpdateJobs', 'batchUpdateRuns')).toBe(2);
      await expect(storage.updateJob(job)).rejects.toBeInstanceOf(StorageClosedError);
      await expect(storage.getJob(job.id)).rejects.toThrow('BatchingStorage is closed');
      await expect(storage.close()).resolves.toBeUndefined();
      expect(inner.calls.close).toBe(1);
    });

    it('retries a failing flush until closeTimeout, then logs the lost records and still closes', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const { inner, storage, logger } = make({
        batchSize: 100,
        closeTimeout: 1_000,
        retryBaseDelay: 100,
      });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 1 });
      await storage.createRun(makeRun(job.id));
      inner.failure = new Error('gone away');
      const closing = storage.close();
      await vi.advanceTimersByTimeAsync(999);
      expect(await isSettled(closing)).toBe(false);
      // Attempts at 0, 100, 300, 700 ms.
      expect(inner.calls.batchUpdateRuns).toBe(4);
      await vi.advanceTimersByTimeAsync(1);
      await closing;
      expect(inner.calls.close).toBe(1);
      const lost = logger.error.mock.calls
        .map((call) => String(call[0]))
        .find((m) => /lost/.test(m));
      expect(lost).toContain('2 unwritten records (1 jobs, 1 runs)');
      expect(lost).toContain('gone away');
    });

    it('succeeds when the storage recovers before closeTimeout, losing nothing', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const { inner, storage, logger } = make({ batchSize: 100, retryBaseDelay: 100 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 1 });
      inner.failure = new Error('blip');
      const closing = storage.close();
      await ticks();
      inner.failure = null;
      await vi.advanceTimersByTimeAsync(100);
      await closing;
      expect(inner.calls.batchUpdateJobs).toBe(2);
      expect(logger.error).not.toHaveBeenCalled();
      expect(storage.metrics()).toMatchObject({ flushedJobs: 1, pendingJobs: 0 });
    });

    it('gives up on a flush that hangs past closeTimeout, reporting the records as possibly lost', async () => {
      const { inner, storage, logger } = make({ batchSize: 100, closeTimeout: 500 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 1 });
      inner.hold(); // never released
      const closing = storage.close();
      await vi.advanceTimersByTimeAsync(500);
      await closing;
      expect(inner.calls.close).toBe(1);
      expect(logger.error).toHaveBeenCalledWith(
        expect.stringContaining('1 unwritten records (1 jobs, 0 runs) possibly lost'),
      );
    });

    it('flushWithin(ms): retries without closing, and says whether all was written, failed or hung', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(1);
      const { inner, storage } = make({ batchSize: 100, retryBaseDelay: 100 });
      const [job] = await addJobs(storage, 1);
      await storage.updateJob({ ...job, version: 1 });
      inner.failure = new Error('down');
      // Attempts at 0, 100, 300 and 700 ms; none at 950 ms (the interval flush comes at 1 s).
      const failed = storage.flushWithin(950);
      await vi.advanceTimersByTimeAsync(950);
      await expect(failed).resolves.toBe('failed');
      inner.failure = null;
      const written = storage.flushWithin(1_000);
      await vi.advanceTimersByTimeAsync(200);
      await expect(written).resolves.toBe('written');
      expect(storage.metrics()).toMatchObject({ pendingJobs: 0, flushedJobs: 1 });
      await storage.updateJob({ ...job, version: 2 });
      const release = inner.hold();
      const hung = storage.flushWithin(500);
      await vi.advanceTimersByTimeAsync(500);
      await expect(hung).resolves.toBe('hung');
      release();
      await expect(storage.updateJob({ ...job, version: 3 })).resolves.toBeUndefined(); // still open
    });

    it('survives a logger that throws', async () => {
      const { inner, storage, logger } = make({ batchSize: 1 });
      logger.warn.mockImplementation(() => {
        throw new Error('logger broke');
      });
      const [job] = await addJobs(storage, 1);
      inner.failure = new Error('down');
      await expect(storage.flush()).resolves.toBeUndefined(); // nothing pending yet
      await storage.updateJob(job);
      await ticks();
      expect(storage.metrics().flushFailures).toBe(1);
      inner.failure = null;
      await storage.flush();
      expect(storage.metrics()).toMatchObject({ pendingJobs: 0, flushes: 1 });
    });

    it('releases writes waiting for room when it closes', async () => {
      const { inner, storage } = make({ batchSize: 1, maxPending: 1, closeTimeout: 0 });
      const [job] = await addJobs(storage, 1);
      inner.failure = new Error('down');
      const waiting = storage.updateJob(job);
      expect(await isSettled(waiting)).toBe(false);
      await storage.close();
      await expect(waiting).resolves.toBeUndefined();
    });
  });

  describe('copies', () => {
    it('writes what the caller passed at call time, not what it mutated afterwards', async () => {
      const { inner, storage } = make({ batchSize: 100 });
      const [created] = await addJobs(storage, 1);
      const job: Job = { ...created, version: 1, payload: { nested: { list: [1, 2] } } };
      const run = makeRun(created.id, { id: 'run-1' });
      const expectedJob = structuredClone(job);
      const expectedRun = structuredClone(run);
      await storage.updateJob(job);
      await storage.createRun(run);
      job.version = 99;
      job.status = 'failed';
      job.updatedAt.setTime(0);
      job.nextRunAt?.setTime(0);
      (job.payload as { nested: { list: number[] } }).nested.list.push(3);
      run.status = 'failed';
      run.startAt.setTime(0);
      expect(await storage.getJob(created.id)).toStrictEqual(expectedJob);
      await storage.flush();
      expect(await inner.memory.getJob(created.id)).toStrictEqual(expectedJob);
      expect(await inner.memory.getRuns(created.id, 10)).toStrictEqual([expectedRun]);
    });

    it('shares a frozen payload instead of copying it', async () => {
      const { storage } = make({ batchSize: 100 });
      const [job] = await addJobs(storage, 1);
      const payload = Object.freeze({ frozen: true });
      await storage.updateJob({ ...job, payload });
      expect((await storage.getJob(job.id))?.payload).toBe(payload);
    });

    it('rejects a write whose record cannot be copied, buffering nothing', async () => {
      const { storage } = make();
      const [job] = await addJobs(storage, 1);
      const bad = { ...job, updatedAt: 'yesterday' } as unknown as Job;
      await expect(storage.updateJob(bad)).rejects.toBeInstanceOf(TypeError);
      await expect(storage.batchUpdateJobs([job, bad])).rejects.toBeInstanceOf(TypeError);
      expect(storage.metrics().pendingJobs).toBe(0);
    });
  });

  describe('metrics', () => {
    it('counts flushes, flushed records and pending records', async () => {
      const { storage } = make({ batchSize: 100 });
      expect(storage.metrics()).toStrictEqual({
        flushes: 0,
        flushedJobs: 0,
        flushedRuns: 0,
        flushFailures: 0,
        pendingJobs: 0,
        pendingRuns: 0,
      });
      const [a, b] = await addJobs(storage, 2);
      await storage.updateJob(a);
      await storage.updateJob(b);
      await storage.createRun(makeRun(a.id));
      expect(storage.metrics()).toMatchObject({ pendingJobs: 2, pendingRuns: 1 });
      await storage.flush();
      expect(storage.metrics()).toStrictEqual({
        flushes: 1,
        flushedJobs: 2,
        flushedRuns: 1,
        flushFailures: 0,
        pendingJobs: 0,
        pendingRuns: 0,
      });
    });
  });
});
