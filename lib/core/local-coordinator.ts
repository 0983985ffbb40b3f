import { JobNotFoundError } from '../errors/job-not-found.error.js';
import type { ActiveRun, JobEntry } from './job-entry.js';
import type { CoordinatorHost, RunCoordinator } from './run-coordinator.js';

const DONE: Promise<void> = Promise.resolve();

/**
 * A scheduler alone with its storage: it is the only writer, so a change is a plain update, a fire
 * needs no claim (the job is written `running`, then the run inserted), and a job found `running` at
 * start was left so by a process that died.
 */
export class LocalCoordinator implements RunCoordinator {
  readonly round = 0;
  readonly handOffMs = 0;
  readonly storesRegularNext = false;

  constructor(private readonly host: CoordinatorHost) {}

  async join(): Promise<void> {}
  start(): void {}
  stopPolling(): void {}
  async leave(): Promise<void> {}
  health(): undefined {
    return undefined;
  }

  async refresh(): Promise<void> {}

  async saveJob(entry: JobEntry): Promise<boolean> {
    await this.host.store.updateJob(entry.job);
    return true;
  }

  runningElsewhere(): boolean {
    return false;
  }

  handsOff(): boolean {
    return false;
  }

  launch(active: ActiveRun): void {
    this.host.execute(active);
  }

  // The two writes of a run's start return the storage's own promises: one await each in the
  // run path, no promise of ours around them.
  beforeRecord(active: ActiveRun): Promise<void> {
    const entry = active.fire.entry;
    return entry.removed ? DONE : this.host.store.updateJob(entry.job);
  }

  insertRun(active: ActiveRun): Promise<void> {
    return this.host.store.createRun(active.run);
  }

  startFailed(active: ActiveRun, err: unknown, skipped: boolean): boolean {
    const entry = active.fire.entry;
    const host = this.host;
    if (skipped) {
      // This fire was recorded already (a trigger in the same millisecond): the job was written
      // `running` just before, so it is written back.
      host.table.touch(entry.job);
      host.store
        .updateJob(entry.job)
        .catch((e: unknown) =>
          host.faults.failed(`the write of job "${entry.job.id}" back to pending`, e),
        );
      return false;
    }
    if (entry.removed || err instanceof JobNotFoundError) return false;
    host.faults.failed(`the start of a run of job "${entry.job.id}"`, err);
    return true;
  }

  /** Writes the run's end and then the job, in one storage call retried until it lands. */
  async writeEnd(active: ActiveRun): Promise<boolean> {
    const entry = active.fire.entry;
    const job = entry.removed ? null : entry.job;
    const run = active.run;
    const { store, writes } = this.host;
    try {
      await store.recordRunEnd(run, job);
    } catch (err) {
      await writes.retry(err, `the end of run ${run.id} of job "${run.jobId}"`, () =>
        store.recordRunEnd(run, job),
      );
    }
    return true;
  }

  letGo(): void {}
}
