import type { JobLogger } from '../interfaces/logger.interface.js';
import type { NormalizedHistoryRetention } from '../interfaces/scheduler-options.interface.js';
import type { PrunableStorage } from '../interfaces/job-storage.js';
import { errorForLog } from './run-output.js';
import type { StorageFaultLog } from './storage-fault-log.js';

/** Most batches one pass deletes before it lets the next pass go on (keeps a pass bounded). */
const MAX_BATCHES_PER_PASS = 100;

/**
 * Prunes run history in the background: every `interval`, deletes finished runs beyond the policy
 * in bounded batches (one `pruneRuns` call each), never loading history into memory.
 */
export class HistoryPruner {
  private timer: ReturnType<typeof setInterval> | undefined;
  private pass: Promise<number> | undefined;
  private stopping = false;

  constructor(
    private readonly storage: PrunableStorage,
    private readonly policy: NormalizedHistoryRetention,
    private readonly logger: JobLogger,
    private readonly now: () => number,
    /** Where a failed pass is reported (once per storage outage) instead of `logger`. */
    private readonly faults?: StorageFaultLog,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.stopping = false;
    this.timer = setInterval(() => void this.prune(), this.policy.interval);
    this.timer.unref?.();
  }

  /** Stops the schedule and waits for a pass in progress to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  /** One pass (or the one in progress): resolves to how many runs it deleted. Never rejects. */
  prune(): Promise<number> {
    return (this.pass ??= this.runPass().finally(() => (this.pass = undefined)));
  }

  private async runPass(): Promise<number> {
    const { maxRunsPerJob, maxAge, batchSize } = this.policy;
    const olderThan = maxAge === undefined ? undefined : new Date(this.now() - maxAge);
    let total = 0;
    try {
      for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
        const deleted = await this.storage.pruneRuns({
          maxRunsPerJob,
          olderThan,
          limit: batchSize,
        });
        total += deleted;
        if (deleted < batchSize || this.stopping) break;
        // Let other work in between two batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      if (this.faults !== undefined) {
        this.faults.failed('pruning run history (tried again at the next interval)', err);
      } else {
        this.logger.warn(
          `Pruning run history failed (it will be tried again): ${errorForLog(err)}`,
        );
      }
    }
    return total;
  }
}
