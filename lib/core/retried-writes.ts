import { JobNotFoundError } from '../errors/job-not-found.error.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import { RetryBackoff, WRITE_RETRY_FIRST_MS, WRITE_RETRY_MAX_MS } from './retry-backoff.js';
import { errorForLog } from './run-output.js';
import { sleep } from './settles-within.js';
import type { StorageFaultLog } from './storage-fault-log.js';
import { isDefinite } from './write-outcome.js';

/** How a write tried by `RetriedWrites.untilDefinite` ended, after how many tries. */
export type WriteOutcome<T> =
  { ok: true; value: T; tries: number } | { ok: false; error: unknown; tries: number };

/**
 * The scheduler's record writes that must land: a failure is retried with backoff (100 ms doubling
 * to 2 s) and reported to the fault log (once per episode). A write stops only when it goes through,
 * fails for good (`isDefinite`: its job is gone, its fire recorded by another run, the storage
 * closed), its caller abandons it, or `deadline` passes (set by `stop()`: shutdownTimeout to write
 * what is left).
 */
export class RetriedWrites {
  /** Past this instant (epoch ms), a failing write gives up instead of retrying. */
  deadline = Infinity;

  constructor(
    private readonly faults: StorageFaultLog,
    private readonly logger: JobLogger,
    private readonly now: () => number,
  ) {}

  /** `write`, retried until it lands; undefined when given up (logged, unless its job is gone). */
  async write<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    return this.given(what, await this.untilDefinite(what, write));
  }

  /**
   * `write` after its first try failed with `error` (callers on a hot path try it once themselves,
   * with no closure); as `write` from there.
   */
  async retry<T>(error: unknown, what: string, write: () => Promise<T>): Promise<T | undefined> {
    return this.given(what, await this.untilDefinite(what, write, undefined, { error }));
  }

  /**
   * `write` tried until it lands, fails for good, `abandoned()` says to stop, or the deadline
   * passes. `failed`: its first try was made already, and failed so.
   */
  async untilDefinite<T>(
    what: string,
    write: () => Promise<T>,
    abandoned: () => boolean = never,
    failed?: { error: unknown },
  ): Promise<WriteOutcome<T>> {
    let tries = failed === undefined ? 0 : 1;
    let error = failed?.error;
    let backoff: RetryBackoff | undefined;
    for (;;) {
      if (tries > 0) {
        if (isDefinite(error) || this.now() >= this.deadline || abandoned()) {
          return { ok: false, error, tries };
        }
        this.faults.failed(`the record of ${what}`, error);
        backoff ??= new RetryBackoff(WRITE_RETRY_FIRST_MS, WRITE_RETRY_MAX_MS);
        await sleep(backoff.failed());
        if (abandoned()) return { ok: false, error, tries };
      }
      tries++;
      try {
        const value = await write();
        this.faults.succeeded();
        return { ok: true, value, tries };
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
    const outcome = await this.untilDefinite(what, write);
    if (outcome.ok && !outcome.value && outcome.tries > 1) {
      return this.write(`a read of ${what}`, landed);
    }
    return this.given(what, outcome);
  }

  private given<T>(what: string, outcome: WriteOutcome<T>): T | undefined {
    if (outcome.ok) return outcome.value;
    if (!(outcome.error instanceof JobNotFoundError)) {
      this.logger.error(`Could not record ${what}; giving up: ${errorForLog(outcome.error)}`);
    }
    return undefined;
  }
}

function never(): boolean {
  return false;
}
