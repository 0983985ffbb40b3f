import { rejectionOf } from '../rejection-of.js';
import { RunAlreadyRecordedError } from '../../errors/run-already-recorded.error.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeRun } from '../fixtures.js';
import { type ClusterSuite, LONG_TTL, PAST_SHORT_TTL, RACERS, SHORT_TTL } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The `createClaimedRun` tests. */
export function claimedRunsSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, lease, claim } = ctx;
  describe('createClaimedRun', () => {
    it('stores a run of a job claimed by the lease', async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const run = makeRun(job.id, { id: uid('run') });
      expect(await ctx.storage.createClaimedRun(run, mine)).toBe(true);
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([run]);
    });

    it('is false, storing nothing, for a job claimed by another lease, unclaimed, or removed', async () => {
      const mine = await lease();
      const theirs = await lease(LONG_TTL, 'other');
      const claimed = await claim(await addJob(), theirs);
      const unclaimed = await addJob();
      const removed = await addJob();
      await ctx.storage.deleteJob(removed.id);
      for (const job of [claimed, unclaimed, removed]) {
        expect(await ctx.storage.createClaimedRun(makeRun(job.id, { id: uid('run') }), mine)).toBe(
          false,
        );
        expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
      }
    });

    it('refuses a fire or a run id recorded already with RunAlreadyRecordedError', async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const first = makeRun(job.id, { id: uid('run') });
      expect(await ctx.storage.createClaimedRun(first, mine)).toBe(true);

      const sameFire = makeRun(job.id, {
        id: uid('run'),
        scheduledAt: first.scheduledAt,
        attempt: first.attempt,
        output: 'twin',
      });
      const error = await rejectionOf(ctx.storage.createClaimedRun(sameFire, mine));
      expect(error).toBeInstanceOf(RunAlreadyRecordedError);
      expect((error as RunAlreadyRecordedError).code).toBe('RUN_ALREADY_RECORDED');
      expect((error as Error).message).toContain(job.id);

      const sameId = makeRun(job.id, { id: first.id, output: 'same id' });
      expect(await rejectionOf(ctx.storage.createClaimedRun(sameId, mine))).toBeInstanceOf(
        RunAlreadyRecordedError,
      );

      // A fire recorded by createRun counts too; a retry (next attempt) is a new fire.
      const plain = makeRun(job.id, { id: uid('run') });
      await ctx.storage.createRun(plain);
      expect(
        await rejectionOf(
          ctx.storage.createClaimedRun(
            makeRun(job.id, { id: uid('run'), scheduledAt: plain.scheduledAt }),
            mine,
          ),
        ),
      ).toBeInstanceOf(RunAlreadyRecordedError);
      const retry = makeRun(job.id, {
        id: uid('run'),
        scheduledAt: first.scheduledAt,
        attempt: first.attempt + 1,
      });
      expect(await ctx.storage.createClaimedRun(retry, mine)).toBe(true);
      expect((await ctx.storage.getRuns(job.id, 10)).map((run) => run.id).sort()).toStrictEqual(
        [first.id, plain.id, retry.id].sort(),
      );
      expect(
        (await ctx.storage.getRuns(job.id, 10)).find((run) => run.id === first.id),
      ).toStrictEqual(first);
    });

    it(`records one fire once when ${RACERS} claims of it race`, async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const fire = makeRun(job.id);
      const runs = Array.from({ length: RACERS }, (_, i) =>
        makeRun(job.id, {
          id: uid('run'),
          scheduledAt: fire.scheduledAt,
          output: `racer ${i}`,
        }),
      );
      const results = await Promise.allSettled(
        runs.map((run) => ctx.storage.createClaimedRun(run, mine)),
      );
      const won = results.filter(
        (result) => result.status === 'fulfilled' && result.value === true,
      );
      expect(won).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(RunAlreadyRecordedError);
        }
      }
      expect(results.filter((result) => result.status === 'rejected').length + won.length).toBe(
        RACERS,
      );
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(1);
      const winner = runs[results.findIndex((result) => result.status === 'fulfilled')];
      expect(await ctx.storage.getRuns(job.id, 10)).toStrictEqual([winner]);
    });
  });
}

/** The `finishRun` tests. */
export function finishRunSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob, lease, claim } = ctx;
  describe('finishRun', () => {
    /** A job claimed by a fresh lease, with one running run. */
    const running = async (): Promise<{ job: Job; run: Run }> => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const run = makeRun(job.id, { id: uid('run') });
      expect(await ctx.storage.createClaimedRun(run, mine)).toBe(true);
      return { job, run };
    };

    const ended = (run: Run, overrides: Partial<Run> = {}): Run => ({
      ...run,
      status: 'success',
      endAt: new Date(run.startAt.getTime() + 1_500),
      output: 'done',
      duration: 1_500,
      traceId: 'trace-1',
      ...overrides,
    });

    it('writes the end of a running run once', async () => {
      const { job, run } = await running();
      const end = ended(run);
      expect(await ctx.storage.finishRun(end)).toBe(true);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([end]);
      const again = ended(run, { status: 'failed', error: 'second', output: '' });
      expect(await ctx.storage.finishRun(again)).toBe(false);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([end]);
    });

    it('never overwrites a run recorded ended by someone else (a run recorded lost)', async () => {
      const { job, run } = await running();
      const lost = ended(run, { status: 'failed', error: 'instance lost', output: '' });
      expect(await ctx.storage.finishRun(lost)).toBe(true);
      expect(await ctx.storage.finishRun(ended(run))).toBe(false);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([lost]);
    });

    it('is false for an unknown run', async () => {
      const job = await addJob();
      expect(await ctx.storage.finishRun(ended(makeRun(job.id, { id: uid('run') })))).toBe(false);
      expect(await ctx.storage.getJobRunCount(job.id)).toBe(0);
    });

    it(`lets exactly one of ${RACERS} concurrent ends of a run win`, async () => {
      const { job, run } = await running();
      const ends = Array.from({ length: RACERS }, (_, i) => ended(run, { output: `end ${i}` }));
      const results = await Promise.all(ends.map((end) => ctx.storage.finishRun(end)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ctx.storage.getRuns(job.id, 1)).toStrictEqual([ends[results.indexOf(true)]]);
    });
  });
}

/** The `findOrphanedJobs` tests. */
export function findOrphanedJobsSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { addJob, lease, claim, claimedBy, orphansAmong, leaseIds } = ctx;
  describe('findOrphanedJobs', () => {
    it('removes the expired leases and lists the jobs of dead leases and running unclaimed ones', async () => {
      const live = await lease(LONG_TTL, 'live');
      const expiring = await lease(SHORT_TTL, 'expiring');
      const released = await lease(LONG_TTL, 'released');
      const ofLive = await claim(await addJob(), live);
      const runningOfLive = await claim(await addJob({ status: 'running' }), live);
      const ofExpired = await claim(await addJob(), expiring);
      const ofReleased = await claim(await addJob(), released);
      const runningUnclaimed = await addJob({ status: 'running' });
      const pending = await addJob();
      const paused = await addJob({ status: 'paused' });
      await ctx.storage.releaseLease(released);
      await sleep(PAST_SHORT_TTL);
      expect(await leaseIds()).toContain(expiring);

      const ids = [ofLive, runningOfLive, ofExpired, ofReleased, runningUnclaimed, pending, paused];
      const expected = [
        { jobId: ofExpired.id, claimedBy: expiring },
        { jobId: ofReleased.id, claimedBy: released },
        { jobId: runningUnclaimed.id, claimedBy: null },
      ].sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
      expect(await orphansAmong(ids.map((job) => job.id))).toStrictEqual(expected);
      const remaining = await leaseIds();
      expect(remaining).toContain(live);
      expect(remaining).not.toContain(expiring);
      expect(remaining).not.toContain(released);

      // Listing changes nothing: the same orphans until a claim is taken over.
      expect(await orphansAmong(ids.map((job) => job.id))).toStrictEqual(expected);
      const next = { ...ofExpired, status: 'pending' as const, version: ofExpired.version + 1 };
      expect(
        await ctx.storage.writeJobIf(next, {
          version: ofExpired.version,
          claimedBy: expiring,
          claim: null,
        }),
      ).toBe(true);
      expect(await orphansAmong([ofExpired.id])).toStrictEqual([]);
    });

    it('forgets a removed job', async () => {
      const gone = await lease();
      const job = await claim(await addJob(), gone);
      await ctx.storage.releaseLease(gone);
      expect(await orphansAmong([job.id])).toStrictEqual([{ jobId: job.id, claimedBy: gone }]);
      await ctx.storage.deleteJob(job.id);
      expect(await orphansAmong([job.id])).toStrictEqual([]);
      // A new job under its id starts unclaimed.
      const again = await addJob({ id: job.id });
      expect(await claimedBy(again.id, null)).toBe(true);
    });
  });
}
