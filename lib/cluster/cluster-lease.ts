import { randomBytes } from 'node:crypto';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { NormalizedClusterOptions } from '../interfaces/scheduler-options.interface.js';
import type { ClusterStorage } from '../interfaces/cluster-storage.js';
import { formatError } from '../core/run-output.js';
import { RetryBackoff } from '../core/retry-backoff.js';
import type { StorageFaultLog } from '../core/storage-fault-log.js';
import { withTimeout } from './with-timeout.js';

/** What the lease calls back: after each renewal (to look for dead instances), and when it was lost. */
export interface ClusterLeaseHooks {
  renewed(): void;
  lost(oldLeaseId: string): void;
}

/**
 * This instance's lease in the lease table: taken at start, renewed every `heartbeatInterval`, its
 * expiry set by the database's clock. Locally it is trusted for `leaseTtl` from the moment the last
 * successful renewal was sent (a monotonic clock, so a host clock jump changes nothing): past that,
 * `isValid()` is false and the instance starts no new run. A renewal the database refuses (the lease
 * expired, another instance may have recorded its runs lost) takes a new lease under a new id; runs
 * still going under the old one are fenced by the storage.
 */
export class ClusterLease {
  private current = '';
  private validUntil = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  /** Renewals that failed in a row; after one, the next comes sooner (within a second). */
  private readonly retries: RetryBackoff;
  /** The renewal under way (and the new lease it may be taking), which release() waits for. */
  private beating: Promise<void> | undefined;

  constructor(
    private readonly storage: ClusterStorage,
    private readonly options: NormalizedClusterOptions,
    private readonly logger: JobLogger,
    private readonly hooks: ClusterLeaseHooks,
    /** Where a failed renewal is reported (once per storage outage); default: `logger`. */
    private readonly faults?: StorageFaultLog,
    // The global `performance` (not node:perf_hooks'): fake timers replace it in tests.
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    // After a failed renewal the next comes within a second (the lease is still valid for a while).
    const soon = Math.min(options.heartbeatInterval, 1_000);
    this.retries = new RetryBackoff(soon, soon, 0);
  }

  /** The lease id now held: `<instanceId>#<random>`, new at each acquisition. */
  get id(): string {
    return this.current;
  }

  /** Whether this instance may start runs: its lease was renewed less than `leaseTtl` ago. */
  isValid(): boolean {
    return this.running && this.monotonic() < this.validUntil;
  }

  /** Takes a new lease; rejects when the database cannot be reached. */
  async acquire(): Promise<void> {
    const id = `${this.options.instanceId}#${randomBytes(6).toString('hex')}`;
    const sentAt = this.monotonic();
    await this.storage.acquireLease(id, this.options.instanceId, this.options.leaseTtl);
    this.current = id;
    this.validUntil = sentAt + this.options.leaseTtl;
  }

  /** Starts the heartbeat. */
  start(): void {
    this.running = true;
    this.schedule(this.options.heartbeatInterval);
  }

  /**
   * Stops the heartbeat and removes the lease (its runs must have ended). A renewal under way is
   * waited for first: it may be taking a new lease, which is then the one removed (and a renewal
   * refused after this call takes none).
   */
  async release(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.validUntil = -Infinity;
    await this.beating;
    this.validUntil = -Infinity; // again: a renewal that was under way may have extended it
    if (this.current === '') return;
    try {
      await this.storage.releaseLease(this.current);
    } catch (err) {
      this.logger.warn(
        `Cluster: could not remove lease ${this.current} (it expires by itself): ${formatError(err, 500)}`,
      );
    }
  }

  /** Renews now (tests; the heartbeat does it on its own). */
  beat(): Promise<void> {
    const beating = this.renew().finally(() => {
      if (this.beating === beating) this.beating = undefined;
    });
    this.beating = beating;
    return beating;
  }

  private async renew(): Promise<void> {
    const sentAt = this.monotonic();
    let renewed: boolean;
    try {
      // A renewal that hangs (a partition) must not stall the heartbeat: it counts as failed.
      renewed = await withTimeout(
        this.storage.renewLease(this.current, this.options.leaseTtl),
        this.options.heartbeatInterval,
        'renewing the lease',
      );
    } catch (err) {
      const failures = this.retries.failures + 1;
      this.retries.failed();
      if (this.faults !== undefined) {
        this.faults.failed(
          `the renewal of lease ${this.current} (no new run starts once it is ${this.options.leaseTtl} ms old)`,
          err,
        );
      } else if (failures === 1 || failures % 10 === 0) {
        this.logger.warn(
          `Cluster: could not renew lease ${this.current} (${failures} time(s) in a row); no new run starts once it is ${this.options.leaseTtl} ms old: ${formatError(err, 500)}`,
        );
      }
      return;
    }
    this.retries.succeeded();
    this.faults?.succeeded();
    if (renewed) {
      this.validUntil = sentAt + this.options.leaseTtl;
    } else {
      // Released meanwhile (stopping): no new lease is taken; release() removes the one held.
      if (!this.running) return;
      const old = this.current;
      this.validUntil = -Infinity;
      this.logger.error(
        `Cluster: lease ${old} expired before it was renewed (was the process paused, or the database out of reach, for ${this.options.leaseTtl} ms?); other instances record its runs lost. Taking a new lease.`,
      );
      this.hooks.lost(old);
      try {
        await this.acquire();
      } catch (err) {
        if (this.faults !== undefined) this.faults.failed('taking a new lease', err);
        else this.logger.warn(`Cluster: could not take a new lease: ${formatError(err, 500)}`);
        return;
      }
    }
    // Not awaited: a look-up that hangs must not stall the heartbeat (the hook bounds itself).
    this.hooks.renewed();
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.beat().finally(() =>
        // After a failure, try again sooner: the lease is still valid for a while.
        this.schedule(
          this.retries.failures > 0 ? this.retries.delay() : this.options.heartbeatInterval,
        ),
      );
    }, delay);
    this.timer.unref?.();
  }
}
