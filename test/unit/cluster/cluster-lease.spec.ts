import { describe, expect, it } from 'vitest';
import { ClusterLease } from '../../../lib/cluster/cluster-lease.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import type { ClusterStorage } from '../../../lib/interfaces/cluster-storage.js';

/** A promise and the function that resolves it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A lease table in memory whose renewals and acquisitions answer when the test says. */
class LeaseTable {
  readonly rows = new Set<string>();
  renewal = deferred<boolean>();
  acquisition: ReturnType<typeof deferred<void>> | undefined;

  readonly storage = {
    acquireLease: async (id: string): Promise<void> => {
      if (this.acquisition) await this.acquisition.promise;
      this.rows.add(id);
    },
    renewLease: (): Promise<boolean> => this.renewal.promise,
    releaseLease: async (id: string): Promise<void> => {
      this.rows.delete(id);
    },
  } as unknown as ClusterStorage;
}

const OPTIONS = { instanceId: 'a', leaseTtl: 2_000, heartbeatInterval: 500, pollInterval: 500 };

function leaseOn(table: LeaseTable): ClusterLease {
  return new ClusterLease(table.storage, OPTIONS, new NopLogger(), {
    renewed: () => undefined,
    lost: () => undefined,
  });
}

describe('ClusterLease.release during a renewal', () => {
  it('takes no new lease when the renewal is refused after release began, and leaves no row', async () => {
    const table = new LeaseTable();
    const lease = leaseOn(table);
    await lease.acquire();
    const first = lease.id;
    expect([...table.rows]).toStrictEqual([first]);

    const beat = lease.beat(); // the renewal is under way
    const released = lease.release();
    table.renewal.resolve(false); // refused: the lease had expired
    await Promise.all([beat, released]);

    expect(lease.id).toBe(first);
    expect([...table.rows]).toStrictEqual([]);
  });

  it('removes the new lease a refused renewal was taking when release began', async () => {
    const table = new LeaseTable();
    const lease = leaseOn(table);
    await lease.acquire();
    const first = lease.id;
    lease.start();
    table.acquisition = deferred<void>();
    table.renewal.resolve(false);
    const beat = lease.beat(); // refused, so it takes a new lease (held up)
    await new Promise((resolve) => setImmediate(resolve));
    const released = lease.release();
    table.acquisition.resolve();
    await Promise.all([beat, released]);

    // The new lease is removed; the expired one is the other instances' to reap (this table does
    // not expire rows).
    expect(lease.id).not.toBe(first);
    expect([...table.rows]).toStrictEqual([first]);
  });
});
