import { rejectionOf } from '../rejection-of.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeJob, makeRun } from '../fixtures.js';
import { type StorageSuite, at, expectError } from './support.js';

/** The `runs` tests. */
export function runsSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, addRun } = ctx;
  describe('runs', () => {
    it('stores a run and returns an equal one', async () => {
      const job = await addJob();
      const run = await addRun(job.id);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([run]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(1);
    });

    it('round-trips finished runs with output, error text, trace id and attempt', async () => {
      const job = await addJob();
      const success = await addRun(job.id, {
        status: 'success',
        startAt: at('2030-01-02T03:04:10.456Z'),
        endAt: at('2030-01-02T03:04:11.789Z'),
        output: '{"ok":true,"text":"héllo 🎉 \\"quoted\\" it\'s"}',
        duration: 1_333,
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      });
      const failed = await addRun(job.id, {
        status: 'failed',
        startAt: at('2030-01-02T03:04:12.000Z'),
        endAt: at('2030-01-02T03:04:12.250Z'),
        error: "Error: boom 💥\n    at handler (file.ts:1:2)\n'; DROP TABLE runs; --",
        duration: 250,
        attempt: 3,
        scheduledAt: at('2030-01-02T03:04:05.000Z'),
      });
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([failed, success]);
    });

    it('rejects createRun for an unknown job with JobNotFoundError, storing nothing', async () => {
      const jobId = uid('missing');
      const error = await rejectionOf(ctx.storage.createRun(makeRun(jobId, { id: uid('run') })));
      expectError(expect, error, JobNotFoundError, 'JOB_NOT_FOUND', jobId);
      await ctx.storage.createJob(makeJob({ id: jobId }));
      expect(await ctx.storage.getJobRunCount(jobId)).toBe(0);
      expect(await ctx.storage.getRuns(jobId, 10)).toStrictEqual([]);
    });

    it('returns runs newest first by startAt', async () => {
      const job = await addJob();
      const middle = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.002Z') });
      const oldest = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.001Z') });
      const newest = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.003Z') });
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([newest, middle, oldest]);
    });

    it('orders runs with the same startAt by insertion, the latest first', async () => {
      const job = await addJob();
      const t0 = at('2030-01-02T03:04:20.000Z');
      const t1 = at('2030-01-02T03:04:21.000Z');
      const a = await addRun(job.id, { startAt: t0 });
      const b = await addRun(job.id, { startAt: t0 });
      const c = await addRun(job.id, { startAt: t1 });
      const d = await addRun(job.id, { startAt: t0 });
      expect((await ctx.storage.getRuns(job.id, 10)).map((run) => run.id)).toStrictEqual([
        c.id,
        d.id,
        b.id,
        a.id,
      ]);
    });

    it('returns at most limit runs, the newest ones', async () => {
      const job = await addJob();
      const runs: Run[] = [];
      for (let i = 0; i < 5; i++) {
        runs.push(await addRun(job.id, { startAt: new Date(Date.UTC(2030, 0, 2, 3, 5, i, 7)) }));
      }
      const newestFirst = runs.toReversed();
      expect(await ctx.storage.getRuns(job.id, 2)).toStrictEqual(newestFirst.slice(0, 2));
      expect(await ctx.storage.getRuns(job.id, 5)).toStrictEqual(newestFirst);
      expect(await ctx.storage.getRuns(job.id, 100)).toStrictEqual(newestFirst);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual(newestFirst.slice(0, 1));
    });

    it('returns no runs for a limit of zero or less', async () => {
      const job = await addJob();
      await addRun(job.id);
      expect(await ctx.storage.getRuns(job.id, 0)).toStrictEqual([]);
      expect(await ctx.storage.getRuns(job.id, -1)).toStrictEqual([]);
      expect(await ctx.storage.getRuns(job.id, -100)).toStrictEqual([]);
    });

    it('floors a non-integer limit', async () => {
      const job = await addJob();
      const older = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.001Z') });
      const newer = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.002Z') });
      await addRun(job.id, { startAt: at('2030-01-02T03:04:20.000Z') });
      expect(await ctx.storage.getRuns(job.id, 2.9)).toStrictEqual([newer, older]);
      expect(await ctx.storage.getRuns(job.id, 1.5)).toStrictEqual([newer]);
      expect(await ctx.storage.getRuns(job.id, 0.5)).toStrictEqual([]);
    });

    it('returns no runs and a count of 0 for an unknown job', async () => {
      const jobId = uid('missing');
      expect(await ctx.storage.getRuns(jobId, 10)).toStrictEqual([]);
      expect(await ctx.storage.getJobRunCount(jobId)).toBe(0);
    });

    it('keeps the runs of each job apart', async () => {
      const a = await addJob();
      const b = await addJob();
      const a1 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.001Z') });
      const b1 = await addRun(b.id, { startAt: at('2030-01-02T03:04:20.002Z') });
      const a2 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.003Z') });
      expect(await ctx.storage.getRuns(a.id, 10)).toStrictEqual([a2, a1]);
      expect(await ctx.storage.getRuns(b.id, 10)).toStrictEqual([b1]);
      expect(await ctx.storage.getJobRunCount(a.id)).toBe(2);
      expect(await ctx.storage.getJobRunCount(b.id)).toBe(1);
    });

    it('counts runs', async () => {
      const job = await addJob();
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      for (let i = 0; i < 7; i++) await addRun(job.id);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(7);
    });

    it('replaces a run on updateRun, keeping its place and the count', async () => {
      const job = await addJob();
      const first = await addRun(job.id);
      const second = await addRun(job.id);
      const finished: Run = {
        ...first,
        status: 'success',
        endAt: at('2030-01-02T03:04:11.999Z'),
        output: 'done',
        duration: 1_543,
        traceId: '0af7651916cd43dd8448eb211c80319c',
      };
      await ctx.storage.updateRun(finished);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([second, finished]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(2);
    });

    it('inserts the run on updateRun when it was never created', async () => {
      const job = await addJob();
      const created = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.001Z') });
      const run = makeRun(job.id, {
        id: uid('run'),
        status: 'failed',
        startAt: at('2030-01-02T03:04:20.002Z'),
        endAt: at('2030-01-02T03:04:20.500Z'),
        error: 'Error: timed out',
        duration: 498,
      });
      await ctx.storage.updateRun(run);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([run, created]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(2);
    });

    it("records a run's end with its job in one call, and again with the same result", async () => {
      const job = await addJob();
      const run = await addRun(job.id);
      const ended: Run = {
        ...run,
        status: 'success',
        endAt: at('2030-01-02T03:04:11.000Z'),
        output: 'ok',
        duration: 1_000,
      };
      const after = {
        ...job,
        status: 'completed' as const,
        nextRunAt: null,
        lastResult: 'ok',
        version: job.version + 1,
      };
      await ctx.storage.recordRunEnd(ended, after);
      await ctx.storage.recordRunEnd(ended, after);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([ended]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(after);
      // Without the job (removed meanwhile): only the run is written.
      const failed: Run = { ...ended, status: 'failed', error: 'Error: late', output: '' };
      await ctx.storage.recordRunEnd(failed, null);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([failed]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(after);
    });

    it('rejects recordRunEnd with JobNotFoundError once the job is gone, ignoring the run', async () => {
      const job = await addJob();
      const run = await addRun(job.id);
      await ctx.storage.deleteJob(job.id);
      const error = await rejectionOf(ctx.storage.recordRunEnd({ ...run, status: 'success' }, job));
      expectError(expect, error, JobNotFoundError, 'JOB_NOT_FOUND', job.id);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      expect(await ctx.storage.getJob(job.id)).toBeNull();
    });

    it('ignores updateRun once the job is deleted', async () => {
      const job = await addJob();
      const run = await addRun(job.id);
      await ctx.storage.deleteJob(job.id);
      await expect(
        ctx.storage.updateRun({ ...run, status: 'success', endAt: at('2030-01-02T03:04:11.000Z') }),
      ).resolves.toBeUndefined();
      await expect(
        ctx.storage.updateRun(makeRun(job.id, { id: uid('run') })),
      ).resolves.toBeUndefined();
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      await ctx.storage.createJob(makeJob({ id: job.id }));
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
    });

    it('ignores updateRun for a job that never existed', async () => {
      const jobId = uid('missing');
      await expect(
        ctx.storage.updateRun(makeRun(jobId, { id: uid('run') })),
      ).resolves.toBeUndefined();
      expect(await ctx.storage.getJobRunCount(jobId)).toBe(0);
      await ctx.storage.createJob(makeJob({ id: jobId }));
      expect(await ctx.storage.getJobRunCount(jobId)).toBe(0);
    });

    it('deletes the runs of a deleted job, and only those', async () => {
      const job = await addJob();
      const other = await addJob();
      for (let i = 0; i < 3; i++) await addRun(job.id);
      const kept = await addRun(other.id);
      await ctx.storage.deleteJob(job.id);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      await ctx.storage.createJob(makeJob({ id: job.id }));
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([]);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      expect(await ctx.storage.getRuns(other.id, 10)).toStrictEqual([kept]);
    });
  });
}
