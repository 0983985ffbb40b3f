import { isBatchStorage } from '../../interfaces/job-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeJob, makeRun } from '../fixtures.js';
import { DATE_2040, type StorageSuite, at, batchOf, mutateJob, mutateRun } from './support.js';

/** The `BatchStorage` tests. */
export function batchStorageSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, addRun, only } = ctx;
  const batch = ctx.batch;
  // Only batch-capable storages are held to the batch contract (a plain one has no batch methods).
  if (batch) {
    describe('BatchStorage', () => {
      it('is detected as a BatchStorage', async () => {
        expect(isBatchStorage(ctx.storage)).toBe(true);
      });

      it('updates several jobs with batchUpdateJobs', async () => {
        const batch = batchOf(ctx.storage);
        const a = await addJob();
        const b = await addJob();
        const newA: Job = { ...a, status: 'running', version: 1, payload: ['a'] };
        const newB: Job = { ...b, lastResult: 'ok', version: 3, lastRunAt: at(DATE_2040) };
        await batch.batchUpdateJobs([newA, newB]);
        expect(await ctx.storage.getJob(a.id)).toStrictEqual(newA);
        expect(await ctx.storage.getJob(b.id)).toStrictEqual(newB);
      });

      it('skips jobs that are unknown or deleted in batchUpdateJobs', async () => {
        const batch = batchOf(ctx.storage);
        const a = await addJob();
        const gone = await addJob();
        const b = await addJob();
        await ctx.storage.deleteJob(gone.id);
        const ghost = makeJob({ id: uid('missing') });
        const newA: Job = { ...a, version: 1, status: 'paused' };
        const newB: Job = { ...b, version: 1, status: 'running' };
        await expect(
          batch.batchUpdateJobs([newA, ghost, { ...gone, version: 1 }, newB]),
        ).resolves.toBeUndefined();
        expect(await ctx.storage.getJob(a.id)).toStrictEqual(newA);
        expect(await ctx.storage.getJob(b.id)).toStrictEqual(newB);
        expect(await ctx.storage.getJob(ghost.id)).toBeNull();
        expect(await ctx.storage.getJob(gone.id)).toBeNull();
        expect(only(await ctx.storage.listJobs(), [a.id, gone.id, b.id, ghost.id])).toStrictEqual([
          newA,
          newB,
        ]);
      });

      it('is not changed by mutating the jobs given to batchUpdateJobs', async () => {
        const batch = batchOf(ctx.storage);
        const job = await addJob();
        const update: Job = { ...job, version: 1, payload: { nested: { list: [1] } } };
        const expected = structuredClone(update);
        await batch.batchUpdateJobs([update]);
        mutateJob(update);
        expect(await ctx.storage.getJob(job.id)).toStrictEqual(expected);
      });

      it('updates, inserts and ignores runs with batchUpdateRuns', async () => {
        const batch = batchOf(ctx.storage);
        const a = await addJob();
        const b = await addJob();
        const gone = await addJob();
        const a1 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.001Z') });
        const b1 = await addRun(b.id, { startAt: at('2030-01-02T03:04:20.001Z') });
        const goneRun = await addRun(gone.id);
        await ctx.storage.deleteJob(gone.id);

        const doneA1: Run = { ...a1, status: 'success', endAt: at('2030-01-02T03:04:21.000Z') };
        const doneB1: Run = { ...b1, status: 'failed', error: 'nope', duration: 5 };
        const a2 = makeRun(a.id, { id: uid('run'), startAt: at('2030-01-02T03:04:20.002Z') });
        const orphan = makeRun(uid('missing'), { id: uid('run') });
        await expect(
          batch.batchUpdateRuns([doneA1, a2, { ...goneRun, status: 'success' }, orphan, doneB1]),
        ).resolves.toBeUndefined();

        expect(await ctx.storage.getRuns(a.id, 10)).toStrictEqual([a2, doneA1]);
        expect(await ctx.storage.getRuns(b.id, 10)).toStrictEqual([doneB1]);
        expect(await ctx.storage.getJobRunCount(gone.id)).toBe(0);
        expect(await ctx.storage.getJobRunCount(orphan.jobId)).toBe(0);
      });

      it('is not changed by mutating the runs given to batchUpdateRuns', async () => {
        const batch = batchOf(ctx.storage);
        const job = await addJob();
        const run = makeRun(job.id, { id: uid('run') });
        const expected = structuredClone(run);
        await batch.batchUpdateRuns([run]);
        mutateRun(run);
        expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([expected]);
      });

      it('accepts empty batches', async () => {
        const batch = batchOf(ctx.storage);
        await expect(batch.batchUpdateJobs([])).resolves.toBeUndefined();
        await expect(batch.batchUpdateRuns([])).resolves.toBeUndefined();
      });
    });
  }
}
