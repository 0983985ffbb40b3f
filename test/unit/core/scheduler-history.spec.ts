import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../../lib/errors/invalid-argument.error.js';
import { advance, makeScheduler, stopLettingTimePass } from '../../utils/scheduler-harness.js';
import type { Scheduler } from '../../../lib/scheduler.js';

describe('Scheduler history queries', () => {
  let scheduler: Scheduler | undefined;

  afterEach(async () => {
    if (scheduler?.isStarted()) await stopLettingTimePass(scheduler);
    vi.useRealTimers();
  });

  for (const [name, options] of [
    ['with batched writes', { enableBatchUpdate: true, batchSize: 1000, batchFlushInterval: '1h' }],
    [
      'with batched writes and the cache',
      { enableBatchUpdate: true, batchSize: 1000, batchFlushInterval: '1h', enableCache: true },
    ],
    ['without either', {}],
  ] as const) {
    it(`answers from what the scheduler wrote, writes still buffered included (${name})`, async () => {
      vi.useFakeTimers({ now: Date.UTC(2031, 0, 1, 12, 0, 0) });
      const made = makeScheduler(options);
      scheduler = made.scheduler;
      scheduler.registerHandlerFunc('report', async () => 'done');
      scheduler.registerHandlerFunc('flaky', async () => {
        throw new Error('upstream 503');
      });
      await scheduler.start();
      const ok = await scheduler.addJob({ id: 'report-1', handlerName: 'report', interval: '1m' });
      const bad = await scheduler.addJob({
        id: 'flaky-1',
        handlerName: 'flaky',
        runAt: Date.now(),
      });
      await advance(60_000 + 10);

      const stored = await made.storage.findRuns({ jobId: ok.id });
      const runs = await scheduler.findRuns();
      expect(runs.items.map((run) => [run.jobId, run.status])).toStrictEqual([
        [ok.id, 'success'],
        [bad.id, 'failed'],
      ]);
      if (options.enableBatchUpdate) {
        // The query saw the ended runs before the buffer's own flush was due.
        expect(stored.items.map((run) => run.status)).not.toContain('success');
      }
      const failed = await scheduler.findRuns({ status: 'failed', search: '503' });
      expect(failed.items.map((run) => run.jobId)).toStrictEqual([bad.id]);
      expect(await scheduler.getRun(failed.items[0]!.id)).toStrictEqual(failed.items[0]);
      const jobs = await scheduler.findJobs({ status: 'failed' });
      expect(jobs.items.map((job) => job.id)).toStrictEqual([bad.id]);
      const stats = await scheduler.runStats({
        from: Date.UTC(2031, 0, 1, 11, 0, 0),
        to: Date.UTC(2031, 0, 1, 13, 0, 0),
        bucket: '1h',
      });
      expect(stats.map((row) => [row.succeeded, row.failed])).toStrictEqual([
        [0, 0],
        [1, 1],
      ]);
      await expect(scheduler.findRuns({ limit: 501 })).rejects.toBeInstanceOf(InvalidArgumentError);
    });
  }
});
