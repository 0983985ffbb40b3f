import type { QueryRunner } from 'typeorm';

/** How often the open transactions watched are looked at. */
export const TRANSACTION_POLL_MS = 100;
/** How long the outcome of an ended transaction is tried to be read before giving up. */
const OUTCOME_READ_MS = 30_000;

interface Watch {
  readonly runner: QueryRunner;
  /** Reads, once the transaction ended, whether what it wrote is there (the outcome). */
  readonly outcome: () => Promise<boolean>;
  readonly settle: (committed: boolean) => void;
  readonly fail: (error: unknown) => void;
  /** Since when the outcome could not be read (`null`: not tried, or read). */
  failingSince: number | null;
  reading: boolean;
}

/**
 * Tells when the app's transactions end, and how: a write made through the app's `EntityManager`
 * is watched until its query runner is no longer in a transaction (committed, rolled back, or
 * released), then `outcome()` reads whether the write is there (a savepoint rolled back, a whole
 * transaction rolled back, or a commit). One timer for every watch, unref'd, only while there are
 * watches; nothing is read from the database while a transaction is open.
 */
export class TransactionWatch {
  private readonly watches = new Set<Watch>();
  private timer: NodeJS.Timeout | null = null;

  /** Resolves `true` once committed with the write, `false` once it is not there after the end. */
  watch(runner: QueryRunner, outcome: () => Promise<boolean>): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const watch: Watch = {
        runner,
        outcome,
        settle: (committed) => {
          this.forget(watch);
          resolve(committed);
        },
        fail: (error) => {
          this.forget(watch);
          reject(error);
        },
        failingSince: null,
        reading: false,
      };
      this.watches.add(watch);
      this.arm();
    });
  }

  /** How many transactions are being watched. */
  get size(): number {
    return this.watches.size;
  }

  /** Ends every watch as not committed (the storage closed) and stops the timer. */
  close(): void {
    for (const watch of this.watches) watch.settle(false);
    this.disarm();
  }

  private forget(watch: Watch): void {
    this.watches.delete(watch);
    if (this.watches.size === 0) this.disarm();
  }

  private arm(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.poll(), TRANSACTION_POLL_MS);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  private poll(): void {
    for (const watch of this.watches) {
      if (watch.reading) continue;
      if (watch.runner.isTransactionActive && !watch.runner.isReleased) continue;
      watch.reading = true;
      watch.outcome().then(
        (committed) => watch.settle(committed),
        (error: unknown) => {
          watch.reading = false;
          const now = Date.now();
          watch.failingSince ??= now;
          if (now - watch.failingSince >= OUTCOME_READ_MS) watch.fail(error);
        },
      );
    }
  }
}
