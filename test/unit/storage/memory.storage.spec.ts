import { vitestApi } from '../../utils/vitest-api.js';
import { describe, expect, it } from 'vitest';
import { StorageClosedError } from '../../../lib/errors/storage-closed.error.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { JobStorage, isBatchStorage } from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';
import { describeStorageConformance } from '../../../lib/testing/index.js';

describeStorageConformance(vitestApi, 'MemoryStorage', () => new MemoryStorage());

/** Freezes a value and everything reachable from it, as the scheduler does with payloads. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('MemoryStorage', () => {
  it('is a JobStorage and a BatchStorage', () => {
    const storage = new MemoryStorage();
    expect(storage).toBeInstanceOf(JobStorage);
    expect(isBatchStorage(storage)).toBe(true);
  });

  it("records a run's end through a subclass's own writes, the job only once the run is written", async () => {
    const writes: string[] = [];
    class Failing extends MemoryStorage {
      failRun = false;
      override updateRun(run: Run): Promise<void> {
        writes.push(`run ${run.status}`);
        return this.failRun ? Promise.reject(new Error('run write failed')) : super.updateRun(run);
      }
      override updateJob(job: Job): Promise<void> {
        writes.push(`job ${job.status}`);
        return super.updateJob(job);
      }
    }
    const storage = new Failing();
    const job = makeJob();
    await storage.createJob(job);
    const run = makeRun(job.id);
    await storage.createRun(run);
    await storage.recordRunEnd({ ...run, status: 'success' }, { ...job, status: 'completed' });
    expect(writes).toEqual(['run success', 'job completed']);
    storage.failRun = true;
    await expect(
      storage.recordRunEnd({ ...run, status: 'failed' }, { ...job, status: 'failed' }),
    ).rejects.toThrow('run write failed');
    expect(writes).toEqual(['run success', 'job completed', 'run failed']);
    expect((await storage.getJob(job.id))?.status).toBe('completed');
  });

  describe('bounded run history', () => {
    const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);
    async function withRuns(
      storage: MemoryStorage,
      count: number,
      status: Run['status'] = 'success',
    ) {
      const job = makeJob();
      await storage.createJob(job);
      const runs: Run[] = [];
      for (let i = 0; i < count; i++) {
        const run = makeRun(job.id, { status, startAt: at(runs.length * 1000) });
        await storage.createRun(run);
        runs.push(run);
      }
      return { job, runs };
    }

    it('keeps the newest maxRunsPerJob runs of each job (1000 by default)', async () => {
      const storage = new MemoryStorage();
      const { job, runs } = await withRuns(storage, 1_005);
      expect(await storage.getJobRunCount(job.id)).toBe(1_000);
      const kept = await storage.getRuns(job.id, 2_000);
      expect(kept[0]).toEqual(runs[1_004]);
      expect(kept.at(-1)).toEqual(runs[5]);
      const small = new MemoryStorage({ maxRunsPerJob: 3 });
      const other = await withRuns(small, 5);
      expect((await small.getRuns(other.job.id, 10)).map((r) => r.id)).toEqual(
        other.runs
          .slice(2)
          .reverse()
          .map((r) => r.id),
      );
    });

    it('never drops a run still running: the oldest finished one goes instead', async () => {
      const storage = new MemoryStorage({ maxRunsPerJob: 2 });
      const { job, runs } = await withRuns(storage, 1, 'running');
      for (let i = 1; i <= 3; i++) {
        const run = makeRun(job.id, { status: 'success', startAt: at(i * 1000) });
        await storage.createRun(run);
        runs.push(run);
      }
      expect((await storage.getRuns(job.id, 10)).map((r) => r.id)).toEqual([
        runs[3]!.id,
        runs[0]!.id,
      ]);
      // Ended now, it is an ordinary run: the next one to go.
      await storage.updateRun({ ...runs[0]!, status: 'success' });
      await storage.createRun(makeRun(job.id, { status: 'success', startAt: at(5_000) }));
      expect((await storage.getRuns(job.id, 10)).map((r) => r.id)).not.toContain(runs[0]!.id);
    });

    it('keeps the newest maxRuns of all jobs, the oldest of all going first', async () => {
      const storage = new MemoryStorage({ maxRuns: 4 });
      const [a, b] = [makeJob(), makeJob()];
      await storage.createJob(a);
      await storage.createJob(b);
      const made: Run[] = [];
      for (let i = 0; i < 6; i++) {
        const run = makeRun(i % 2 === 0 ? a.id : b.id, {
          status: 'success',
          startAt: at(i * 1000),
        });
        await storage.createRun(run);
        made.push(run);
      }
      expect(await storage.getJobRunCount(a.id)).toBe(2);
      expect(await storage.getJobRunCount(b.id)).toBe(2);
      const kept = [...(await storage.getRuns(a.id, 10)), ...(await storage.getRuns(b.id, 10))];
      expect(kept.map((r) => r.id).sort()).toEqual(
        made
          .slice(2)
          .map((r) => r.id)
          .sort(),
      );
      // A deleted job's runs no longer count: the next 4 runs are all kept.
      await storage.deleteJob(a.id);
      await storage.deleteJob(b.id);
      const { job } = await withRuns(storage, 4);
      expect(await storage.getJobRunCount(job.id)).toBe(4);
    });

    it('stays within its bounds over many runs, pruned and deleted ones included', async () => {
      const storage = new MemoryStorage({ maxRunsPerJob: 50, maxRuns: 400 });
      const jobs = [] as Job[];
      for (let j = 0; j < 20; j++) {
        const job = makeJob();
        await storage.createJob(job);
        jobs.push(job);
      }
      for (let i = 0; i < 5_000; i++) {
        await storage.createRun(makeRun(jobs[i % 20]!.id, { status: 'failed', startAt: at(i) }));
        if (i % 997 === 0) await storage.pruneRuns({ maxRunsPerJob: 5, limit: 30 });
      }
      const counts = async () => Promise.all(jobs.map((job) => storage.getJobRunCount(job.id)));
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      // The last prune took 30 runs after which 14 came: below the bound by 16.
      expect(sum(await counts())).toBe(384);
      for (let i = 0; i < 100; i++) {
        await storage.createRun(
          makeRun(jobs[i % 20]!.id, { status: 'success', startAt: at(9_000 + i) }),
        );
      }
      expect(sum(await counts())).toBe(400);
      expect(Math.max(...(await counts()))).toBeLessThanOrEqual(50);
    });

    it('refuses a bad bound, naming it', () => {
      for (const [option, value] of [
        ['maxRunsPerJob', 0],
        ['maxRunsPerJob', 1.5],
        ['maxRunsPerJob', '10'],
        ['maxRuns', -1],
        ['maxRuns', NaN],
      ] as const) {
        expect(() => new MemoryStorage({ [option]: value })).toThrow(
          expect.objectContaining({ code: 'INVALID_OPTIONS', option }),
        );
      }
      expect(() => new MemoryStorage({ maxRunsPerJob: Infinity, maxRuns: Infinity })).not.toThrow();
    });
  });

  // A job's runs are found by a scan below 16 runs and by an index from then on: both ways.
  it('updates a run in place by its id, with few runs and with many', async () => {
    const storage = new MemoryStorage();
    const job = makeJob();
    await storage.createJob(job);
    const runs: Run[] = [];
    for (let i = 0; i < 40; i++) {
      const run = makeRun(job.id, { startAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)) });
      await storage.createRun(run);
      runs.push(run);
      // The first run, updated while the job has 1, 15, 16 and 40 runs.
      if ([1, 15, 16, 40].includes(i + 1)) {
        await storage.updateRun({ ...run, status: 'success' });
        runs[0] = { ...runs[0]!, status: 'success', output: `at ${i + 1}` };
        await storage.updateRun(runs[0]);
      }
    }
    const stored = await storage.getRuns(job.id, 100);
    expect(stored).toHaveLength(40);
    expect(stored.at(-1)).toMatchObject({ id: runs[0]!.id, output: 'at 40' });
    expect(stored.filter((r) => r.status === 'success').map((r) => r.id)).toStrictEqual(
      [40, 16, 15, 1].map((n) => runs[n - 1]!.id),
    );
  });

  describe('payloads', () => {
    it('shares a deeply frozen payload instead of copying it', async () => {
      const storage = new MemoryStorage();
      const payload = deepFreeze({ nested: { list: [1, 2, 3] }, text: 'hi' });
      const job = makeJob({ payload });
      await storage.createJob(job);
      expect((await storage.getJob(job.id))?.payload).toBe(payload);
      expect((await storage.listJobs())[0].payload).toBe(payload);

      const next = deepFreeze(['other']);
      await storage.updateJob({ ...job, payload: next });
      expect((await storage.getJob(job.id))?.payload).toBe(next);
    });

    it('shares a payload whose root is frozen (the root is the test)', async () => {
      const storage = new MemoryStorage();
      const payload = Object.freeze({ nested: { n: 1 } });
      const job = makeJob({ payload });
      await storage.createJob(job);
      expect((await storage.getJob(job.id))?.payload).toBe(payload);
    });

    it('clones an unfrozen payload on write and on every read', async () => {
      const storage = new MemoryStorage();
      const payload = { nested: { list: [1, 2, 3] } };
      const job = makeJob({ payload });
      await storage.createJob(job);
      const first = (await storage.getJob(job.id))?.payload;
      const second = (await storage.getJob(job.id))?.payload;
      expect(first).toStrictEqual(payload);
      expect(first).not.toBe(payload);
      expect(second).not.toBe(first);
      expect((first as typeof payload).nested).not.toBe((second as typeof payload).nested);

      payload.nested.list.push(4);
      expect((await storage.getJob(job.id))?.payload).toStrictEqual({
        nested: { list: [1, 2, 3] },
      });
    });

    it('writes nothing from a batch whose payload cannot be cloned', async () => {
      const storage = new MemoryStorage();
      const a = makeJob();
      const b = makeJob();
      await storage.createJob(a);
      await storage.createJob(b);
      await expect(
        storage.batchUpdateJobs([
          { ...a, version: 1 },
          { ...b, version: 1, payload: { notJson: () => 1 } },
        ]),
      ).rejects.toThrow();
      expect(await storage.getJob(a.id)).toStrictEqual(a);
      expect(await storage.getJob(b.id)).toStrictEqual(b);
    });
  });

  it('keeps only the Job fields', async () => {
    const storage = new MemoryStorage();
    const job = makeJob();
    await storage.createJob({ ...job, extra: 'dropped' } as Job);
    expect(await storage.getJob(job.id)).toStrictEqual(job);
  });

  it('lists jobs in creation order, whatever their createdAt', async () => {
    const storage = new MemoryStorage();
    const late = makeJob({ createdAt: new Date('2031-01-01T00:00:00.000Z') });
    const early = makeJob({ createdAt: new Date('2029-01-01T00:00:00.000Z') });
    const same = makeJob({ createdAt: new Date('2029-01-01T00:00:00.000Z') });
    for (const job of [late, early, same]) await storage.createJob(job);
    expect((await storage.listJobs()).map((job) => job.id)).toStrictEqual([
      late.id,
      early.id,
      same.id,
    ]);
  });

  it('names itself in StorageClosedError', async () => {
    const storage = new MemoryStorage();
    await storage.close();
    const error = await storage.getJob('x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StorageClosedError);
    expect((error as Error).message).toContain('MemoryStorage');
  });

  describe('runs', () => {
    it('replaces a run on createRun with a taken run id, keeping its place', async () => {
      const storage = new MemoryStorage();
      const job = makeJob();
      await storage.createJob(job);
      const first = makeRun(job.id);
      const second = makeRun(job.id);
      await storage.createRun(first);
      await storage.createRun(second);
      const again: Run = { ...first, status: 'success', output: 'again' };
      await storage.createRun(again);
      expect(await storage.getRuns(job.id, 10)).toStrictEqual([second, again]);
      expect(await storage.getJobRunCount(job.id)).toBe(2);
    });

    it('pages the newest of many runs, including ones inserted out of order', async () => {
      const storage = new MemoryStorage();
      const job = makeJob();
      await storage.createJob(job);
      const base = Date.UTC(2030, 0, 1);
      const runs: Run[] = [];
      for (let i = 0; i < 10_000; i++) {
        const run = makeRun(job.id, { id: `run-${i}`, startAt: new Date(base + i) });
        runs.push(run);
        await storage.createRun(run);
      }
      expect(await storage.getJobRunCount(job.id)).toBe(10_000);
      expect((await storage.getRuns(job.id, 3)).map((run) => run.id)).toStrictEqual([
        'run-9999',
        'run-9998',
        'run-9997',
      ]);

      // An old run arriving late sorts by its startAt; a tie goes to the later insertion.
      await storage.createRun(makeRun(job.id, { id: 'late', startAt: new Date(base + 9_998) }));
      await storage.createRun(makeRun(job.id, { id: 'old', startAt: new Date(base - 1) }));
      expect((await storage.getRuns(job.id, 3)).map((run) => run.id)).toStrictEqual([
        'run-9999',
        'late',
        'run-9998',
      ]);
      const all = await storage.getRuns(job.id, Number.POSITIVE_INFINITY);
      expect(all).toHaveLength(10_002);
      expect(all.at(-1)?.id).toBe('old');

      // Moving a run's startAt on update moves it in the order.
      await storage.updateRun({ ...runs[0], startAt: new Date(base + 20_000) });
      expect((await storage.getRuns(job.id, 2)).map((run) => run.id)).toStrictEqual([
        'run-0',
        'run-9999',
      ]);
    });

    it('returns no runs for a NaN limit', async () => {
      const storage = new MemoryStorage();
      const job = makeJob();
      await storage.createJob(job);
      await storage.createRun(makeRun(job.id));
      expect(await storage.getRuns(job.id, Number.NaN)).toStrictEqual([]);
    });
  });
});
