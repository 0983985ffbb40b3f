import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HistoryPruner } from '../../../lib/core/history-pruner.js';
import { Scheduler } from '../../../lib/scheduler.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { JobStorage } from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';
import { advance, makeScheduler } from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');

async function storageWithRuns(jobId: string, count: number, stepMs = 1000) {
  const storage = new MemoryStorage();
  await storage.createJob(makeJob({ id: jobId }));
  for (let i = 0; i < count; i++) {
    const startAt = new Date(T0.getTime() - (count - i) * stepMs);
    await storage.createRun(makeRun(jobId, { status: 'success', startAt, scheduledAt: startAt }));
  }
  return storage;
}

describe('HistoryPruner', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the newest maxRunsPerJob runs, deleting in bounded batches', async () => {
    const storage = await storageWithRuns('a', 25);
    const spy = vi.spyOn(storage, 'pruneRuns');
    const pruner = new HistoryPruner(
      storage,
      { maxRunsPerJob: 5, maxAge: undefined, interval: 60_000, batchSize: 7 },
      new NopLogger(),
      Date.now,
    );
    const pass = pruner.prune();
    await vi.runAllTimersAsync(); // the pass yields (setImmediate) between two batches
    expect(await pass).toBe(20);
    expect(spy.mock.calls.map((c) => c[0].limit)).toEqual([7, 7, 7]);
    const kept = await storage.getRuns('a', 100);
    expect(kept).toHaveLength(5);
    expect(kept[4]!.startAt.getTime()).toBe(T0.getTime() - 5000);
  });

  it('drops finished runs older than maxAge, never a running one', async () => {
    const storage = await storageWithRuns('a', 10, 60_000);
    await storage.createRun(
      makeRun('a', { status: 'running', startAt: new Date(T0.getTime() - 3_600_000) }),
    );
    const pruner = new HistoryPruner(
      storage,
      { maxRunsPerJob: undefined, maxAge: 5 * 60_000, interval: 60_000, batchSize: 100 },
      new NopLogger(),
      Date.now,
    );
    expect(await pruner.prune()).toBe(5);
    const left = await storage.getRuns('a', 100);
    expect(left.filter((r) => r.status === 'running')).toHaveLength(1);
    expect(
      left
        .filter((r) => r.status === 'success')
        .every((r) => r.startAt.getTime() >= T0.getTime() - 5 * 60_000),
    ).toBe(true);
  });

  it('prunes every interval once started, and logs instead of throwing when the storage fails', async () => {
    const storage = await storageWithRuns('a', 3);
    const logger = new NopLogger();
    const warn = vi.spyOn(logger, 'warn');
    vi.spyOn(storage, 'pruneRuns').mockRejectedValueOnce(new Error('db down'));
    const pruner = new HistoryPruner(
      storage,
      { maxRunsPerJob: 1, maxAge: undefined, interval: 1000, batchSize: 100 },
      logger,
      Date.now,
    );
    pruner.start();
    await advance(1000);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('db down'));
    expect(await storage.getJobRunCount('a')).toBe(3);
    await advance(1000);
    expect(await storage.getJobRunCount('a')).toBe(1);
    await pruner.stop();
  });
});

describe('historyRetention option', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('prunes a running scheduler’s history in the background', async () => {
    const { scheduler } = makeScheduler({
      historyRetention: { maxRunsPerJob: 3, interval: '10500ms' },
    });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ cron: '* * * * * *', handlerName: 'h' });
    await scheduler.start();
    await advance(10_400);
    expect(await scheduler.storage.getJobRunCount(job.id)).toBe(10);
    await advance(200);
    expect(await scheduler.storage.getJobRunCount(job.id)).toBe(3);
    const kept = await scheduler.getRuns(job.id, 10);
    expect(kept[0]!.scheduledAt.getTime()).toBe(T0.getTime() + 10_000);
    await scheduler.stop();
  });

  it('is refused, naming the option, on a storage that cannot prune', () => {
    class PlainStorage extends MemoryStorage {}
    Object.defineProperty(PlainStorage.prototype, 'pruneRuns', { value: undefined });
    expect(
      () =>
        new Scheduler(new PlainStorage() as JobStorage, {
          logger: new NopLogger(),
          historyRetention: { maxAge: '30d' },
        }),
    ).toThrow(/"historyRetention".*PlainStorage cannot/);
  });

  it.each([
    [{}, 'historyRetention'],
    [{ maxRunsPerJob: 0 }, 'historyRetention.maxRunsPerJob'],
    [{ maxAge: 'forever' }, 'historyRetention.maxAge'],
    [{ maxAge: '1d', interval: 0 }, 'historyRetention.interval'],
    [{ maxAge: '1d', keep: 3 }, 'historyRetention.keep'],
    ['30d', 'historyRetention'],
  ])('rejects %o naming %s', (value, option) => {
    const error = (() => {
      try {
        new Scheduler(undefined, { logger: new NopLogger(), historyRetention: value as never });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).option).toBe(option);
  });
});
