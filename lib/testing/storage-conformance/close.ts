import { rejectionOf } from '../rejection-of.js';
import { StorageClosedError } from '../../errors/storage-closed.error.js';
import { type BatchStorage, isBatchStorage } from '../../interfaces/job-storage.js';
import { makeJob, makeRun } from '../fixtures.js';
import { type StorageSuite, expectError } from './support.js';

/** The `close and ping` tests. */
export function closeAndPingSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, addRun } = ctx;
  describe('close and ping', () => {
    it('pings while open', async () => {
      await expect(ctx.storage.ping()).resolves.toBeUndefined();
    });

    it('closes idempotently', async () => {
      await ctx.storage.close();
      await expect(ctx.storage.close()).resolves.toBeUndefined();
      await expect(ctx.storage.close()).resolves.toBeUndefined();
    });

    it('rejects every other method with StorageClosedError once closed', async () => {
      const job = await addJob();
      const run = await addRun(job.id);
      await ctx.storage.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['createJob', () => ctx.storage.createJob(makeJob({ id: uid() }))],
        ['getJob', () => ctx.storage.getJob(job.id)],
        ['updateJob', () => ctx.storage.updateJob(job)],
        ['deleteJob', () => ctx.storage.deleteJob(job.id)],
        ['listJobs', () => ctx.storage.listJobs()],
        ['listJobs(status)', () => ctx.storage.listJobs('pending')],
        ['createRun', () => ctx.storage.createRun(makeRun(job.id, { id: uid('run') }))],
        ['updateRun', () => ctx.storage.updateRun(run)],
        ['getRuns', () => ctx.storage.getRuns(job.id, 10)],
        ['getJobRunCount', () => ctx.storage.getJobRunCount(job.id)],
        ['ping', () => ctx.storage.ping()],
      ];
      if (isBatchStorage(ctx.storage)) {
        const batch: BatchStorage = ctx.storage;
        calls.push(
          ['batchUpdateJobs', () => batch.batchUpdateJobs([job])],
          ['batchUpdateRuns', () => batch.batchUpdateRuns([run])],
        );
      }
      for (const [method, call] of calls) {
        expectError(
          expect,
          await rejectionOf(call()),
          StorageClosedError,
          'STORAGE_CLOSED',
          '',
          method,
        );
      }
      await expect(ctx.storage.close()).resolves.toBeUndefined();
    });
  });
}
