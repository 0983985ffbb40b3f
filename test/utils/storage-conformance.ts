import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JOB_FIELDS, sameFieldValue, type JobField } from '../../lib/core/job-fields.js';
import { JobAlreadyExistsError } from '../../lib/errors/job-already-exists.error.js';
import { JobNotFoundError } from '../../lib/errors/job-not-found.error.js';
import { StorageClosedError } from '../../lib/errors/storage-closed.error.js';
import type { Job, JobStatus, JsonValue } from '../../lib/interfaces/job.interface.js';
import type { Run } from '../../lib/interfaces/run.interface.js';
import {
  isBatchStorage,
  type BatchStorage,
  type JobStorage,
} from '../../lib/interfaces/job-storage.js';
import { makeJob, makeRun } from './fixtures.js';

const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'paused', 'completed', 'failed'];

/** One payload of every JSON kind, plus the strings storages tend to get wrong. */
const PAYLOADS: ReadonlyArray<readonly [string, JsonValue]> = [
  ['an object', { a: 1, b: 'two', c: true, d: null }],
  ['an empty object', {}],
  ['an array', [1, 'two', false, null, { three: 3 }]],
  ['an empty array', []],
  ['a string', 'hello'],
  ['an empty string', ''],
  ['an integer', 42],
  ['zero', 0],
  ['a negative decimal', -12.5],
  ['the largest safe integer', Number.MAX_SAFE_INTEGER],
  ['true', true],
  ['false', false],
  ['null', null],
  [
    'a nested value',
    {
      level1: { level2: { level3: [1, [2, [3, { deep: 'yes' }]]] } },
      list: [{ a: [] }, { b: {} }, [[]]],
    },
  ],
  [
    'unicode and emoji',
    { text: 'héllo wörld — 日本語 中文 한국어 العربية 🎉🚀👩‍💻', 'key 😀': 'ñ', arr: ['🐈', 'é'] },
  ],
  [
    'quotes and escapes',
    {
      text: `it's "quoted" \\ back\\slash /slash\n\ttab\r`,
      sql: "'; DROP TABLE jobs; --",
      'key\'with"quotes': `"'\``,
    },
  ],
  ['a string of quotes', `"'\` \\" \\'`],
  ['a unicode string', 'ünïcödé 🎉 "quoted"'],
];

/** A `Date` from an ISO-8601 string. */
const at = (iso: string): Date => new Date(iso);

/** Past 2038-01-19 (32-bit `TIMESTAMP`), on a leap day, at the last millisecond of the day. */
const DATE_2040 = '2040-02-29T23:59:59.999Z';

/**
 * Defines a `describe` block that checks a storage against the `JobStorage` contract (and the
 * `BatchStorage` one when `isBatchStorage(storage)`): a fresh storage per test from `createStorage`,
 * handed to `cleanup` (if given; it may be closed already) and then closed after the test.
 *
 * Written against the abstract contract only: every test uses ids of its own, so a storage whose data
 * outlives one test (a shared database) passes too.
 */
export function describeStorageConformance(
  name: string,
  createStorage: () => Promise<JobStorage> | JobStorage,
  cleanup?: (s: JobStorage) => Promise<void>,
  /** Whether the storage implements BatchStorage; when true (the default), the batch contract is required. */
  { batch = true }: { batch?: boolean } = {},
): void {
  describe(`${name}: JobStorage conformance`, () => {
    let storage: JobStorage;
    let counter = 0;

    /** A fresh id, unique across tests and runs (and at most 64 characters). */
    const uid = (prefix = 'job'): string => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}`;

    /** Creates and stores a job with a fresh id; returns what was given. */
    const addJob = async (overrides: Partial<Job> = {}): Promise<Job> => {
      const job = makeJob({ id: uid(), ...overrides });
      await storage.createJob(job);
      return job;
    };

    /** Creates and stores a run of `jobId`; returns what was given. */
    const addRun = async (jobId: string, overrides: Partial<Run> = {}): Promise<Run> => {
      const run = makeRun(jobId, { id: uid('run'), ...overrides });
      await storage.createRun(run);
      return run;
    };

    /** The jobs of `list` whose id is in `ids`, in the order of `list`. */
    const only = (list: Job[], ids: readonly string[]): Job[] => {
      const wanted = new Set(ids);
      return list.filter((job) => wanted.has(job.id));
    };

    beforeEach(async () => {
      storage = await createStorage();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(storage);
      await storage.close();
    });

    describe('jobs', () => {
      it('stores a job and returns an equal one', async () => {
        const job = await addJob();
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });

      it('returns null for an unknown id', async () => {
        expect(await storage.getJob(uid('missing'))).toBeNull();
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
        expect(await storage.getJob(once.id)).toStrictEqual(once);
        expect(await storage.getJob(interval.id)).toStrictEqual(interval);
        expect(await storage.getJob(zoned.id)).toStrictEqual(zoned);
      });

      it.each(JOB_STATUSES)('round-trips status %s', async (status) => {
        const job = await addJob({ status });
        expect((await storage.getJob(job.id))?.status).toBe(status);
      });

      it('round-trips a 64-character id and long text fields', async () => {
        const id = uid('long').padEnd(64, 'x');
        const job = makeJob({
          id,
          name: 'n'.repeat(200),
          description: 'd'.repeat(2_000),
          lastResult: 'r'.repeat(10_000),
        });
        await storage.createJob(job);
        expect(id).toHaveLength(64);
        expect(await storage.getJob(id)).toStrictEqual(job);
      });

      it('rejects a second job with a taken id with JobAlreadyExistsError, keeping the first', async () => {
        const job = await addJob({ name: 'first' });
        const error = await rejectionOf(storage.createJob(makeJob({ id: job.id, name: 'second' })));
        expectError(error, JobAlreadyExistsError, 'JOB_ALREADY_EXISTS', job.id);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
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
          version: job.version + 1,
          updatedAt: at('2031-12-31T23:59:00.004Z'),
        };
        // Every field but the id and the creation instant is changed, so none can be left unwritten
        // (a field added to Job and not changed here fails this line).
        const unchanged = (Object.keys(JOB_FIELDS) as JobField[]).filter((field) =>
          sameFieldValue(JOB_FIELDS[field], job[field], updated[field]),
        );
        expect(unchanged).toStrictEqual(['id', 'createdAt']);
        await storage.updateJob(updated);
        expect(await storage.getJob(job.id)).toStrictEqual(updated);
      });

      it('sets nullable fields back to null on updateJob', async () => {
        const job = await addJob({
          timezone: 'Asia/Tokyo',
          runAt: at('2031-01-01T00:00:00.100Z'),
          lastRunAt: at('2031-01-01T00:00:00.200Z'),
        });
        const updated: Job = {
          ...job,
          timezone: null,
          runAt: null,
          nextRunAt: null,
          lastRunAt: null,
        };
        await storage.updateJob(updated);
        expect(await storage.getJob(job.id)).toStrictEqual(updated);
      });

      it('rejects updateJob of an unknown job with JobNotFoundError, creating nothing', async () => {
        const job = makeJob({ id: uid('missing') });
        const error = await rejectionOf(storage.updateJob(job));
        expectError(error, JobNotFoundError, 'JOB_NOT_FOUND', job.id);
        expect(await storage.getJob(job.id)).toBeNull();
      });

      it('deletes a job', async () => {
        const job = await addJob();
        const other = await addJob();
        await storage.deleteJob(job.id);
        expect(await storage.getJob(job.id)).toBeNull();
        expect(only(await storage.listJobs(), [job.id, other.id])).toStrictEqual([other]);
      });

      it('rejects deleteJob of an unknown or already deleted job with JobNotFoundError', async () => {
        const missing = uid('missing');
        expectError(
          await rejectionOf(storage.deleteJob(missing)),
          JobNotFoundError,
          'JOB_NOT_FOUND',
          missing,
        );
        const job = await addJob();
        await storage.deleteJob(job.id);
        expectError(
          await rejectionOf(storage.deleteJob(job.id)),
          JobNotFoundError,
          'JOB_NOT_FOUND',
          job.id,
        );
      });

      it('accepts a new job under the id of a deleted one', async () => {
        const job = await addJob({ name: 'old' });
        await storage.deleteJob(job.id);
        const again = makeJob({ id: job.id, name: 'new' });
        await storage.createJob(again);
        expect(await storage.getJob(job.id)).toStrictEqual(again);
      });
    });

    describe('copies', () => {
      it('is not changed by mutating the job given to createJob', async () => {
        const job = makeJob({ id: uid(), payload: { nested: { list: [1, 2] } } });
        const expected = structuredClone(job);
        await storage.createJob(job);
        mutateJob(job);
        expect(await storage.getJob(expected.id)).toStrictEqual(expected);
      });

      it('is not changed by mutating the job given to updateJob', async () => {
        const job = await addJob();
        const update = makeJob({
          id: job.id,
          name: 'updated',
          payload: { nested: { list: [1, 2] } },
        });
        const expected = structuredClone(update);
        await storage.updateJob(update);
        mutateJob(update);
        expect(await storage.getJob(job.id)).toStrictEqual(expected);
      });

      it('is not changed by mutating a job it returned', async () => {
        const job = await addJob({ payload: { nested: { list: [1, 2] } } });
        const fromGet = await storage.getJob(job.id);
        if (!fromGet) throw new Error('job not found');
        mutateJob(fromGet);
        const fromList = only(await storage.listJobs(), [job.id]);
        expect(fromList).toHaveLength(1);
        mutateJob(fromList[0]);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });

      it('returns a new object on every read', async () => {
        const job = await addJob();
        const first = await storage.getJob(job.id);
        const second = await storage.getJob(job.id);
        expect(first).not.toBe(second);
        expect(first?.createdAt).not.toBe(second?.createdAt);
      });

      it('is not changed by mutating a run it was given or returned', async () => {
        const job = await addJob();
        const run = makeRun(job.id, { id: uid('run') });
        const expected = structuredClone(run);
        await storage.createRun(run);
        mutateRun(run);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([expected]);

        const [returned] = await storage.getRuns(job.id, 10);
        mutateRun(returned);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([expected]);

        const update: Run = {
          ...expected,
          status: 'success',
          endAt: at('2030-01-02T03:04:11.000Z'),
        };
        const expectedUpdate = structuredClone(update);
        await storage.updateRun(update);
        mutateRun(update);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([expectedUpdate]);
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
        const stored = await storage.getJob(job.id);
        for (const field of [
          'runAt',
          'nextRunAt',
          'lastRunAt',
          'createdAt',
          'updatedAt',
        ] as const) {
          expect(stored?.[field], field).toBeInstanceOf(Date);
          expect(stored?.[field]?.getTime(), field).toBe(job[field]?.getTime());
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
        const [stored] = await storage.getRuns(job.id, 1);
        for (const field of ['startAt', 'endAt', 'scheduledAt', 'createdAt'] as const) {
          expect(stored?.[field], field).toBeInstanceOf(Date);
          expect(stored?.[field]?.getTime(), field).toBe(run[field]?.getTime());
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
        expect(await storage.getJob(job.id)).toStrictEqual(job);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([run]);
        expect((await storage.getJob(job.id))?.runAt?.toISOString()).toBe(DATE_2040);
      });
    });

    describe('payloads', () => {
      it.each(PAYLOADS)('round-trips a payload that is %s', async (_kind, payload) => {
        const created = await addJob({ payload: structuredClone(payload) });
        expect((await storage.getJob(created.id))?.payload).toStrictEqual(payload);

        const updated = await addJob({ payload: { before: true } });
        await storage.updateJob({ ...updated, payload: structuredClone(payload) });
        expect((await storage.getJob(updated.id))?.payload).toStrictEqual(payload);

        const listed = only(await storage.listJobs(), [created.id, updated.id]);
        expect(listed.map((job) => job.payload)).toStrictEqual([payload, payload]);
      });
    });

    describe('listJobs', () => {
      it('lists jobs oldest first', async () => {
        const base = Date.parse('2030-03-04T05:06:07.089Z');
        const ids = [uid('a'), uid('b'), uid('c'), uid('d')];
        for (const [i, id] of ids.entries()) {
          const createdAt = new Date(base + i * 1_000);
          await storage.createJob(makeJob({ id, createdAt, updatedAt: createdAt }));
        }
        expect(only(await storage.listJobs(), ids).map((job) => job.id)).toStrictEqual(ids);
      });

      it('keeps a job in its place when it is updated', async () => {
        const base = Date.parse('2030-03-04T05:06:07.089Z');
        const jobs: Job[] = [];
        for (let i = 0; i < 3; i++) {
          const createdAt = new Date(base + i * 1_000);
          jobs.push(await addJob({ createdAt, updatedAt: createdAt }));
        }
        const ids = jobs.map((job) => job.id);
        await storage.updateJob({
          ...jobs[0],
          status: 'paused',
          version: 1,
          updatedAt: new Date(base + 10_000),
        });
        const listed = only(await storage.listJobs(), ids);
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
        expect(only(await storage.listJobs(), ids)).toStrictEqual(jobs);
        for (const status of JOB_STATUSES) {
          const listed = await storage.listJobs(status);
          expect(listed.every((job) => job.status === status)).toBe(true);
          expect(only(listed, ids)).toStrictEqual(jobs.filter((job) => job.status === status));
        }
      });

      it('follows status changes and deletions', async () => {
        const a = await addJob({ status: 'pending' });
        const b = await addJob({ status: 'pending' });
        const ids = [a.id, b.id];
        await storage.updateJob({ ...a, status: 'paused' });
        expect(only(await storage.listJobs('pending'), ids).map((job) => job.id)).toStrictEqual([
          b.id,
        ]);
        expect(only(await storage.listJobs('paused'), ids).map((job) => job.id)).toStrictEqual([
          a.id,
        ]);
        await storage.deleteJob(b.id);
        expect(only(await storage.listJobs('pending'), ids)).toStrictEqual([]);
        expect(only(await storage.listJobs(), ids).map((job) => job.id)).toStrictEqual([a.id]);
      });
    });

    describe('runs', () => {
      it('stores a run and returns an equal one', async () => {
        const job = await addJob();
        const run = await addRun(job.id);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([run]);
        expect(await storage.getJobRunCount(job.id)).toBe(1);
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
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([failed, success]);
      });

      it('rejects createRun for an unknown job with JobNotFoundError, storing nothing', async () => {
        const jobId = uid('missing');
        const error = await rejectionOf(storage.createRun(makeRun(jobId, { id: uid('run') })));
        expectError(error, JobNotFoundError, 'JOB_NOT_FOUND', jobId);
        await storage.createJob(makeJob({ id: jobId }));
        expect(await storage.getJobRunCount(jobId)).toBe(0);
        expect(await storage.getRuns(jobId, 10)).toStrictEqual([]);
      });

      it('returns runs newest first by startAt', async () => {
        const job = await addJob();
        const middle = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.002Z') });
        const oldest = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.001Z') });
        const newest = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.003Z') });
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([newest, middle, oldest]);
      });

      it('orders runs with the same startAt by insertion, the latest first', async () => {
        const job = await addJob();
        const t0 = at('2030-01-02T03:04:20.000Z');
        const t1 = at('2030-01-02T03:04:21.000Z');
        const a = await addRun(job.id, { startAt: t0 });
        const b = await addRun(job.id, { startAt: t0 });
        const c = await addRun(job.id, { startAt: t1 });
        const d = await addRun(job.id, { startAt: t0 });
        expect((await storage.getRuns(job.id, 10)).map((run) => run.id)).toStrictEqual([
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
        expect(await storage.getRuns(job.id, 2)).toStrictEqual(newestFirst.slice(0, 2));
        expect(await storage.getRuns(job.id, 5)).toStrictEqual(newestFirst);
        expect(await storage.getRuns(job.id, 100)).toStrictEqual(newestFirst);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual(newestFirst.slice(0, 1));
      });

      it('returns no runs for a limit of zero or less', async () => {
        const job = await addJob();
        await addRun(job.id);
        expect(await storage.getRuns(job.id, 0)).toStrictEqual([]);
        expect(await storage.getRuns(job.id, -1)).toStrictEqual([]);
        expect(await storage.getRuns(job.id, -100)).toStrictEqual([]);
      });

      it('floors a non-integer limit', async () => {
        const job = await addJob();
        const older = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.001Z') });
        const newer = await addRun(job.id, { startAt: at('2030-01-02T03:04:20.002Z') });
        await addRun(job.id, { startAt: at('2030-01-02T03:04:20.000Z') });
        expect(await storage.getRuns(job.id, 2.9)).toStrictEqual([newer, older]);
        expect(await storage.getRuns(job.id, 1.5)).toStrictEqual([newer]);
        expect(await storage.getRuns(job.id, 0.5)).toStrictEqual([]);
      });

      it('returns no runs and a count of 0 for an unknown job', async () => {
        const jobId = uid('missing');
        expect(await storage.getRuns(jobId, 10)).toStrictEqual([]);
        expect(await storage.getJobRunCount(jobId)).toBe(0);
      });

      it('keeps the runs of each job apart', async () => {
        const a = await addJob();
        const b = await addJob();
        const a1 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.001Z') });
        const b1 = await addRun(b.id, { startAt: at('2030-01-02T03:04:20.002Z') });
        const a2 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.003Z') });
        expect(await storage.getRuns(a.id, 10)).toStrictEqual([a2, a1]);
        expect(await storage.getRuns(b.id, 10)).toStrictEqual([b1]);
        expect(await storage.getJobRunCount(a.id)).toBe(2);
        expect(await storage.getJobRunCount(b.id)).toBe(1);
      });

      it('counts runs', async () => {
        const job = await addJob();
        expect(await storage.getJobRunCount(job.id)).toBe(0);
        for (let i = 0; i < 7; i++) await addRun(job.id);
        expect(await storage.getJobRunCount(job.id)).toBe(7);
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
        await storage.updateRun(finished);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([second, finished]);
        expect(await storage.getJobRunCount(job.id)).toBe(2);
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
        await storage.updateRun(run);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([run, created]);
        expect(await storage.getJobRunCount(job.id)).toBe(2);
      });

      it('ignores updateRun once the job is deleted', async () => {
        const job = await addJob();
        const run = await addRun(job.id);
        await storage.deleteJob(job.id);
        await expect(
          storage.updateRun({ ...run, status: 'success', endAt: at('2030-01-02T03:04:11.000Z') }),
        ).resolves.toBeUndefined();
        await expect(
          storage.updateRun(makeRun(job.id, { id: uid('run') })),
        ).resolves.toBeUndefined();
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([]);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
        await storage.createJob(makeJob({ id: job.id }));
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([]);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
      });

      it('ignores updateRun for a job that never existed', async () => {
        const jobId = uid('missing');
        await expect(
          storage.updateRun(makeRun(jobId, { id: uid('run') })),
        ).resolves.toBeUndefined();
        expect(await storage.getJobRunCount(jobId)).toBe(0);
        await storage.createJob(makeJob({ id: jobId }));
        expect(await storage.getJobRunCount(jobId)).toBe(0);
      });

      it('deletes the runs of a deleted job, and only those', async () => {
        const job = await addJob();
        const other = await addJob();
        for (let i = 0; i < 3; i++) await addRun(job.id);
        const kept = await addRun(other.id);
        await storage.deleteJob(job.id);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([]);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
        await storage.createJob(makeJob({ id: job.id }));
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([]);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
        expect(await storage.getRuns(other.id, 10)).toStrictEqual([kept]);
      });
    });

    // Only batch-capable storages are held to the batch contract (a plain one has no batch methods).
    if (batch) {
      describe('BatchStorage', () => {
        it('is detected as a BatchStorage', () => {
          expect(isBatchStorage(storage)).toBe(true);
        });

        it('updates several jobs with batchUpdateJobs', async () => {
          const batch = batchOf(storage);
          const a = await addJob();
          const b = await addJob();
          const newA: Job = { ...a, status: 'running', version: 1, payload: ['a'] };
          const newB: Job = { ...b, lastResult: 'ok', version: 3, lastRunAt: at(DATE_2040) };
          await batch.batchUpdateJobs([newA, newB]);
          expect(await storage.getJob(a.id)).toStrictEqual(newA);
          expect(await storage.getJob(b.id)).toStrictEqual(newB);
        });

        it('skips jobs that are unknown or deleted in batchUpdateJobs', async () => {
          const batch = batchOf(storage);
          const a = await addJob();
          const gone = await addJob();
          const b = await addJob();
          await storage.deleteJob(gone.id);
          const ghost = makeJob({ id: uid('missing') });
          const newA: Job = { ...a, version: 1, status: 'paused' };
          const newB: Job = { ...b, version: 1, status: 'running' };
          await expect(
            batch.batchUpdateJobs([newA, ghost, { ...gone, version: 1 }, newB]),
          ).resolves.toBeUndefined();
          expect(await storage.getJob(a.id)).toStrictEqual(newA);
          expect(await storage.getJob(b.id)).toStrictEqual(newB);
          expect(await storage.getJob(ghost.id)).toBeNull();
          expect(await storage.getJob(gone.id)).toBeNull();
          expect(only(await storage.listJobs(), [a.id, gone.id, b.id, ghost.id])).toStrictEqual([
            newA,
            newB,
          ]);
        });

        it('is not changed by mutating the jobs given to batchUpdateJobs', async () => {
          const batch = batchOf(storage);
          const job = await addJob();
          const update: Job = { ...job, version: 1, payload: { nested: { list: [1] } } };
          const expected = structuredClone(update);
          await batch.batchUpdateJobs([update]);
          mutateJob(update);
          expect(await storage.getJob(job.id)).toStrictEqual(expected);
        });

        it('updates, inserts and ignores runs with batchUpdateRuns', async () => {
          const batch = batchOf(storage);
          const a = await addJob();
          const b = await addJob();
          const gone = await addJob();
          const a1 = await addRun(a.id, { startAt: at('2030-01-02T03:04:20.001Z') });
          const b1 = await addRun(b.id, { startAt: at('2030-01-02T03:04:20.001Z') });
          const goneRun = await addRun(gone.id);
          await storage.deleteJob(gone.id);

          const doneA1: Run = { ...a1, status: 'success', endAt: at('2030-01-02T03:04:21.000Z') };
          const doneB1: Run = { ...b1, status: 'failed', error: 'nope', duration: 5 };
          const a2 = makeRun(a.id, { id: uid('run'), startAt: at('2030-01-02T03:04:20.002Z') });
          const orphan = makeRun(uid('missing'), { id: uid('run') });
          await expect(
            batch.batchUpdateRuns([doneA1, a2, { ...goneRun, status: 'success' }, orphan, doneB1]),
          ).resolves.toBeUndefined();

          expect(await storage.getRuns(a.id, 10)).toStrictEqual([a2, doneA1]);
          expect(await storage.getRuns(b.id, 10)).toStrictEqual([doneB1]);
          expect(await storage.getJobRunCount(gone.id)).toBe(0);
          expect(await storage.getJobRunCount(orphan.jobId)).toBe(0);
        });

        it('is not changed by mutating the runs given to batchUpdateRuns', async () => {
          const batch = batchOf(storage);
          const job = await addJob();
          const run = makeRun(job.id, { id: uid('run') });
          const expected = structuredClone(run);
          await batch.batchUpdateRuns([run]);
          mutateRun(run);
          expect(await storage.getRuns(job.id, 10)).toStrictEqual([expected]);
        });

        it('accepts empty batches', async () => {
          const batch = batchOf(storage);
          await expect(batch.batchUpdateJobs([])).resolves.toBeUndefined();
          await expect(batch.batchUpdateRuns([])).resolves.toBeUndefined();
        });
      });
    }

    describe('close and ping', () => {
      it('pings while open', async () => {
        await expect(storage.ping()).resolves.toBeUndefined();
      });

      it('closes idempotently', async () => {
        await storage.close();
        await expect(storage.close()).resolves.toBeUndefined();
        await expect(storage.close()).resolves.toBeUndefined();
      });

      it('rejects every other method with StorageClosedError once closed', async () => {
        const job = await addJob();
        const run = await addRun(job.id);
        await storage.close();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['createJob', () => storage.createJob(makeJob({ id: uid() }))],
          ['getJob', () => storage.getJob(job.id)],
          ['updateJob', () => storage.updateJob(job)],
          ['deleteJob', () => storage.deleteJob(job.id)],
          ['listJobs', () => storage.listJobs()],
          ['listJobs(status)', () => storage.listJobs('pending')],
          ['createRun', () => storage.createRun(makeRun(job.id, { id: uid('run') }))],
          ['updateRun', () => storage.updateRun(run)],
          ['getRuns', () => storage.getRuns(job.id, 10)],
          ['getJobRunCount', () => storage.getJobRunCount(job.id)],
          ['ping', () => storage.ping()],
        ];
        if (isBatchStorage(storage)) {
          const batch: BatchStorage = storage;
          calls.push(
            ['batchUpdateJobs', () => batch.batchUpdateJobs([job])],
            ['batchUpdateRuns', () => batch.batchUpdateRuns([run])],
          );
        }
        for (const [method, call] of calls) {
          expectError(await rejectionOf(call()), StorageClosedError, 'STORAGE_CLOSED', '', method);
        }
        await expect(storage.close()).resolves.toBeUndefined();
      });
    });
  });
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

/** Checks an error's class and `code`, and that its message names `mention`. */
function expectError(
  error: unknown,
  errorClass: abstract new (...args: never[]) => Error,
  code: string,
  mention: string,
  context?: string,
): void {
  expect(error, context).toBeInstanceOf(errorClass);
  expect((error as { code?: unknown }).code, context).toBe(code);
  expect((error as Error).message, context).toContain(mention);
}

/** The storage as a `BatchStorage`; fails the test when it is not one. */
function batchOf(storage: JobStorage): JobStorage & BatchStorage {
  if (!isBatchStorage(storage))
    throw new Error('this storage was declared batch-capable but lacks BatchStorage methods');
  return storage;
}

/** Changes every mutable part of a job in place: fields, dates and nested payload. */
function mutateJob(job: Job): void {
  job.name = 'mutated';
  job.status = 'failed';
  job.version += 100;
  job.createdAt.setTime(0);
  job.updatedAt.setTime(0);
  job.nextRunAt?.setTime(0);
  const payload = job.payload as { nested?: { list?: number[] }; added?: boolean } | null;
  if (payload && typeof payload === 'object') {
    payload.nested?.list?.push(99);
    payload.added = true;
  }
}

/** Changes every mutable part of a run in place: fields and dates. */
function mutateRun(run: Run): void {
  run.status = 'failed';
  run.output = 'mutated';
  run.attempt += 100;
  run.startAt.setTime(0);
  run.scheduledAt.setTime(0);
  run.createdAt.setTime(0);
  run.endAt?.setTime(0);
}
