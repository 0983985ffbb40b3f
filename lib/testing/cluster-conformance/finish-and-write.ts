import type { ClusterStorage } from '../../interfaces/cluster-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeRun } from '../fixtures.js';
import type { ClusterSuite } from './support.js';

/**
 * The `finishRunAndWriteJob` tests, for a storage that has it (optional): the run's end and the
 * job's write land both or neither, the job only after the run's end.
 */
export function finishRunAndWriteJobSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, lease, claim, claimedBy } = ctx;
  describe('finishRunAndWriteJob (optional)', () => {
    /** The storage's method, or null (the test then checks nothing: the method is optional). */
    const method = (): NonNullable<ClusterStorage['finishRunAndWriteJob']> | null =>
      ctx.storage.finishRunAndWriteJob?.bind(ctx.storage) ?? null;

    /** A job claimed by a fresh lease, with one running run; the run ended and the job released. */
    const running = async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const run = makeRun(job.id, { id: uid('run') });
      expect(await ctx.storage.createClaimedRun(run, mine)).toBe(true);
      const end: Run = {
        ...run,
        status: 'success',
        endAt: run.startAt,
        output: 'done',
        duration: 3,
      };
      const after: Job = {
        ...job,
        status: 'pending',
        lastResult: 'done',
        version: job.version + 1,
      };
      return { mine, job, run, end, after };
    };

    it("writes the run's end and the job, releasing its claim, in one go", async () => {
      const both = method();
      if (both === null) return;
      const { mine, job, end, after } = await running();
      expect(
        await both(end, after, { version: job.version, claimedBy: mine, claim: null }),
      ).toStrictEqual({
        finished: true,
        released: true,
      });
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([end]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(after);
      expect(await claimedBy(job.id, null)).toBe(true);
    });

    it('writes the run but not the job when the condition fails (another version, another claim)', async () => {
      const both = method();
      if (both === null) return;
      const { mine, job, end, after } = await running();
      const outcome = await both(end, after, {
        version: job.version + 7,
        claimedBy: mine,
        claim: null,
      });
      expect(outcome).toStrictEqual({ finished: true, released: false });
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([end]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
      expect(await claimedBy(job.id, mine)).toBe(true);
    });

    it('writes neither when the run is no longer running (recorded lost elsewhere)', async () => {
      const both = method();
      if (both === null) return;
      const { mine, job, run, end, after } = await running();
      const lost: Run = { ...run, status: 'failed', endAt: run.startAt, error: 'instance lost' };
      expect(await ctx.storage.finishRun(lost)).toBe(true);
      expect(
        await both(end, after, { version: job.version, claimedBy: mine, claim: null }),
      ).toStrictEqual({
        finished: false,
        released: false,
      });
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([lost]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });
  });
}
