import { vitestApi } from '../../utils/vitest-api.js';
import { describe, expect, it } from 'vitest';
import { StorageClosedError } from '../../../lib/errors/storage-closed.error.js';
import { isClusterStorage } from '../../../lib/interfaces/cluster-storage.js';
import { describeClusterStorageConformance } from '../../../lib/testing/index.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';
import { SharedMemoryClusterStorage } from '../../utils/shared-memory-cluster-storage.js';
import { describeStorageConformance } from '../../../lib/testing/index.js';

// The test fake keeps both contracts, so scheduler tests built on it test against the real ones.
describeStorageConformance(
  vitestApi,
  'SharedMemoryClusterStorage',
  () => new SharedMemoryClusterStorage(),
);
describeClusterStorageConformance(
  vitestApi,
  'SharedMemoryClusterStorage',
  () => new SharedMemoryClusterStorage(),
);

describe('SharedMemoryClusterStorage', () => {
  /** A storage whose database clock is moved by hand. */
  const withClock = () => {
    let now = Date.UTC(2030, 0, 1);
    const storage = new SharedMemoryClusterStorage({ dbClock: () => now });
    return {
      storage,
      advance: (ms: number) => {
        now += ms;
      },
      now: () => now,
    };
  };

  it('is a ClusterStorage', () => {
    expect(isClusterStorage(new SharedMemoryClusterStorage())).toBe(true);
  });

  it('expires leases by its database clock, without waiting', async () => {
    const { storage, advance, now } = withClock();
    expect(await storage.clusterNow()).toBe(now());
    await storage.acquireLease('a#1', 'a', 1_000);
    expect(await storage.listLeases()).toStrictEqual([
      { id: 'a#1', instanceId: 'a', acquiredAt: now(), expiresAt: now() + 1_000 },
    ]);
    advance(999);
    expect(await storage.renewLease('a#1', 1_000)).toBe(true);
    advance(1_000);
    expect(await storage.renewLease('a#1', 1_000)).toBe(false);
    expect(await storage.findOrphanedJobs()).toStrictEqual([]);
    expect(await storage.listLeases()).toStrictEqual([]);
  });

  it('shows a claim through claimOf; updateJob keeps it, deleteJob removes it', async () => {
    const { storage, advance } = withClock();
    await storage.acquireLease('a#1', 'a', 1_000);
    const job = makeJob();
    await storage.createJob(job);
    expect(storage.claimOf(job.id)).toBeNull();
    const running = { ...job, status: 'running' as const, version: 1 };
    expect(
      await storage.writeJobIf(running, {
        version: 0,
        claimedBy: null,
        claim: 'a#1',
        lease: 'a#1',
      }),
    ).toBe(true);
    expect(storage.claimOf(job.id)).toBe('a#1');
    await storage.updateJob({ ...running, version: 2 });
    await storage.batchUpdateJobs([{ ...running, version: 3 }]);
    expect(storage.claimOf(job.id)).toBe('a#1');

    advance(1_000);
    expect(await storage.findOrphanedJobs()).toStrictEqual([{ jobId: job.id, claimedBy: 'a#1' }]);
    await storage.deleteJob(job.id);
    expect(storage.claimOf(job.id)).toBeNull();
    expect(await storage.findOrphanedJobs()).toStrictEqual([]);
  });

  it('is one database for every instance that holds it', async () => {
    const shared = new SharedMemoryClusterStorage();
    const [a, b] = [shared, shared];
    await a.acquireLease('a#1', 'a', 60_000);
    await b.acquireLease('b#1', 'b', 60_000);
    const job = makeJob();
    await a.createJob(job);
    const claimed = { ...job, version: 1 };
    const [byA, byB] = await Promise.all([
      a.writeJobIf(claimed, { version: 0, claimedBy: null, claim: 'a#1' }),
      b.writeJobIf(claimed, { version: 0, claimedBy: null, claim: 'b#1' }),
    ]);
    expect([byA, byB]).toStrictEqual([true, false]);
    const run = makeRun(job.id);
    expect(await b.createClaimedRun(run, 'b#1')).toBe(false);
    expect(await a.createClaimedRun(run, 'a#1')).toBe(true);
    expect(await b.getRuns(job.id, 1)).toStrictEqual([run]);
  });

  it('forgets leases and claims when closed, then refuses every call', async () => {
    const storage = new SharedMemoryClusterStorage();
    await storage.acquireLease('a#1', 'a', 60_000);
    await storage.close();
    await expect(storage.listLeases()).rejects.toBeInstanceOf(StorageClosedError);
    await expect(storage.clusterNow()).rejects.toBeInstanceOf(StorageClosedError);
    await expect(storage.writeJobIf(makeJob(), { version: 0 })).rejects.toBeInstanceOf(
      StorageClosedError,
    );
  });
});
