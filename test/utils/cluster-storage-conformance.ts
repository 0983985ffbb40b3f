import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../lib/errors/invalid-argument.error.js';
import { RunAlreadyRecordedError } from '../../lib/errors/run-already-recorded.error.js';
import type { Job } from '../../lib/interfaces/job.interface.js';
import type { Run } from '../../lib/interfaces/run.interface.js';
import {
  isClusterStorage,
  MAX_LEASE_ID_LENGTH,
  type ClusterStorage,
  type OrphanedJob,
} from '../../lib/interfaces/cluster-storage.js';
import { isBatchStorage, type JobStorage } from '../../lib/interfaces/job-storage.js';
import { makeJob, makeRun } from './fixtures.js';

/** A storage that several scheduler instances can share. */
export type SharedStorage = JobStorage & ClusterStorage;

/** A lease short enough to expire within a test, and how long to wait for it to (database clock). */
const SHORT_TTL = 200;
const PAST_SHORT_TTL = 450;
/** A lease that outlives any test. */
const LONG_TTL = 60_000;
/** How many writers race in the concurrency tests. */
const RACERS = 20;

/**
 * Defines a `describe` block that checks a storage against the `ClusterStorage` contract: a fresh
 * storage per test from `createStorage`, handed to `cleanup` (if given) and then closed after it.
 *
 * Written against the contract only: every test uses job and lease ids of its own and looks only at
 * those, so a storage whose data outlives one test (a shared database) passes too. The expiry tests
 * wait for real time (`SHORT_TTL` of the database's clock), so a storage's clock must follow the
 * host's there. The races start every call before awaiting any (on a SQL storage, each call takes a
 * connection of its own from the pool).
 */
export function describeClusterStorageConformance(
  name: string,
  createStorage: () => Promise<SharedStorage> | SharedStorage,
  cleanup?: (storage: SharedStorage) => Promise<void>,
): void {
  describe(`${name}: ClusterStorage conformance`, () => {
    let storage: SharedStorage;
    let counter = 0;

    /** A fresh id, unique across tests and runs (and at most 64 characters). */
    const uid = (prefix = 'job'): string => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}`;

    /** A fresh lease id, shaped as the scheduler makes them (`<instanceId>#<random>`). */
    const leaseId = (instance = 'instance'): string => `${instance}#${uid('lease')}`;

    const addJob = async (overrides: Partial<Job> = {}): Promise<Job> => {
      const job = makeJob({ id: uid(), ...overrides });
      await storage.createJob(job);
      return job;
    };

    /** Takes a lease (long by default); resolves to its id. */
    const lease = async (ttl = LONG_TTL, instance = 'instance'): Promise<string> => {
      const id = leaseId(instance);
      await storage.acquireLease(id, instance, ttl);
      return id;
    };

    /** Claims an unclaimed job for `leaseId`; resolves to the job as now stored. */
    const claim = async (job: Job, by: string): Promise<Job> => {
      const next = { ...job, status: 'running' as const, version: job.version + 1 };
      expect(
        await storage.writeJobIf(next, { version: job.version, claimedBy: null, claim: by }),
      ).toBe(true);
      return next;
    };

    /** Whether the job's claim is `by` (`null`: unclaimed), seen through a no-op conditional write. */
    const claimedBy = async (jobId: string, by: string | null): Promise<boolean> => {
      const job = await storage.getJob(jobId);
      if (!job) return false;
      return storage.writeJobIf(
        { ...job, version: job.version + 1 },
        {
          version: job.version,
          claimedBy: by,
        },
      );
    };

    /** `findOrphanedJobs()` restricted to some jobs, by job id. */
    const orphansAmong = async (jobIds: readonly string[]): Promise<OrphanedJob[]> => {
      const wanted = new Set(jobIds);
      return (await storage.findOrphanedJobs())
        .filter((orphan) => wanted.has(orphan.jobId))
        .sort((a, b) => (a.jobId < b.jobId ? -1 : 1));
    };

    const leaseIds = async (): Promise<string[]> =>
      (await storage.listLeases()).map((record) => record.id);

    const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> =>
      promise.then(
        () => {
          throw new Error('expected a rejection');
        },
        (error: unknown) => error,
      );

    beforeEach(async () => {
      storage = await createStorage();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(storage);
      await storage.close();
    });

    it('is a ClusterStorage that supports cluster mode', () => {
      expect(isClusterStorage(storage)).toBe(true);
      expect(storage.clusterUnsupportedReason()).toBeNull();
    });

    it("reads the database's clock as epoch milliseconds, near the host's", async () => {
      const first = await storage.clusterNow();
      const second = await storage.clusterNow();
      expect(Number.isSafeInteger(first)).toBe(true);
      expect(Math.abs(first - Date.now())).toBeLessThan(2_000);
      expect(second).toBeGreaterThanOrEqual(first);
    });

    describe('leases', () => {
      it('acquires a lease that expires ttl after the database now, and lists it', async () => {
        const before = await storage.clusterNow();
        const id = await lease(LONG_TTL, 'host-a');
        const after = await storage.clusterNow();
        const [record] = (await storage.listLeases()).filter((found) => found.id === id);
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
        expect((await leaseIds()).filter((id) => mine.has(id))).toStrictEqual([
          first,
          second,
          third,
        ]);
      });

      it('refuses a lease id that is taken', async () => {
        const id = await lease();
        expect(await rejectionOf(storage.acquireLease(id, 'instance', LONG_TTL))).toBeInstanceOf(
          InvalidArgumentError,
        );
        expect((await leaseIds()).filter((found) => found === id)).toHaveLength(1);
      });

      it('renews a live lease from the database now', async () => {
        const id = await lease(SHORT_TTL * 2);
        await sleep(SHORT_TTL);
        expect(await storage.renewLease(id, LONG_TTL)).toBe(true);
        const now = await storage.clusterNow();
        const [record] = (await storage.listLeases()).filter((found) => found.id === id);
        expect(record.expiresAt).toBeGreaterThan(now + LONG_TTL - 2_000);
        expect(record.expiresAt).toBeLessThanOrEqual(now + LONG_TTL);
        // Expired by the old ttl, live by the new one.
        await sleep(SHORT_TTL * 2);
        expect(await storage.renewLease(id, LONG_TTL)).toBe(true);
      });

      it('does not renew a lease that expired (database clock), which stays listed until removed', async () => {
        const id = await lease(SHORT_TTL);
        await sleep(PAST_SHORT_TTL);
        expect(await storage.renewLease(id, LONG_TTL)).toBe(false);
        expect(await leaseIds()).toContain(id);
        await storage.findOrphanedJobs();
        expect(await leaseIds()).not.toContain(id);
        expect(await storage.renewLease(id, LONG_TTL)).toBe(false);
      });

      it('releases a lease (idempotent): it is gone and cannot be renewed', async () => {
        const id = await lease();
        const other = await lease();
        await storage.releaseLease(id);
        await storage.releaseLease(id);
        await storage.releaseLease(leaseId('never-acquired'));
        expect(await leaseIds()).not.toContain(id);
        expect(await leaseIds()).toContain(other);
        expect(await storage.renewLease(id, LONG_TTL)).toBe(false);
        expect(await storage.renewLease(other, LONG_TTL)).toBe(true);
      });

      it('refuses bad lease ids and ttls with InvalidArgumentError', async () => {
        const id = leaseId();
        for (const call of [
          () => storage.acquireLease('', 'instance', LONG_TTL),
          () => storage.acquireLease('x'.repeat(MAX_LEASE_ID_LENGTH + 1), 'instance', LONG_TTL),
          () => storage.acquireLease(id, '', LONG_TTL),
          () => storage.acquireLease(id, 'instance', 0),
          () => storage.acquireLease(id, 'instance', Number.NaN),
          () => storage.renewLease(id, -1),
          () => storage.releaseLease(42 as unknown as string),
        ]) {
          expect(await rejectionOf(call())).toBeInstanceOf(InvalidArgumentError);
        }
        expect(await leaseIds()).not.toContain(id);
        // The longest id is taken.
        const longest = `${leaseId()}#`.padEnd(MAX_LEASE_ID_LENGTH, 'x');
        await storage.acquireLease(longest, 'i'.repeat(MAX_LEASE_ID_LENGTH), LONG_TTL);
        expect(await leaseIds()).toContain(longest);
      });
    });

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
        expect(await storage.writeJobIf(next, { version: job.version })).toBe(true);
        expect(await storage.getJob(job.id)).toStrictEqual(next);

        const stale = { ...job, name: 'stale', version: job.version + 1 };
        expect(await storage.writeJobIf(stale, { version: job.version })).toBe(false);
        expect(await storage.getJob(job.id)).toStrictEqual(next);
      });

      it('checks the claim: null for unclaimed, a lease id for claimed by it', async () => {
        const mine = await lease();
        const theirs = await lease(LONG_TTL, 'other');
        const job = await addJob();
        expect(await claimedBy(job.id, null)).toBe(true);
        expect(await claimedBy(job.id, mine)).toBe(false);

        await claim((await storage.getJob(job.id)) as Job, mine);
        expect(await claimedBy(job.id, mine)).toBe(true);
        expect(await claimedBy(job.id, null)).toBe(false);
        expect(await claimedBy(job.id, theirs)).toBe(false);

        // A second claim of a claimed job fails, even with the right version.
        const claimed = (await storage.getJob(job.id)) as Job;
        const taken = { ...claimed, version: claimed.version + 1 };
        expect(
          await storage.writeJobIf(taken, {
            version: claimed.version,
            claimedBy: null,
            claim: theirs,
          }),
        ).toBe(false);
        expect(await storage.getJob(job.id)).toStrictEqual(claimed);

        // Released by its holder.
        const done = (await storage.getJob(job.id)) as Job;
        const released = { ...done, status: 'pending' as const, version: done.version + 1 };
        expect(
          await storage.writeJobIf(released, {
            version: done.version,
            claimedBy: mine,
            claim: null,
          }),
        ).toBe(true);
        expect(await claimedBy(job.id, null)).toBe(true);
        expect((await storage.getJob(job.id))?.status).toBe('pending');
      });

      it('keeps the claim when the condition gives no claim', async () => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const next = { ...job, lastResult: 'progress', version: job.version + 1 };
        expect(await storage.writeJobIf(next, { version: job.version })).toBe(true);
        expect(await claimedBy(job.id, mine)).toBe(true);
      });

      it('lets a claim move from one lease to another (a takeover)', async () => {
        const dead = await lease();
        const live = await lease(LONG_TTL, 'other');
        const job = await claim(await addJob(), dead);
        const next = { ...job, version: job.version + 1 };
        expect(
          await storage.writeJobIf(next, { version: job.version, claimedBy: dead, claim: live }),
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
          const written = await storage.writeJobIf(next, { version: job.version, lease: by });
          if (written) job = next;
          return written;
        };
        expect(await write(kept)).toBe(true);
        expect(await write(released)).toBe(true);
        expect(await write(expiring)).toBe(true);
        await storage.releaseLease(released);
        expect(await write(released)).toBe(false);
        await sleep(PAST_SHORT_TTL);
        expect(await write(expiring)).toBe(false);
        expect(await write(leaseId('never-acquired'))).toBe(false);
        expect(await write(kept)).toBe(true);
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });

      it('combines version, claim and lease: each one failing refuses the write', async () => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const next = { ...job, version: job.version + 1 };
        const condition = { version: job.version, claimedBy: mine, lease: mine, claim: null };
        expect(await storage.writeJobIf(next, { ...condition, version: job.version - 1 })).toBe(
          false,
        );
        expect(await storage.writeJobIf(next, { ...condition, claimedBy: null })).toBe(false);
        expect(await storage.writeJobIf(next, { ...condition, lease: leaseId('gone') })).toBe(
          false,
        );
        expect(await storage.getJob(job.id)).toStrictEqual(job);
        expect(await storage.writeJobIf(next, condition)).toBe(true);
        expect(await claimedBy(job.id, null)).toBe(true);
      });

      it('is false for a removed job, and creates nothing', async () => {
        const job = await addJob();
        await storage.deleteJob(job.id);
        expect(
          await storage.writeJobIf({ ...job, version: job.version + 1 }, { version: job.version }),
        ).toBe(false);
        expect(
          await storage.writeJobIf(
            { ...job, version: job.version + 1 },
            { version: job.version, claimedBy: null },
          ),
        ).toBe(false);
        expect(await storage.getJob(job.id)).toBeNull();
      });

      it('never shows the claim in a job: getJob and listJobs return plain Jobs', async () => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const stored = await storage.getJob(job.id);
        expect(stored).toStrictEqual(job);
        expect(Object.keys(stored as Job)).not.toContain('claimedBy');
        const [listed] = (await storage.listJobs()).filter((found) => found.id === job.id);
        expect(listed).toStrictEqual(job);
        expect(Object.keys(listed)).not.toContain('claimedBy');
      });

      it('leaves the claim alone on createJob, updateJob and batch updates', async () => {
        const created = await addJob();
        expect(await claimedBy(created.id, null)).toBe(true);

        const mine = await lease();
        const job = await claim((await storage.getJob(created.id)) as Job, mine);
        const updated = { ...job, name: 'updated', version: job.version + 1 };
        await storage.updateJob(updated);
        expect(await storage.getJob(job.id)).toStrictEqual(updated);
        expect(await claimedBy(job.id, mine)).toBe(true);
        if (isBatchStorage(storage)) {
          const current = (await storage.getJob(job.id)) as Job;
          const batched = { ...current, name: 'batched', version: current.version + 1 };
          await storage.batchUpdateJobs([batched]);
          expect(await storage.getJob(job.id)).toStrictEqual(batched);
          expect(await claimedBy(job.id, mine)).toBe(true);
        }
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
        ]) {
          expect(
            await rejectionOf(storage.writeJobIf(next, condition as { version: number })),
          ).toBeInstanceOf(InvalidArgumentError);
        }
        expect(await storage.getJob(job.id)).toStrictEqual(job);
      });

      it(`lets exactly one of ${RACERS} concurrent writers with the same version win`, async () => {
        const job = await addJob();
        const attempts = Array.from({ length: RACERS }, (_, i) => ({
          ...job,
          name: `writer ${i}`,
          version: job.version + 1,
        }));
        const results = await Promise.all(
          attempts.map((attempt) => storage.writeJobIf(attempt, { version: job.version })),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await storage.getJob(job.id)).toStrictEqual(attempts[results.indexOf(true)]);
      });

      it(`lets exactly one of ${RACERS} instances claim an unclaimed job`, async () => {
        const leases = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => lease(LONG_TTL, `host-${i}`)),
        );
        const job = await addJob();
        const next = { ...job, status: 'running' as const, version: job.version + 1 };
        const results = await Promise.all(
          leases.map((by) =>
            storage.writeJobIf(next, {
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

    describe('createClaimedRun', () => {
      it('stores a run of a job claimed by the lease', async () => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const run = makeRun(job.id, { id: uid('run') });
        expect(await storage.createClaimedRun(run, mine)).toBe(true);
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([run]);
      });

      it('is false, storing nothing, for a job claimed by another lease, unclaimed, or removed', async () => {
        const mine = await lease();
        const theirs = await lease(LONG_TTL, 'other');
        const claimed = await claim(await addJob(), theirs);
        const unclaimed = await addJob();
        const removed = await addJob();
        await storage.deleteJob(removed.id);
        for (const job of [claimed, unclaimed, removed]) {
          expect(await storage.createClaimedRun(makeRun(job.id, { id: uid('run') }), mine)).toBe(
            false,
          );
          expect(await storage.getJobRunCount(job.id)).toBe(0);
        }
      });

      it('refuses a fire or a run id recorded already with RunAlreadyRecordedError', async () => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const first = makeRun(job.id, { id: uid('run') });
        expect(await storage.createClaimedRun(first, mine)).toBe(true);

        const sameFire = makeRun(job.id, {
          id: uid('run'),
          scheduledAt: first.scheduledAt,
          attempt: first.attempt,
          output: 'twin',
        });
        const error = await rejectionOf(storage.createClaimedRun(sameFire, mine));
        expect(error).toBeInstanceOf(RunAlreadyRecordedError);
        expect((error as RunAlreadyRecordedError).code).toBe('RUN_ALREADY_RECORDED');
        expect((error as Error).message).toContain(job.id);

        const sameId = makeRun(job.id, { id: first.id, output: 'same id' });
        expect(await rejectionOf(storage.createClaimedRun(sameId, mine))).toBeInstanceOf(
          RunAlreadyRecordedError,
        );

        // A fire recorded by createRun counts too; a retry (next attempt) is a new fire.
        const plain = makeRun(job.id, { id: uid('run') });
        await storage.createRun(plain);
        expect(
          await rejectionOf(
            storage.createClaimedRun(
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
        expect(await storage.createClaimedRun(retry, mine)).toBe(true);
        expect((await storage.getRuns(job.id, 10)).map((run) => run.id).sort()).toStrictEqual(
          [first.id, plain.id, retry.id].sort(),
        );
        expect(
          (await storage.getRuns(job.id, 10)).find((run) => run.id === first.id),
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
          runs.map((run) => storage.createClaimedRun(run, mine)),
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
        expect(await storage.getJobRunCount(job.id)).toBe(1);
        const winner = runs[results.findIndex((result) => result.status === 'fulfilled')];
        expect(await storage.getRuns(job.id, 10)).toStrictEqual([winner]);
      });
    });

    describe('finishRun', () => {
      /** A job claimed by a fresh lease, with one running run. */
      const running = async (): Promise<{ job: Job; run: Run }> => {
        const mine = await lease();
        const job = await claim(await addJob(), mine);
        const run = makeRun(job.id, { id: uid('run') });
        expect(await storage.createClaimedRun(run, mine)).toBe(true);
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
        expect(await storage.finishRun(end)).toBe(true);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([end]);
        const again = ended(run, { status: 'failed', error: 'second', output: '' });
        expect(await storage.finishRun(again)).toBe(false);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([end]);
      });

      it('never overwrites a run recorded ended by someone else (a run recorded lost)', async () => {
        const { job, run } = await running();
        const lost = ended(run, { status: 'failed', error: 'instance lost', output: '' });
        expect(await storage.finishRun(lost)).toBe(true);
        expect(await storage.finishRun(ended(run))).toBe(false);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([lost]);
      });

      it('is false for an unknown run', async () => {
        const job = await addJob();
        expect(await storage.finishRun(ended(makeRun(job.id, { id: uid('run') })))).toBe(false);
        expect(await storage.getJobRunCount(job.id)).toBe(0);
      });

      it(`lets exactly one of ${RACERS} concurrent ends of a run win`, async () => {
        const { job, run } = await running();
        const ends = Array.from({ length: RACERS }, (_, i) => ended(run, { output: `end ${i}` }));
        const results = await Promise.all(ends.map((end) => storage.finishRun(end)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await storage.getRuns(job.id, 1)).toStrictEqual([ends[results.indexOf(true)]]);
      });
    });

    describe('listJobVersions and getJobsById', () => {
      const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : 1);

      /** `listJobVersions()` restricted to some jobs, by id. */
      const versionsAmong = async (jobIds: readonly string[]) => {
        const wanted = new Set(jobIds);
        return (await storage.listJobVersions()).filter((v) => wanted.has(v.id)).sort(byId);
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
        await storage.updateJob({ ...a, version: a.version + 1 });
        expect(await storage.writeJobIf({ ...b, version: 8 }, { version: 7 })).toBe(true);
        expect(await versionsAmong(ids)).toStrictEqual(
          [
            { id: a.id, version: a.version + 1 },
            { id: b.id, version: 8 },
          ].sort(byId),
        );
        await storage.deleteJob(a.id);
        expect(await versionsAmong(ids)).toStrictEqual([{ id: b.id, version: 8 }]);
      });

      it('reads the jobs named as stored, leaving out unknown ids and returning each once', async () => {
        const a = await addJob({ payload: { n: 1 } });
        const b = await addJob({ status: 'paused' });
        await addJob(); // not asked for
        const got = await storage.getJobsById([b.id, uid('unknown'), a.id, b.id]);
        const stored = [await storage.getJob(a.id), await storage.getJob(b.id)];
        expect(got.sort(byId)).toStrictEqual(stored.sort((x, y) => byId(x as Job, y as Job)));
        expect(await storage.getJobsById([])).toStrictEqual([]);
        expect(await storage.getJobsById([uid('unknown')])).toStrictEqual([]);
      });

      it('reads more ids than one statement binds (1,200)', async () => {
        const jobs: Job[] = [];
        for (let i = 0; i < 1_200; i++) jobs.push(makeJob({ id: uid(), version: i }));
        for (let i = 0; i < jobs.length; i += 50) {
          await Promise.all(jobs.slice(i, i + 50).map((job) => storage.createJob(job)));
        }
        const got = await storage.getJobsById([...jobs.map((job) => job.id), uid('unknown')]);
        expect(got.map((job) => [job.id, job.version]).sort()).toStrictEqual(
          jobs.map((job) => [job.id, job.version]).sort(),
        );
      });

      it('refuses ids that are not an array of strings with InvalidArgumentError', async () => {
        for (const bad of ['job-1', null, [1], [null]]) {
          const error = await rejectionOf(storage.getJobsById(bad as never));
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect((error as InvalidArgumentError).message).toContain('ids');
        }
      });
    });

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
        await storage.releaseLease(released);
        await sleep(PAST_SHORT_TTL);
        expect(await leaseIds()).toContain(expiring);

        const ids = [
          ofLive,
          runningOfLive,
          ofExpired,
          ofReleased,
          runningUnclaimed,
          pending,
          paused,
        ];
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
          await storage.writeJobIf(next, {
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
        await storage.releaseLease(gone);
        expect(await orphansAmong([job.id])).toStrictEqual([{ jobId: job.id, claimedBy: gone }]);
        await storage.deleteJob(job.id);
        expect(await orphansAmong([job.id])).toStrictEqual([]);
        // A new job under its id starts unclaimed.
        const again = await addJob({ id: job.id });
        expect(await claimedBy(again.id, null)).toBe(true);
      });
    });
  });
}
