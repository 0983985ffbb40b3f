import { rejectionOf } from '../rejection-of.js';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import { MAX_LEASE_ID_LENGTH } from '../../interfaces/cluster-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import { makeJob } from '../fixtures.js';
import { type ClusterSuite, LONG_TTL, PAST_SHORT_TTL, SHORT_TTL } from './support.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The `leases` tests. */
export function leasesSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { leaseId, lease, leaseIds } = ctx;
  describe('leases', () => {
    it('acquires a lease that expires ttl after the database now, and lists it', async () => {
      const before = await ctx.storage.clusterNow();
      const id = await lease(LONG_TTL, 'host-a');
      const after = await ctx.storage.clusterNow();
      const [record] = (await ctx.storage.listLeases()).filter((found) => found.id === id);
      expect(record).toStrictEqual({
        id,
        instanceId: 'host-a',
        acquiredAt: expect.any(Number),
        expiresAt: record.acquiredAt + LONG_TTL,
      });
      expect(record.acquiredAt).toBeGreaterThanOrEqual(before);
      expect(record.acquiredAt).toBeLessThanOrEqual(after);
    });

    it('lists leases oldest first', async () => {
      const first = await lease();
      await sleep(5);
      const second = await lease();
      await sleep(5);
      const third = await lease();
      const mine = new Set([first, second, third]);
      expect((await leaseIds()).filter((id) => mine.has(id))).toStrictEqual([first, second, third]);
    });

    it('refuses a lease id that is taken', async () => {
      const id = await lease();
      expect(await rejectionOf(ctx.storage.acquireLease(id, 'instance', LONG_TTL))).toBeInstanceOf(
        InvalidArgumentError,
      );
      expect((await leaseIds()).filter((found) => found === id)).toHaveLength(1);
    });

    it('renews a live lease from the database now', async () => {
      const id = await lease(SHORT_TTL * 2);
      await sleep(SHORT_TTL);
      expect(await ctx.storage.renewLease(id, LONG_TTL)).toBe(true);
      const now = await ctx.storage.clusterNow();
      const [record] = (await ctx.storage.listLeases()).filter((found) => found.id === id);
      expect(record.expiresAt).toBeGreaterThan(now + LONG_TTL - 2_000);
      expect(record.expiresAt).toBeLessThanOrEqual(now + LONG_TTL);
      // Expired by the old ttl, live by the new one.
      await sleep(SHORT_TTL * 2);
      expect(await ctx.storage.renewLease(id, LONG_TTL)).toBe(true);
    });

    it('does not renew a lease that expired (database clock), which stays listed until removed', async () => {
      const id = await lease(SHORT_TTL);
      await sleep(PAST_SHORT_TTL);
      expect(await ctx.storage.renewLease(id, LONG_TTL)).toBe(false);
      expect(await leaseIds()).toContain(id);
      await ctx.storage.findOrphanedJobs();
      expect(await leaseIds()).not.toContain(id);
      expect(await ctx.storage.renewLease(id, LONG_TTL)).toBe(false);
    });

    it('releases a lease (idempotent): it is gone and cannot be renewed', async () => {
      const id = await lease();
      const other = await lease();
      await ctx.storage.releaseLease(id);
      await ctx.storage.releaseLease(id);
      await ctx.storage.releaseLease(leaseId('never-acquired'));
      expect(await leaseIds()).not.toContain(id);
      expect(await leaseIds()).toContain(other);
      expect(await ctx.storage.renewLease(id, LONG_TTL)).toBe(false);
      expect(await ctx.storage.renewLease(other, LONG_TTL)).toBe(true);
    });

    it('refuses bad lease ids and ttls with InvalidArgumentError', async () => {
      const id = leaseId();
      for (const call of [
        () => ctx.storage.acquireLease('', 'instance', LONG_TTL),
        () => ctx.storage.acquireLease('x'.repeat(MAX_LEASE_ID_LENGTH + 1), 'instance', LONG_TTL),
        () => ctx.storage.acquireLease(id, '', LONG_TTL),
        () => ctx.storage.acquireLease(id, 'instance', 0),
        () => ctx.storage.acquireLease(id, 'instance', Number.NaN),
        () => ctx.storage.renewLease(id, -1),
        () => ctx.storage.releaseLease(42 as unknown as string),
      ]) {
        expect(await rejectionOf(call())).toBeInstanceOf(InvalidArgumentError);
      }
      expect(await leaseIds()).not.toContain(id);
      // The longest id is taken.
      const longest = `${leaseId()}#`.padEnd(MAX_LEASE_ID_LENGTH, 'x');
      await ctx.storage.acquireLease(longest, 'i'.repeat(MAX_LEASE_ID_LENGTH), LONG_TTL);
      expect(await leaseIds()).toContain(longest);
    });
  });
}

/** The `listJobVersions and getJobsById` tests. */
export function listJobVersionsAndGetJobsByIdSection(ctx: ClusterSuite): void {
  const { describe, it, expect } = ctx.api;
  const { uid, addJob } = ctx;
  describe('listJobVersions and getJobsById', () => {
    const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : 1);

    /** `listJobVersions()` restricted to some jobs, by id. */
    const versionsAmong = async (jobIds: readonly string[]) => {
      const wanted = new Set(jobIds);
      return (await ctx.storage.listJobVersions()).filter((v) => wanted.has(v.id)).sort(byId);
    };

    it("lists every job's id and version, following writes and removals", async () => {
      const a = await addJob();
      const b = await addJob({ version: 7 });
      const ids = [a.id, b.id];
      expect(await versionsAmong(ids)).toStrictEqual(
        [
          { id: a.id, version: a.version },
          { id: b.id, version: 7 },
        ].sort(byId),
      );
      await ctx.storage.updateJob({ ...a, version: a.version + 1 });
      expect(await ctx.storage.writeJobIf({ ...b, version: 8 }, { version: 7 })).toBe(true);
      expect(await versionsAmong(ids)).toStrictEqual(
        [
          { id: a.id, version: a.version + 1 },
          { id: b.id, version: 8 },
        ].sort(byId),
      );
      await ctx.storage.deleteJob(a.id);
      expect(await versionsAmong(ids)).toStrictEqual([{ id: b.id, version: 8 }]);
    });

    it('reads the jobs named as stored, leaving out unknown ids and returning each once', async () => {
      const a = await addJob({ payload: { n: 1 } });
      const b = await addJob({ status: 'paused' });
      await addJob(); // not asked for
      const got = await ctx.storage.getJobsById([b.id, uid('unknown'), a.id, b.id]);
      const stored = [await ctx.storage.getJob(a.id), await ctx.storage.getJob(b.id)];
      expect(got.sort(byId)).toStrictEqual(stored.sort((x, y) => byId(x as Job, y as Job)));
      expect(await ctx.storage.getJobsById([])).toStrictEqual([]);
      expect(await ctx.storage.getJobsById([uid('unknown')])).toStrictEqual([]);
    });

    it('reads more ids than one statement binds (1,200)', async () => {
      const jobs: Job[] = [];
      for (let i = 0; i < 1_200; i++) jobs.push(makeJob({ id: uid(), version: i }));
      for (let i = 0; i < jobs.length; i += 50) {
        await Promise.all(jobs.slice(i, i + 50).map((job) => ctx.storage.createJob(job)));
      }
      const got = await ctx.storage.getJobsById([...jobs.map((job) => job.id), uid('unknown')]);
      expect(got.map((job) => [job.id, job.version]).sort()).toStrictEqual(
        jobs.map((job) => [job.id, job.version]).sort(),
      );
    });

    it('refuses ids that are not an array of strings with InvalidArgumentError', async () => {
      for (const bad of ['job-1', null, [1], [null]]) {
        const error = await rejectionOf(ctx.storage.getJobsById(bad as never));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).message).toContain('ids');
      }
    });
  });
}
