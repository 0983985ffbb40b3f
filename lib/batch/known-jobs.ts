import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { StorageClosedError } from '../errors/storage-closed.error.js';
import type { JobStorage } from '../interfaces/job-storage.js';

const DONE: Promise<void> = Promise.resolve();

function noop(): void {}

/**
 * The job ids a `BatchingStorage` has seen exist in its inner storage (created through it, read, or
 * listed), so that a write for one is buffered at once, and a write for any other is buffered only
 * once a read of the inner storage found its job (writes for one id stay in call order). A read that
 * spans a deletion does not count: every deletion moves `epoch` on.
 */
export class KnownJobs {
  private readonly known = new Set<string>();
  /** Writes for a job id not known yet, waiting for its existence check: the tail of each id's chain. */
  private readonly validating = new Map<string, Promise<void>>();
  private deleteEpoch = 0;

  constructor(
    private readonly inner: JobStorage,
    private readonly isClosed: () => boolean,
    private readonly name: string,
  ) {}

  /** Moves on with every deletion: a read begun before it does not mark its job known. */
  get epoch(): number {
    return this.deleteEpoch;
  }

  /** Whether a write for this job can be buffered at once (no existence check, none under way). */
  isKnown(jobId: string): boolean {
    return this.known.has(jobId) && (this.validating.size === 0 || !this.validating.has(jobId));
  }

  /** The job exists (it was created through the wrapper). */
  add(jobId: string): void {
    this.known.add(jobId);
  }

  /** A read begun at `epoch` found the job (or, `found` false, did not). */
  seen(jobId: string, found: boolean, epoch: number): void {
    if (!found) this.known.delete(jobId);
    else if (epoch === this.deleteEpoch) this.known.add(jobId);
  }

  /** The job is being deleted: writes for it from now on check its existence first. */
  deleted(jobId: string): void {
    this.known.delete(jobId);
    this.deleteEpoch++;
  }

  /**
   * The slow path of a write for a job id not known to exist: check the inner storage, then buffer
   * (`put`), or reject with `JobNotFoundError` (`strict`) or skip.
   */
  afterCheck(jobId: string, strict: boolean, put: () => Promise<void>): Promise<void> {
    const previous = this.validating.get(jobId) ?? DONE;
    const tail = previous
      .catch(noop)
      .then(() => this.exists(jobId))
      .then((exists) => {
        if (this.isClosed()) throw new StorageClosedError(this.name);
        if (exists) return put();
        if (strict) throw new JobNotFoundError(jobId);
      });
    this.validating.set(jobId, tail);
    const forget = (): void => {
      if (this.validating.get(jobId) === tail) this.validating.delete(jobId);
    };
    tail.then(forget, forget);
    return tail;
  }

  /** Whether the inner storage holds the job; a read that spans a deletion is done again. */
  private async exists(jobId: string): Promise<boolean> {
    for (;;) {
      if (this.known.has(jobId)) return true;
      const epoch = this.deleteEpoch;
      const job = await this.inner.getJob(jobId);
      if (epoch !== this.deleteEpoch) continue;
      if (job !== null) this.known.add(jobId);
      return job !== null;
    }
  }
}
