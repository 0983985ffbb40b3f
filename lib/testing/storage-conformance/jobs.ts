import { rejectionOf } from '../rejection-of.js';
import { JOB_FIELDS, type JobField, sameFieldValue } from '../../core/job-fields.js';
import { JobAlreadyExistsError } from '../../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../errors/job-not-found.error.js';
import type { Job } from '../../interfaces/job.interface.js';
import { makeJob } from '../fixtures.js';
import { JOB_STATUSES, type StorageSuite, at, expectError } from './support.js';

/** The `jobs` tests. */
export function jobsSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, only } = ctx;
  describe('jobs', () => {
    it('stores a job and returns an equal one', async () => {
      const job = await addJob();
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('returns null for an unknown id', async () => {
      expect(await ctx.storage.getJob(uid('missing'))).toBeNull();
    });

    it('round-trips a once job, an interval job and a job with a time zone', async () => {
      const once = await addJob({
        type: 'once',
        cron: null,
        runAt: at('2031-06-07T08:09:10.011Z'),
        nextRunAt: at('2031-06-07T08:09:10.011Z'),
        maxRetry: 3,
      });
      const interval = await addJob({ type: 'interval', cron: null, interval: 1500 });
      const zoned = await addJob({ cron: '0 30 9 * * 1-5', timezone: 'Europe/Paris' });
      expect(await ctx.storage.getJob(once.id)).toStrictEqual(once);
      expect(await ctx.storage.getJob(interval.id)).toStrictEqual(interval);
      expect(await ctx.storage.getJob(zoned.id)).toStrictEqual(zoned);
    });

    for (const status of JOB_STATUSES) {
      it(`round-trips status ${status}`, async () => {
        const job = await addJob({ status });
        expect((await ctx.storage.getJob(job.id))?.status).toBe(status);
      });
    }

    it('round-trips a 64-character id and long text fields', async () => {
      const id = uid('long').padEnd(64, 'x');
      const job = makeJob({
        id,
        name: 'n'.repeat(200),
        description: 'd'.repeat(2_000),
        lastResult: 'r'.repeat(10_000),
      });
      await ctx.storage.createJob(job);
      expect(id).toHaveLength(64);
      expect(await ctx.storage.getJob(id)).toStrictEqual(job);
    });

    it('rejects a second job with a taken id with JobAlreadyExistsError, keeping the first', async () => {
      const job = await addJob({ name: 'first' });
      const error = await rejectionOf(
        ctx.storage.createJob(makeJob({ id: job.id, name: 'second' })),
      );
      expectError(expect, error, JobAlreadyExistsError, 'JOB_ALREADY_EXISTS', job.id);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('replaces every field on updateJob', async () => {
      const job = await addJob();
      const updated: Job = {
        ...job,
        name: 'renamed',
        description: 'changed',
        type: 'interval',
        cron: null,
        interval: 60_000,
        timezone: 'America/New_York',
        runAt: at('2032-01-01T00:00:00.001Z'),
        status: 'running',
        handlerName: 'otherHandler',
        payload: { changed: [1, 2, 3] },
        nextRunAt: at('2032-01-01T00:01:00.002Z'),
        lastRunAt: at('2031-12-31T23:59:00.003Z'),
        lastResult: 'boom: something failed',
        retryCount: 2,
        maxRetry: 5,
        misfirePolicy: job.misfirePolicy === 'skip' ? 'fire-once' : 'skip',
        maxMisfires: job.maxMisfires + 3,
        timeout: 1_234_567,
        retryDelay: 2_500,
        backoff: job.backoff === 'exponential' ? 'fixed' : 'exponential',
        maxRetryDelay: 86_400_000,
        jitter: 0.375,
        version: job.version + 1,
        updatedAt: at('2031-12-31T23:59:00.004Z'),
      };
      // Every field but the id and the creation instant is changed, so none can be left unwritten
      // (a field added to Job and not changed here fails this line).
      const unchanged = (Object.keys(JOB_FIELDS) as JobField[]).filter((field) =>
        sameFieldValue(JOB_FIELDS[field], job[field], updated[field]),
      );
      expect(unchanged).toStrictEqual(['id', 'createdAt']);
      await ctx.storage.updateJob(updated);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(updated);
    });

    it('sets nullable fields back to null on updateJob', async () => {
      const job = await addJob({
        timezone: 'Asia/Tokyo',
        runAt: at('2031-01-01T00:00:00.100Z'),
        lastRunAt: at('2031-01-01T00:00:00.200Z'),
        timeout: 90_000,
        retryDelay: 0,
        maxRetryDelay: 3_600_000,
      });
      const updated: Job = {
        ...job,
        timezone: null,
        runAt: null,
        nextRunAt: null,
        lastRunAt: null,
        timeout: null,
        retryDelay: null,
        maxRetryDelay: null,
      };
      await ctx.storage.updateJob(updated);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(updated);
    });

    it('rejects updateJob of an unknown job with JobNotFoundError, creating nothing', async () => {
      const job = makeJob({ id: uid('missing') });
      const error = await rejectionOf(ctx.storage.updateJob(job));
      expectError(expect, error, JobNotFoundError, 'JOB_NOT_FOUND', job.id);
      expect(await ctx.storage.getJob(job.id)).toBeNull();
    });

    it('deletes a job', async () => {
      const job = await addJob();
      const other = await addJob();
      await ctx.storage.deleteJob(job.id);
      expect(await ctx.storage.getJob(job.id)).toBeNull();
      expect(only(await ctx.storage.listJobs(), [job.id, other.id])).toStrictEqual([other]);
    });

    it('rejects deleteJob of an unknown or already deleted job with JobNotFoundError', async () => {
      const missing = uid('missing');
      expectError(
        expect,
        await rejectionOf(ctx.storage.deleteJob(missing)),
        JobNotFoundError,
        'JOB_NOT_FOUND',
        missing,
      );
      const job = await addJob();
      await ctx.storage.deleteJob(job.id);
      expectError(
        expect,
        await rejectionOf(ctx.storage.deleteJob(job.id)),
        JobNotFoundError,
        'JOB_NOT_FOUND',
        job.id,
      );
    });

    it('accepts a new job under the id of a deleted one', async () => {
      const job = await addJob({ name: 'old' });
      await ctx.storage.deleteJob(job.id);
      const again = makeJob({ id: job.id, name: 'new' });
      await ctx.storage.createJob(again);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(again);
    });
  });
}
