import { rejectionOf } from '../rejection-of.js';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import { isBatchStorage } from '../../interfaces/job-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import { type ClusterSuite, LONG_TTL, PAST_SHORT_TTL, RACERS, SHORT_TTL } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The `writeJobIf` tests. */
export function writeJobIfSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { leaseId, addJob, lease, claim, claimedBy } = ctx;
  describe('writeJobIf', () => {
    it('writes every field once with the version last seen, then refuses the stale version', async () => {
      const job = await addJob();
      const next: Job = {
        ...job,
        name: 'renamed',
        status: 'running',
        payload: { changed: true },
        nextRunAt: new Date('2031-05-06T07:08:09.010Z'),
        lastResult: 'ok',
        version: job.version + 1,
      };
      expect(await ctx.storage.writeJobIf(next, { version: job.version })).toBe(true);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(next);

      const stale = { ...job, name: 'stale', version: job.version + 1 };
      expect(await ctx.storage.writeJobIf(stale, { version: job.version })).toBe(false);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(next);
    });

    it('checks the claim: null for unclaimed, a lease id for claimed by it', async () => {
      const mine = await lease();
      const theirs = await lease(LONG_TTL, 'other');
      const job = await addJob();
      expect(await claimedBy(job.id, null)).toBe(true);
      expect(await claimedBy(job.id, mine)).toBe(false);

      await claim((await ctx.storage.getJob(job.id)) as Job, mine);
      expect(await claimedBy(job.id, mine)).toBe(true);
      expect(await claimedBy(job.id, null)).toBe(false);
      expect(await claimedBy(job.id, theirs)).toBe(false);

      // A second claim of a claimed job fails, even with the right version.
      const claimed = (await ctx.storage.getJob(job.id)) as Job;
      const taken = { ...claimed, version: claimed.version + 1 };
      expect(
        await ctx.storage.writeJobIf(taken, {
          version: claimed.version,
          claimedBy: null,
          claim: theirs,
        }),
      ).toBe(false);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(claimed);

      // Released by its holder.
      const done = (await ctx.storage.getJob(job.id)) as Job;
      const released = { ...done, status: 'pending' as const, version: done.version + 1 };
      expect(
        await ctx.storage.writeJobIf(released, {
          version: done.version,
          claimedBy: mine,
          claim: null,
        }),
      ).toBe(true);
      expect(await claimedBy(job.id, null)).toBe(true);
      expect((await ctx.storage.getJob(job.id))?.status).toBe('pending');
    });

    it('keeps the claim when the condition gives no claim', async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const next = { ...job, lastResult: 'progress', version: job.version + 1 };
      expect(await ctx.storage.writeJobIf(next, { version: job.version })).toBe(true);
      expect(await claimedBy(job.id, mine)).toBe(true);
    });

    it('lets a claim move from one lease to another (a takeover)', async () => {
      const dead = await lease();
      const live = await lease(LONG_TTL, 'other');
      const job = await claim(await addJob(), dead);
      const next = { ...job, version: job.version + 1 };
      expect(
        await ctx.storage.writeJobIf(next, { version: job.version, claimedBy: dead, claim: live }),
      ).toBe(true);
      expect(await claimedBy(job.id, live)).toBe(true);
    });

    it('writes under a lease only while it is live: not once released, nor once expired', async () => {
      const kept = await lease();
      const released = await lease();
      const expiring = await lease(SHORT_TTL);
      let job = await addJob();
      const write = async (by: string): Promise<boolean> => {
        const next = { ...job, version: job.version + 1 };
        const written = await ctx.storage.writeJobIf(next, { version: job.version, lease: by });
        if (written) job = next;
        return written;
      };
      expect(await write(kept)).toBe(true);
      expect(await write(released)).toBe(true);
      expect(await write(expiring)).toBe(true);
      await ctx.storage.releaseLease(released);
      expect(await write(released)).toBe(false);
      await sleep(PAST_SHORT_TTL);
      expect(await write(expiring)).toBe(false);
      expect(await write(leaseId('never-acquired'))).toBe(false);
      expect(await write(kept)).toBe(true);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it('combines version, claim and lease: each one failing refuses the write', async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const next = { ...job, version: job.version + 1 };
      const condition = { version: job.version, claimedBy: mine, lease: mine, claim: null };
      expect(await ctx.storage.writeJobIf(next, { ...condition, version: job.version - 1 })).toBe(
        false,
      );
      expect(await ctx.storage.writeJobIf(next, { ...condition, claimedBy: null })).toBe(false);
      expect(await ctx.storage.writeJobIf(next, { ...condition, lease: leaseId('gone') })).toBe(
        false,
      );
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
      expect(await ctx.storage.writeJobIf(next, condition)).toBe(true);
      expect(await claimedBy(job.id, null)).toBe(true);
    });

    it('is false for a removed job, and creates nothing', async () => {
      const job = await addJob();
      await ctx.storage.deleteJob(job.id);
      expect(
        await ctx.storage.writeJobIf(
          { ...job, version: job.version + 1 },
          { version: job.version },
        ),
      ).toBe(false);
      expect(
        await ctx.storage.writeJobIf(
          { ...job, version: job.version + 1 },
          { version: job.version, claimedBy: null },
        ),
      ).toBe(false);
      expect(await ctx.storage.getJob(job.id)).toBeNull();
    });

    it('never shows the claim in a job: getJob and listJobs return plain Jobs', async () => {
      const mine = await lease();
      const job = await claim(await addJob(), mine);
      const stored = await ctx.storage.getJob(job.id);
      expect(stored).toStrictEqual(job);
      expect(Object.keys(stored as Job)).not.toContain('claimedBy');
      const [listed] = (await ctx.storage.listJobs()).filter((found) => found.id === job.id);
      expect(listed).toStrictEqual(job);
      expect(Object.keys(listed)).not.toContain('claimedBy');
    });

    it('leaves the claim alone on createJob, updateJob and batch updates', async () => {
      const created = await addJob();
      expect(await claimedBy(created.id, null)).toBe(true);

      const mine = await lease();
      const job = await claim((await ctx.storage.getJob(created.id)) as Job, mine);
      const updated = { ...job, name: 'updated', version: job.version + 1 };
      await ctx.storage.updateJob(updated);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(updated);
      expect(await claimedBy(job.id, mine)).toBe(true);
      if (isBatchStorage(ctx.storage)) {
        const current = (await ctx.storage.getJob(job.id)) as Job;
        const batched = { ...current, name: 'batched', version: current.version + 1 };
        await ctx.storage.batchUpdateJobs([batched]);
        expect(await ctx.storage.getJob(job.id)).toStrictEqual(batched);
        expect(await claimedBy(job.id, mine)).toBe(true);
      }
    });

    it('checks lastRunAt when given: the stored instant (to the millisecond), or none for null', async () => {
      const mine = await lease();
      const startedAt = new Date('2031-01-02T03:04:05.678Z');
      const job = await claim(await addJob({ lastRunAt: startedAt }), mine);
      const release = (lastRunAt: Date | null) =>
        ctx.storage.writeJobIf(
          { ...job, status: 'pending', version: job.version + 1 },
          { version: job.version, claimedBy: mine, claim: null, lastRunAt },
        );
      expect(await release(null)).toBe(false);
      expect(await release(new Date(startedAt.getTime() + 1))).toBe(false);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
      expect(await release(new Date(startedAt.getTime()))).toBe(true);
      expect(await claimedBy(job.id, null)).toBe(true);

      const never = await addJob({ lastRunAt: null });
      const next = { ...never, name: 'next', version: never.version + 1 };
      expect(
        await ctx.storage.writeJobIf(next, { version: never.version, lastRunAt: startedAt }),
      ).toBe(false);
      expect(await ctx.storage.writeJobIf(next, { version: never.version, lastRunAt: null })).toBe(
        true,
      );
    });

    it('refuses a bad condition with InvalidArgumentError, writing nothing', async () => {
      const job = await addJob();
      const next = { ...job, version: job.version + 1 };
      for (const condition of [
        null,
        {},
        { version: 1.5 },
        { version: job.version, claimedBy: '' },
        { version: job.version, claim: 7 },
        { version: job.version, lease: null },
        { version: job.version, lastRunAt: 'yesterday' },
        { version: job.version, lastRunAt: new Date(Number.NaN) },
      ]) {
        expect(
          await rejectionOf(ctx.storage.writeJobIf(next, condition as { version: number })),
        ).toBeInstanceOf(InvalidArgumentError);
      }
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(job);
    });

    it(`lets exactly one of ${RACERS} concurrent writers with the same version win`, async () => {
      const job = await addJob();
      const attempts = Array.from({ length: RACERS }, (_, i) => ({
        ...job,
        name: `writer ${i}`,
        version: job.version + 1,
      }));
      const results = await Promise.all(
        attempts.map((attempt) => ctx.storage.writeJobIf(attempt, { version: job.version })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await ctx.storage.getJob(job.id)).toStrictEqual(attempts[results.indexOf(true)]);
    });

    it(`lets exactly one of ${RACERS} instances claim an unclaimed job`, async () => {
      const leases = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => lease(LONG_TTL, `host-${i}`)),
      );
      const job = await addJob();
      const next = { ...job, status: 'running' as const, version: job.version + 1 };
      const results = await Promise.all(
        leases.map((by) =>
          ctx.storage.writeJobIf(next, {
            version: job.version,
            claimedBy: null,
            claim: by,
            lease: by,
          }),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await claimedBy(job.id, leases[results.indexOf(true)])).toBe(true);
    });
  });
}
