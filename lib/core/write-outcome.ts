import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { RunAlreadyRecordedError } from '../errors/run-already-recorded.error.js';
import { StorageClosedError } from '../errors/storage-closed.error.js';
import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';

/**
 * Errors a storage gives for good (the job is gone, the fire is recorded by another run, the storage
 * is closed, the arguments are wrong): the same write again cannot get another answer. Anything
 * else (a dropped connection, a time-out, a deadlock) may pass on a retry, and the write may even
 * have landed with its answer lost.
 */
export function isDefinite(err: unknown): boolean {
  return (
    err instanceof JobNotFoundError ||
    err instanceof RunAlreadyRecordedError ||
    err instanceof StorageClosedError ||
    err instanceof InvalidArgumentError
  );
}

/** Whether `stored` is the job as `written` (its version and last update): a write read back. */
export function isJobStoredAs(stored: Job | null, written: Job): boolean {
  return (
    stored !== null &&
    stored.version === written.version &&
    stored.updatedAt.getTime() === written.updatedAt.getTime()
  );
}

/** Whether `stored` (the runs of its job, newest first) hold `ended` as it ended: a write read back. */
export function isRunStoredAs(stored: readonly Run[], ended: Run): boolean {
  const run = stored.find((r) => r.id === ended.id);
  return (
    run !== undefined &&
    run.status === ended.status &&
    run.endAt?.getTime() === ended.endAt?.getTime()
  );
}
