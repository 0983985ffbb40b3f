import { randomUUID } from 'node:crypto';
import { isClusterStorage } from '../../interfaces/cluster-storage.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { OrphanedJob } from '../../interfaces/cluster-storage.js';
import { makeJob } from '../fixtures.js';
import type { TestApi } from '../test-api.js';
import { claimedRunsSection, findOrphanedJobsSection, finishRunSection } from './claimed-runs.js';
import { batchedSection } from './batched.js';
import { finishRunAndWriteJobSection } from './finish-and-write.js';
import { leasesSection, listJobVersionsAndGetJobsByIdSection } from './leases.js';
import { LONG_TTL, type ClusterSuite, type SharedStorage } from './support.js';
import { writeJobIfSection } from './write-job-if.js';

/**
 * Defines, with the test framework's `api`, a `describe` block that checks a storage against the `ClusterStorage` contract: a fresh
 * storage per test from `createStorage`, handed to `cleanup` (if given) and then closed after it.
 *
 * Written against the contract only: every test uses job and lease ids of its own and looks only at
 * those, so a storage whose data outlives one test (a shared database) passes too. The expiry tests
 * wait for real time (`SHORT_TTL` of the database's clock), so a storage's clock must follow the
 * host's there. The races start every call before awaiting any (on a SQL storage, each call takes a
 * connection of its own from the pool).
 */ export function describeClusterStorageConformance(
  api: TestApi,
  name: string,
  createStorage: () => Promise<SharedStorage> | SharedStorage,
  cleanup?: (storage: SharedStorage) => Promise<void>,
): void {
  const { describe, it, expect, beforeEach, afterEach } = api;
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

    beforeEach(async () => {
      storage = await createStorage();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(storage);
      await storage.close();
    });

    const ctx: ClusterSuite = {
      api,
      get storage() {
        return storage;
      },
      uid,
      leaseId,
      addJob,
      lease,
      claim,
      claimedBy,
      orphansAmong,
      leaseIds,
    };

    it('is a ClusterStorage that supports cluster mode', async () => {
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

    leasesSection(ctx);
    writeJobIfSection(ctx);
    claimedRunsSection(ctx);
    finishRunSection(ctx);
    finishRunAndWriteJobSection(ctx);
    batchedSection(ctx);
    listJobVersionsAndGetJobsByIdSection(ctx);
    findOrphanedJobsSection(ctx);
  });
}
