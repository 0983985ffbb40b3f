import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { advance } from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');

describe('Scheduler with enableBatchUpdate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects run and job writes into batches, and reads see what is pending', async () => {
    const storage = new MemoryStorage();
    const batchRuns = vi.spyOn(storage, 'batchUpdateRuns');
    const batchJobs = vi.spyOn(storage, 'batchUpdateJobs');
    const updateRun = vi.spyOn(storage, 'updateRun');
    const scheduler = new Scheduler(storage, {
      logger: new NopLogger(),
      enableBatchUpdate: true,
      batchSize: 1000,
      batchFlushInterval: '1s',
      concurrentRuns: 50,
    });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push((await scheduler.addJob({ runAt: T0, handlerName: 'h' })).id);
    await scheduler.start();
    await advance(10);
    // Not flushed yet: the storage has no run, the scheduler sees them all.
    expect(await storage.getJobRunCount(ids[0]!)).toBe(0);
    expect((await scheduler.getRuns(ids[0]!, 5))[0]).toMatchObject({
      status: 'success',
      output: 'ok',
    });
    expect((await scheduler.getJob(ids[0]!)).status).toBe('completed');
    await advance(1_000);
    expect(batchRuns).toHaveBeenCalledTimes(1);
    expect(batchRuns.mock.calls[0]![0]).toHaveLength(20);
    expect(batchJobs).toHaveBeenCalledTimes(1);
    expect(batchJobs.mock.calls[0]![0]).toHaveLength(20);
    expect(updateRun).not.toHaveBeenCalled();
    const metrics = scheduler.metrics();
    expect(metrics.batch).toMatchObject({
      flushes: 1,
      flushedRuns: 20,
      flushedJobs: 20,
      flushFailures: 0,
    });
    expect(metrics.duration).toMatchObject({ count: 20, p50: 0, max: 0 });
    expect(metrics.cache).toBeUndefined();
    for (const id of ids) {
      expect((await storage.getRuns(id, 5)).map((r) => r.status)).toEqual(['success']);
      expect((await storage.getJob(id))!.status).toBe('completed');
    }
    await scheduler.stop();
  });

  it('flushes what is pending when it stops', async () => {
    const storage = new MemoryStorage();
    const scheduler = new Scheduler(storage, {
      logger: new NopLogger(),
      enableBatchUpdate: true,
      batchSize: 1000,
      batchFlushInterval: '1h',
    });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ runAt: T0, handlerName: 'h' });
    await scheduler.start();
    await advance(10);
    expect(await storage.getJobRunCount(job.id)).toBe(0);
    await scheduler.stop();
    expect((await storage.getRuns(job.id, 1))[0]!.status).toBe('success');
  });
});

describe('Scheduler with enableCache', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads a job once from storage, then from the cache, and stays true after writes', async () => {
    const storage = new MemoryStorage();
    const getJob = vi.spyOn(storage, 'getJob');
    const scheduler = new Scheduler(storage, { logger: new NopLogger(), enableCache: true });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ interval: '1m', handlerName: 'h' });
    getJob.mockClear();
    await Promise.all(Array.from({ length: 100 }, () => scheduler.getJob(job.id)));
    expect(getJob).toHaveBeenCalledTimes(0); // written through on create
    expect(scheduler.metrics().cache).toMatchObject({ hits: 100, misses: 0 });
    await scheduler.pauseJob(job.id);
    expect((await scheduler.getJob(job.id)).status).toBe('paused');
    await scheduler.resumeJob(job.id);
    expect((await scheduler.getJob(job.id)).status).toBe('pending');
    await scheduler.removeJob(job.id);
    await expect(scheduler.getJob(job.id)).rejects.toThrow(/not found/);
  });
});
