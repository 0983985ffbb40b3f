import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeRun } from '../fixtures.js';
import { rejectionOf } from '../rejection-of.js';
import { RACERS, SHORT_TTL, PAST_SHORT_TTL, type ClusterSuite } from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The batched methods (optional: `claimJobs`, `createClaimedRuns`, `finishRunsAndReleaseJobs`):
 * each item judged as its single statement would judge it, in one go, answers in order.
 */
export function batchedSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, lease, claim, claimedBy } = ctx;

  /** The job as the claim writes it: `running`, one version on. */
  const running = (job: Job): Job => ({ ...job, status: 'running', version: job.version + 1 });

  describe('claimJobs (optional)', () => {
    it('claims each job still at its version and unclaimed, and no other; answers in order', async () => {
      const claimJobs = ctx.storage.claimJobs?.bind(ctx.storage);
      if (claimJobs === undefined) return;
      const mine = await lease();
      const other = await lease();
      const free = await addJob();
      const moved = await addJob();
      const taken = await claim(await addJob(), other);
      const gone = { ...(await addJob()), id: uid('gone') };
      const answers = await claimJobs(
        [
          { job: running(free), version: free.version },
          { job: running(moved), version: moved.version + 3 },
          { job: running(taken), version: taken.version },
          { job: running(gone), version: gone.version },
        ],
        mine,
      );
      expect(answers).toStrictEqual([true, false, false, false]);
      expect(await ctx.storage.getJob(free.id)).toStrictEqual(running(free));
      expect(await claimedBy(free.id, mine)).toBe(true);
      expect(await ctx.storage.getJob(moved.id)).toStrictEqual(moved);
      expect(await claimedBy(moved.id, null)).toBe(true);
      expect(await claimedBy(taken.id, other)).toBe(true);
      expect(await claimJobs([], mine)).toStrictEqual([]);
    });

    it('claims nothing with an expired lease', async () => {
      const claimJobs = ctx.storage.claimJobs?.bind(ctx.storage);
      if (claimJobs === undefined) return;
      const short = await lease(SHORT_TTL);
      const job = await addJob();
      await sleep(PAST_SHORT_TTL);
      expect(await claimJobs([{ job: running(job), version: job.version }], short)).toStrictEqual([
        false,
      ]);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('gives each job to exactly one of many instances claiming the same batch at once', async () => {
      const claimJobs = ctx.storage.claimJobs?.bind(ctx.storage);
      if (claimJobs === undefined) return;
      const jobs = await Promise.all(Array.from({ length: 30 }, () => addJob()));
      const leases = await Promise.all(Array.from({ length: RACERS / 4 }, () => lease()));
      // Each racer claims the whole batch, in its own order.
      const answers = await Promise.all(
        leases.map((l, r) => {
          const order = r % 2 === 0 ? jobs : [...jobs].reverse();
          return claimJobs(
            order.map((job) => ({ job: running(job), version: job.version })),
            l,
          ).then((won) => won.map((w, i) => (w ? (order[i] as Job).id : null)));
        }),
      );
      const won = answers.flat().filter((id): id is string => id !== null);
      expect(won.length).toBeLessThanOrEqual(jobs.length);
      expect(new Set(won).size).toBe(won.length);
      for (const job of jobs) {
        const winners = leases.filter((_, r) => answers[r]!.includes(job.id));
        if (winners.length === 1) expect(await claimedBy(job.id, winners[0]!)).toBe(true);
        else expect(await claimedBy(job.id, null)).toBe(true);
      }
    });

    it('refuses a batch naming a job twice, writing nothing', async () => {
      const claimJobs = ctx.storage.claimJobs?.bind(ctx.storage);
      if (claimJobs === undefined) return;
      const mine = await lease();
      const job = await addJob();
      const claims = [
        { job: running(job), version: job.version },
        { job: running(job), version: job.version },
      ];
      expect(await rejectionOf(claimJobs(claims, mine))).toBeInstanceOf(InvalidArgumentError);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('refuses what is not a batch (not an array, an item without its id) on each method', async () => {
      const mine = await lease();
      const storage = ctx.storage;
      const calls: Array<Promise<unknown> | undefined> = [
        storage.claimJobs?.('nope' as never, mine),
        storage.claimJobs?.([{ version: 1 }] as never, mine),
        storage.createClaimedRuns?.({} as never, mine),
        storage.createClaimedRuns?.([null] as never, mine),
        storage.finishRunsAndReleaseJobs?.(7 as never),
        storage.finishRunsAndReleaseJobs?.([{ version: 1, claimedBy: mine }] as never),
      ];
      for (const call of calls) {
        if (call !== undefined)
          expect(await rejectionOf(call)).toBeInstanceOf(InvalidArgumentError);
      }
    });
  });

  describe('createClaimedRuns (optional)', () => {
    it('stores each run whose job is claimed so, and not a recorded fire; answers in order', async () => {
      const createClaimedRuns = ctx.storage.createClaimedRuns?.bind(ctx.storage);
      if (createClaimedRuns === undefined) return;
      const mine = await lease();
      const a = await claim(await addJob(), mine);
      const b = await claim(await addJob(), mine);
      const unclaimed = await addJob();
      const recorded = makeRun(b.id, { id: uid('run') });
      expect(await ctx.storage.createClaimedRun(recorded, mine)).toBe(true);
      const runs: Run[] = [
        makeRun(a.id, { id: uid('run') }),
        makeRun(unclaimed.id, { id: uid('run') }),
        { ...recorded, id: uid('run') }, // the same fire again
      ];
      expect(await createClaimedRuns(runs, mine)).toStrictEqual([true, false, false]);
      expect(await ctx.storage.getRuns(a.id, 5)).toStrictEqual([runs[0]]);
      expect(await ctx.storage.getRuns(unclaimed.id, 5)).toStrictEqual([]);
      expect(await ctx.storage.getRuns(b.id, 5)).toStrictEqual([recorded]);
      expect(await createClaimedRuns([], mine)).toStrictEqual([]);
    });
  });

  describe('finishRunsAndReleaseJobs (optional)', () => {
    it("writes each run's end and then its job released, both or neither; answers in order", async () => {
      const finishRunsAndReleaseJobs = ctx.storage.finishRunsAndReleaseJobs?.bind(ctx.storage);
      if (finishRunsAndReleaseJobs === undefined) return;
      const mine = await lease();
      const started = async () => {
        const job = await claim(await addJob(), mine);
        const run = makeRun(job.id, { id: uid('run') });
        expect(await ctx.storage.createClaimedRun(run, mine)).toBe(true);
        const end: Run = { ...run, status: 'success', endAt: run.startAt, output: 'ok' };
        const after: Job = {
          ...job,
          status: 'pending',
          lastResult: 'ok',
          version: job.version + 1,
        };
        return { job, run, end, after };
      };
      const ok = await started();
      const changed = await started();
      const lost = await started();
      const lostRecord: Run = { ...lost.run, status: 'failed', endAt: lost.run.startAt };
      expect(await ctx.storage.finishRun(lostRecord)).toBe(true);
      const outcomes = await finishRunsAndReleaseJobs([
        { run: ok.end, job: ok.after, version: ok.job.version, claimedBy: mine },
        { run: changed.end, job: changed.after, version: changed.job.version + 5, claimedBy: mine },
        { run: lost.end, job: lost.after, version: lost.job.version, claimedBy: mine },
      ]);
      expect(outcomes).toStrictEqual([
        { finished: true, released: true },
        { finished: true, released: false },
        { finished: false, released: false },
      ]);
      expect(await ctx.storage.getRuns(ok.job.id, 1)).toStrictEqual([ok.end]);
      expect(await ctx.storage.getJob(ok.job.id)).toStrictEqual(ok.after);
      expect(await claimedBy(ok.job.id, null)).toBe(true);
      expect(await ctx.storage.getRuns(changed.job.id, 1)).toStrictEqual([changed.end]);
      expect(await ctx.storage.getJob(changed.job.id)).toStrictEqual(changed.job);
      expect(await claimedBy(changed.job.id, mine)).toBe(true);
      expect(await ctx.storage.getRuns(lost.job.id, 1)).toStrictEqual([lostRecord]);
      expect(await ctx.storage.getJob(lost.job.id)).toStrictEqual(lost.job);
      expect(await finishRunsAndReleaseJobs([])).toStrictEqual([]);
    });
  });
}
