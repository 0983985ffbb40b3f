import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeJob, makeRun } from '../fixtures.js';
import {
  at,
  DATE_2040,
  JOB_STATUSES,
  mutateJob,
  mutateRun,
  PAYLOADS,
  type StorageSuite,
  withContext,
} from './support.js';

/** The `copies` tests. */
export function copiesSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, addRun, only } = ctx;
  describe('copies', () => {
    it('is not changed by mutating the job given to createJob', async () => {
      const job = makeJob({ id: uid(), payload: { nested: { list: [1, 2] } } });
      const expected = structuredClone(job);
      await ctx.storage.createJob(job);
      mutateJob(job);
      expect(await ctx.storage.getJob(expected.id)).toStrictEqual(expected);
    });

    it('is not changed by mutating the job given to updateJob', async () => {
      const job = await addJob();
      const update = makeJob({
        id: job.id,
        name: 'updated',
        payload: { nested: { list: [1, 2] } },
      });
      const expected = structuredClone(update);
      await ctx.storage.updateJob(update);
      mutateJob(update);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(expected);
    });

    it('is not changed by mutating a job it returned', async () => {
      const job = await addJob({ payload: { nested: { list: [1, 2] } } });
      const fromGet = await ctx.storage.getJob(job.id);
      if (!fromGet) throw new Error('job not found');
      mutateJob(fromGet);
      const fromList = only(await ctx.storage.listJobs(), [job.id]);
      expect(fromList).toHaveLength(1);
      mutateJob(fromList[0]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('returns a new object on every read', async () => {
      const job = await addJob();
      const first = await ctx.storage.getJob(job.id);
      const second = await ctx.storage.getJob(job.id);
      expect(first).not.toBe(second);
      expect(first?.createdAt).not.toBe(second?.createdAt);
    });

    it('is not changed by mutating a run it was given or returned', async () => {
      const job = await addJob();
      const run = makeRun(job.id, { id: uid('run') });
      const expected = structuredClone(run);
      await ctx.storage.createRun(run);
      mutateRun(run);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([expected]);

      const [returned] = await ctx.storage.getRuns(job.id, 10);
      mutateRun(returned);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([expected]);

      const update: Run = {
        ...expected,
        status: 'success',
        endAt: at('2030-01-02T03:04:11.000Z'),
      };
      const expectedUpdate = structuredClone(update);
      await ctx.storage.updateRun(update);
      mutateRun(update);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([expectedUpdate]);
    });

    it('returns job dates as Date instances with their milliseconds', async () => {
      const job = await addJob({
        type: 'once',
        cron: null,
        runAt: at('2031-06-07T08:09:10.011Z'),
        nextRunAt: at('2031-06-07T08:09:10.012Z'),
        lastRunAt: at('2031-06-07T08:09:10.987Z'),
        createdAt: at('2031-06-07T08:09:10.001Z'),
        updatedAt: at('2031-06-07T08:09:10.999Z'),
      });
      const stored = await ctx.storage.getJob(job.id);
      for (const field of ['runAt', 'nextRunAt', 'lastRunAt', 'createdAt', 'updatedAt'] as const) {
        withContext(field, () => {
          expect(stored?.[field]).toBeInstanceOf(Date);
          expect(stored?.[field]?.getTime()).toBe(job[field]?.getTime());
        });
      }
    });

    it('returns run dates as Date instances with their milliseconds', async () => {
      const job = await addJob();
      const run = await addRun(job.id, {
        status: 'success',
        startAt: at('2031-06-07T08:09:10.011Z'),
        endAt: at('2031-06-07T08:09:10.999Z'),
        scheduledAt: at('2031-06-07T08:09:10.001Z'),
        createdAt: at('2031-06-07T08:09:10.012Z'),
      });
      const [stored] = await ctx.storage.getRuns(job.id, 1);
      for (const field of ['startAt', 'endAt', 'scheduledAt', 'createdAt'] as const) {
        withContext(field, () => {
          expect(stored?.[field]).toBeInstanceOf(Date);
          expect(stored?.[field]?.getTime()).toBe(run[field]?.getTime());
        });
      }
    });

    it(`round-trips dates in 2040 (${DATE_2040})`, async () => {
      const job = await addJob({
        type: 'once',
        cron: null,
        runAt: at(DATE_2040),
        nextRunAt: at(DATE_2040),
        lastRunAt: at(DATE_2040),
        createdAt: at(DATE_2040),
        updatedAt: at(DATE_2040),
      });
      const run = await addRun(job.id, {
        startAt: at(DATE_2040),
        endAt: at(DATE_2040),
        scheduledAt: at(DATE_2040),
        createdAt: at(DATE_2040),
      });
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([run]);
      expect((await ctx.storage.getJob(job.id))?.runAt?.toISOString()).toBe(DATE_2040);
    });
  });
}

/** The `payloads` tests. */
export function payloadsSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { addJob, only } = ctx;
  describe('payloads', () => {
    for (const [kind, payload] of PAYLOADS) {
      it(`round-trips a payload that is ${kind}`, async () => {
        const created = await addJob({ payload: structuredClone(payload) });
        expect((await ctx.storage.getJob(created.id))?.payload).toStrictEqual(payload);

        const updated = await addJob({ payload: { before: true } });
        await ctx.storage.updateJob({ ...updated, payload: structuredClone(payload) });
        expect((await ctx.storage.getJob(updated.id))?.payload).toStrictEqual(payload);

        const listed = only(await ctx.storage.listJobs(), [created.id, updated.id]);
        expect(listed.map((job) => job.payload)).toStrictEqual([payload, payload]);
      });
    }
  });
}

/** The `listJobs` tests. */
export function listJobsSection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, only } = ctx;
  describe('listJobs', () => {
    it('lists jobs oldest first', async () => {
      const base = Date.parse('2030-03-04T05:06:07.089Z');
      const ids = [uid('a'), uid('b'), uid('c'), uid('d')];
      for (const [i, id] of ids.entries()) {
        const createdAt = new Date(base + i * 1_000);
        await ctx.storage.createJob(makeJob({ id, createdAt, updatedAt: createdAt }));
      }
      expect(only(await ctx.storage.listJobs(), ids).map((job) => job.id)).toStrictEqual(ids);
    });

    it('keeps a job in its place when it is updated', async () => {
      const base = Date.parse('2030-03-04T05:06:07.089Z');
      const jobs: Job[] = [];
      for (let i = 0; i < 3; i++) {
        const createdAt = new Date(base + i * 1_000);
        jobs.push(await addJob({ createdAt, updatedAt: createdAt }));
      }
      const ids = jobs.map((job) => job.id);
      await ctx.storage.updateJob({
        ...jobs[0],
        status: 'paused',
        version: 1,
        updatedAt: new Date(base + 10_000),
      });
      const listed = only(await ctx.storage.listJobs(), ids);
      expect(listed.map((job) => job.id)).toStrictEqual(ids);
      expect(listed[0].status).toBe('paused');
    });

    it('filters by status, keeping the order', async () => {
      const base = Date.parse('2030-03-04T05:06:07.089Z');
      const jobs: Job[] = [];
      for (const [i, status] of [...JOB_STATUSES, 'pending' as const].entries()) {
        const createdAt = new Date(base + i * 1_000);
        jobs.push(await addJob({ status, createdAt, updatedAt: createdAt }));
      }
      const ids = jobs.map((job) => job.id);
      expect(only(await ctx.storage.listJobs(), ids)).toStrictEqual(jobs);
      for (const status of JOB_STATUSES) {
        const listed = await ctx.storage.listJobs(status);
        expect(listed.every((job) => job.status === status)).toBe(true);
        expect(only(listed, ids)).toStrictEqual(jobs.filter((job) => job.status === status));
      }
    });

    it('follows status changes and deletions', async () => {
      const a = await addJob({ status: 'pending' });
      const b = await addJob({ status: 'pending' });
      const ids = [a.id, b.id];
      await ctx.storage.updateJob({ ...a, status: 'paused' });
      expect(only(await ctx.storage.listJobs('pending'), ids).map((job) => job.id)).toStrictEqual([
        b.id,
      ]);
      expect(only(await ctx.storage.listJobs('paused'), ids).map((job) => job.id)).toStrictEqual([
        a.id,
      ]);
      await ctx.storage.deleteJob(b.id);
      expect(only(await ctx.storage.listJobs('pending'), ids)).toStrictEqual([]);
      expect(only(await ctx.storage.listJobs(), ids).map((job) => job.id)).toStrictEqual([a.id]);
    });
  });
}
