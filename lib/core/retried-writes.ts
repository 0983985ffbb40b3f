import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { StorageClosedError } from '../errors/storage-closed.error.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import { writeRetryDelay } from './fault-backoff.js';
import { formatError } from './run-output.js';
import type { StorageFaultLog } from './storage-fault-log.js';

/**
 * The scheduler's record writes that must land: a failure is retried with backoff (100 ms doubling
 * to 2 s) until the write goes through, and reported to the fault log (once per episode). A write
 * is given up only when its job was removed, the storage was closed, or `deadline` passed (set by
 * `stop()`: shutdownTimeout to write what is left).
 */
export class RetriedWrites {
  /** Past this instant (epoch ms), a failing write gives up instead of retrying. */
  deadline = Infinity;

  constructor(
    private readonly faults: StorageFaultLog,
    private readonly logger: JobLogger,
    private readonly now: () => number,
  ) {}

  /** `write`, retried until it lands; undefined when it was given up. */
  async write<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    try {
      const written = await write();
      this.faults.succeeded();
      return written;
    } catch (err) {
      return this.retry(err, what, write);
    }
  }

  /**
   * After `write` failed with `error` (callers on a hot path try it once themselves, with no
   * closure): retried until it lands; undefined when it was given up.
   */
  async retry<T>(error: unknown, what: string, write: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (error instanceof JobNotFoundError) return;
      if (error instanceof StorageClosedError || this.now() >= this.deadline) {
        this.logger.error(`Could not record ${what}; giving up: ${formatError(error, 1000)}`);
        return;
      }
      this.faults.failed(`the record of ${what}`, error);
      await new Promise<void>((resolve) => setTimeout(resolve, writeRetryDelay(attempt)));
      try {
        const written = await write();
        this.faults.succeeded();
        return written;
      } catch (err) {
        error = err;
      }
    }
  }

  /**
   * A conditional write (`false`: its condition did not hold), retried like `write`. When a retry is
   * refused, the first try may have landed with its answer lost, which is why the condition fails
   * now: `landed()` reads back whether what was written is stored. Undefined when given up.
   */
  async conditional(
    what: string,
    write: () => Promise<boolean>,
    landed: () => Promise<boolean>,
  ): Promise<boolean | undefined> {
    let tries = 0;
    const written = await this.write(what, () => {
      tries++;
      return write();
    });
    if (written !== false || tries === 1) return written;
    return this.write(`a read of ${what}`, landed);
  }
}
