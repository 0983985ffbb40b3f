import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import type { Page } from '../../interfaces/history-query.interface.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { rejectionOf } from '../rejection-of.js';
import { type StorageSuite, at, expectError } from './support.js';

/** An instant `minutes` after 2031-03-04T05:00:00.000Z (history tests keep away from the fixtures). */
const t = (minutes: number, ms = 0): Date =>
  new Date(Date.UTC(2031, 2, 4, 5, 0, 0, 0) + minutes * 60_000 + ms);

/** The `findJobs`, `findRuns`, `getRun` and `runStats` tests. */
export function historySection(ctx: StorageSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, addRun } = ctx;

  /** Every item of a walk over all pages of a query, checking each page's size on the way. */
  async function walk<T>(
    page: (cursor: string | null) => Promise<Page<T>>,
    limit: number,
    between?: () => Promise<void>,
  ): Promise<T[][]> {
    const pages: T[][] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 1_000; guard++) {
      const result: Page<T> = await page(cursor);
      pages.push(result.items);
      if (result.nextCursor === null) return pages;
      expect(result.items).toHaveLength(limit);
      cursor = result.nextCursor;
      if (between) await between();
    }
    throw new Error('the walk did not end');
  }

  const ids = (items: ReadonlyArray<Job | Run>): string[] => items.map((item) => item.id);

  const expectInvalid = async (promise: Promise<unknown>, argument: string): Promise<void> => {
    const error = await rejectionOf(promise);
    expectError(expect, error, InvalidArgumentError, 'INVALID_ARGUMENT', `"${argument}"`);
    expect((error as InvalidArgumentError).argument).toBe(argument);
  };

  describe('findJobs', () => {
    it('pages through jobs in (createdAt, id) order, equal instants by id', async () => {
      const handlerName = uid('handler');
      const base = uid('pj');
      const made = [
        await addJob({ id: `${base}-c`, handlerName, createdAt: t(2) }),
        await addJob({ id: `${base}-a`, handlerName, createdAt: t(3) }),
        await addJob({ id: `${base}-b`, handlerName, createdAt: t(1) }),
        await addJob({ id: `${base}-e`, handlerName, createdAt: t(2) }),
        await addJob({ id: `${base}-d`, handlerName, createdAt: t(2) }),
      ];
      const expected = [`${base}-b`, `${base}-c`, `${base}-d`, `${base}-e`, `${base}-a`];
      const pages = await walk(
        (cursor) => ctx.storage.findJobs({ handlerName, limit: 2, cursor }),
        2,
      );
      expect(pages.map(ids)).toStrictEqual([
        expected.slice(0, 2),
        expected.slice(2, 4),
        [expected[4]],
      ]);
      const all = await ctx.storage.findJobs({ handlerName });
      expect(all.nextCursor).toBeNull();
      expect(all.items).toStrictEqual(expected.map((id) => made.find((job) => job.id === id)));
    });

    it('filters by status and handler, and searches id or name case-insensitively', async () => {
      const handlerName = uid('handler');
      const token = uid('tok').replace(/-/g, '');
      const a = await addJob({ handlerName, name: `Nightly ${token.toUpperCase()} report` });
      const b = await addJob({ handlerName, id: `${token}-job`, status: 'paused' });
      await addJob({ handlerName, name: 'other' });
      await addJob({ name: `${token} of another handler` });
      const search = await ctx.storage.findJobs({ handlerName, search: token.toUpperCase() });
      expect(ids(search.items).sort()).toStrictEqual([a.id, b.id].sort());
      const paused = await ctx.storage.findJobs({ handlerName, status: 'paused' });
      expect(ids(paused.items)).toStrictEqual([b.id]);
      const none = await ctx.storage.findJobs({ handlerName, status: 'failed' });
      expect(none).toStrictEqual({ items: [], nextCursor: null });
    });

    it('takes %, _ and ! in search as plain characters', async () => {
      const handlerName = uid('handler');
      const plain = await addJob({ handlerName, name: 'rate 50% off_peak!' });
      await addJob({ handlerName, name: 'rate 500 offXpeak' });
      for (const search of ['50%', 'off_peak', 'peak!', '%', '_']) {
        const found = await ctx.storage.findJobs({ handlerName, search });
        expect([search, ids(found.items)]).toStrictEqual([search, [plain.id]]);
      }
    });

    it('refuses a bad limit, status, handler, search or cursor, naming it', async () => {
      for (const limit of [0, 501, 1.5, -1, '10', Number.NaN]) {
        await expectInvalid(ctx.storage.findJobs({ limit: limit as number }), 'limit');
      }
      await expectInvalid(ctx.storage.findJobs({ status: 'done' as never }), 'status');
      await expectInvalid(ctx.storage.findJobs({ handlerName: '' }), 'handlerName');
      await expectInvalid(ctx.storage.findJobs({ search: 42 as never }), 'search');
      await expectInvalid(ctx.storage.findJobs({ cursor: 'not-a-cursor' }), 'cursor');
      await expectInvalid(ctx.storage.findJobs('all' as never), 'query');
    });

    it('refuses a cursor that was changed, or made for other filters or for runs', async () => {
      const handlerName = uid('handler');
      for (let i = 0; i < 3; i++) await addJob({ handlerName, createdAt: t(i) });
      const first = await ctx.storage.findJobs({ handlerName, limit: 1 });
      const cursor = first.nextCursor as string;
      expect(typeof cursor).toBe('string');
      const [body, check] = cursor.split('.') as [string, string];
      const decoded = Buffer.from(body, 'base64url').toString('utf8');
      const forged = Buffer.from(decoded.replace(/"[^"]*"\]$/, '"zzz"]')).toString('base64url');
      const flipped = `${body.slice(0, -1)}${body.endsWith('A') ? 'B' : 'A'}.${check}`;
      for (const bad of [`${forged}.${check}`, flipped, `${body}.`, body, `${cursor}x`]) {
        await expectInvalid(ctx.storage.findJobs({ handlerName, limit: 1, cursor: bad }), 'cursor');
      }
      await expectInvalid(ctx.storage.findJobs({ handlerName: uid('other'), cursor }), 'cursor');
      await expectInvalid(ctx.storage.findRuns({ cursor }), 'cursor');
      const second = await ctx.storage.findJobs({ handlerName, limit: 1, cursor });
      expect(second.items).toHaveLength(1);
      expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
    });
  });

  describe('findRuns', () => {
    it('pages through a job’s runs newest first by (startAt, id), equal instants by id', async () => {
      const job = await addJob();
      const base = uid('pr');
      const made = [
        await addRun(job.id, { id: `${base}-a`, startAt: t(1) }),
        await addRun(job.id, { id: `${base}-c`, startAt: t(2) }),
        await addRun(job.id, { id: `${base}-b`, startAt: t(2) }),
        await addRun(job.id, { id: `${base}-d`, startAt: t(3) }),
        await addRun(job.id, { id: `${base}-e`, startAt: t(0) }),
      ];
      const expected = [`${base}-d`, `${base}-c`, `${base}-b`, `${base}-a`, `${base}-e`];
      const pages = await walk(
        (cursor) => ctx.storage.findRuns({ jobId: job.id, limit: 2, cursor }),
        2,
      );
      expect(pages.map(ids)).toStrictEqual([
        expected.slice(0, 2),
        expected.slice(2, 4),
        [expected[4]],
      ]);
      const all = await ctx.storage.findRuns({ jobId: job.id });
      expect(all.items).toStrictEqual(expected.map((id) => made.find((run) => run.id === id)));
      expect(all.nextCursor).toBeNull();
    });

    it('filters by status and by start time [from, to), and searches error or output text', async () => {
      const job = await addJob();
      const other = await addJob();
      const token = uid('needle').replace(/-/g, '');
      const old = await addRun(job.id, {
        startAt: t(0),
        status: 'failed',
        error: `Boom ${token.toUpperCase()}`,
      });
      const mid = await addRun(job.id, {
        startAt: t(10),
        status: 'success',
        output: `{"found":"${token}"}`,
      });
      const edge = await addRun(job.id, { startAt: t(20), status: 'failed', error: 'other' });
      const live = await addRun(job.id, { startAt: t(30) });
      const elsewhere = await addRun(other.id, { startAt: t(10), status: 'failed', error: token });
      const find = async (query: object): Promise<string[]> =>
        ids((await ctx.storage.findRuns({ jobId: job.id, ...query })).items);
      expect(await find({ status: 'failed' })).toStrictEqual([edge.id, old.id]);
      expect(await find({ status: 'running' })).toStrictEqual([live.id]);
      expect(await find({ from: t(10), to: t(20) })).toStrictEqual([mid.id]);
      expect(await find({ from: t(10).toISOString() })).toStrictEqual([live.id, edge.id, mid.id]);
      expect(await find({ to: t(10).getTime() })).toStrictEqual([old.id]);
      expect(await find({ search: token })).toStrictEqual([mid.id, old.id]);
      const across = await ctx.storage.findRuns({ search: token });
      expect(ids(across.items).sort()).toStrictEqual([mid.id, old.id, elsewhere.id].sort());
      const failedAcross = await ctx.storage.findRuns({
        search: token,
        status: 'failed',
        limit: 1,
      });
      expect(ids(failedAcross.items)).toStrictEqual([elsewhere.id]);
      const rest = await ctx.storage.findRuns({
        search: token,
        status: 'failed',
        limit: 1,
        cursor: failedAcross.nextCursor,
      });
      expect(ids(rest.items)).toStrictEqual([old.id]);
      expect(rest.nextCursor).toBeNull();
    });

    it('returns each older run exactly once while runs are added during the walk', async () => {
      const job = await addJob();
      const older: Run[] = [];
      for (let i = 0; i < 23; i++) {
        older.push(await addRun(job.id, { startAt: t(i % 7, i), status: 'success' }));
      }
      let added = 0;
      const pages = await walk(
        (cursor) => ctx.storage.findRuns({ jobId: job.id, limit: 5, cursor }),
        5,
        async () => {
          for (let i = 0; i < 3; i++) await addRun(job.id, { startAt: t(100 + added++) });
        },
      );
      const seen = pages.flat().map((run) => run.id);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => older.some((run) => run.id === id)).sort()).toStrictEqual(
        ids(older).sort(),
      );
      expect(added).toBeGreaterThan(0);
    });

    it('sees a run’s later writes', async () => {
      const job = await addJob();
      const run = await addRun(job.id, { startAt: t(1) });
      const ended: Run = {
        ...run,
        status: 'failed',
        endAt: t(2),
        error: 'late failure',
        duration: 60_000,
      };
      await ctx.storage.updateRun(ended);
      expect((await ctx.storage.findRuns({ jobId: job.id, status: 'failed' })).items).toStrictEqual(
        [ended],
      );
      expect(
        (await ctx.storage.findRuns({ jobId: job.id, status: 'running' })).items,
      ).toStrictEqual([]);
    });

    it('refuses bad filters, naming them', async () => {
      await expectInvalid(ctx.storage.findRuns({ limit: 0 }), 'limit');
      await expectInvalid(ctx.storage.findRuns({ limit: 501 }), 'limit');
      await expectInvalid(ctx.storage.findRuns({ status: 'pending' as never }), 'status');
      await expectInvalid(ctx.storage.findRuns({ from: 'yesterday' }), 'from');
      await expectInvalid(ctx.storage.findRuns({ to: new Date(Number.NaN) }), 'to');
      await expectInvalid(ctx.storage.findRuns({ from: t(2), to: t(1) }), 'to');
      await expectInvalid(ctx.storage.findRuns({ jobId: 7 as never }), 'jobId');
      await expectInvalid(ctx.storage.findRuns({ search: 'a\u0000b' }), 'search');
    });
  });

  describe('getRun', () => {
    it('returns the run with that id, or null', async () => {
      const job = await addJob();
      const run = await addRun(job.id, {
        status: 'success',
        output: 'done',
        endAt: t(1),
        duration: 5,
      });
      expect(await ctx.storage.getRun(run.id)).toStrictEqual(run);
      expect(await ctx.storage.getRun(uid('missing'))).toBeNull();
      await expectInvalid(ctx.storage.getRun(''), 'runId');
      await expectInvalid(ctx.storage.getRun(42 as never), 'runId');
    });
  });

  describe('runStats', () => {
    it('counts finished runs per bucket from `from`, with average and longest duration', async () => {
      const job = await addJob();
      const other = await addJob();
      const add = (jobId: string, minutes: number, status: Run['status'], duration: number) =>
        addRun(jobId, {
          startAt: t(minutes),
          status,
          duration,
          endAt: status === 'running' ? null : t(minutes),
        });
      await add(job.id, 0, 'success', 100);
      await add(job.id, 59, 'success', 300);
      await add(job.id, 30, 'failed', 50);
      await add(job.id, 45, 'running', 0);
      await add(job.id, 125, 'failed', 700);
      await add(job.id, 180, 'success', 1); // at `to`: outside
      await add(other.id, 10, 'success', 10);
      const stats = await ctx.storage.runStats({
        jobId: job.id,
        from: t(0),
        to: t(180),
        bucket: '1h',
      });
      expect(stats).toStrictEqual([
        { start: t(0), succeeded: 2, failed: 1, avgDurationMs: 150, maxDurationMs: 300 },
        { start: t(60), succeeded: 0, failed: 0, avgDurationMs: null, maxDurationMs: null },
        { start: t(120), succeeded: 0, failed: 1, avgDurationMs: 700, maxDurationMs: 700 },
      ]);
      const both = await ctx.storage.runStats({ from: t(0), to: t(60), bucket: 3_600_000 });
      expect(both).toHaveLength(1);
      expect(both[0]?.succeeded).toBeGreaterThanOrEqual(3);
      const partial = await ctx.storage.runStats({
        jobId: job.id,
        from: t(0),
        to: t(90),
        bucket: '1h',
      });
      expect(partial.map((row) => row.start)).toStrictEqual([t(0), t(60)]);
    });

    it('puts a run that starts on a bucket’s edge in that bucket, whatever the width', async () => {
      const job = await addJob();
      const from = t(0).getTime();
      for (const offset of [3003, 3002, 4004]) {
        await addRun(job.id, {
          startAt: new Date(from + offset),
          status: 'success',
          duration: offset,
          endAt: new Date(from + offset),
        });
      }
      const stats = await ctx.storage.runStats({
        jobId: job.id,
        from: t(0),
        to: new Date(from + 5005),
        bucket: 1001,
      });
      expect(stats.map((row) => row.succeeded)).toStrictEqual([0, 0, 1, 1, 1]);
      expect(stats[3]?.maxDurationMs).toBe(3003);
    });

    it('refuses a missing from, a to not after from, and a bad or too narrow bucket', async () => {
      await expectInvalid(ctx.storage.runStats({ bucket: '1h' } as never), 'from');
      await expectInvalid(ctx.storage.runStats({ from: t(1), to: t(1), bucket: '1h' }), 'to');
      for (const bucket of ['0s', '500ms', 'hourly', -1, null]) {
        await expectInvalid(
          ctx.storage.runStats({ from: t(0), to: t(60), bucket: bucket as never }),
          'bucket',
        );
      }
      await expectInvalid(
        ctx.storage.runStats({ from: at('2000-01-01T00:00:00Z'), to: t(0), bucket: '1m' }),
        'bucket',
      );
    });
  });
}
