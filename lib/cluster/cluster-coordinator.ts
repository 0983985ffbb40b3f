import { InstanceLostError } from '../errors/instance-lost.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import type { Job } from '../interfaces/job.interface.js';
import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import type { SchedulerHealth } from '../interfaces/scheduler-health.interface.js';
import {
  releaseEntry,
  type ActiveRun,
  type Fire,
  type JobEntry,
  type UnsureClaim,
} from '../core/job-entry.js';
import { mergeRunOutcome } from '../core/merge-run-outcome.js';
import {
  CONFLICT_TRIES,
  type CoordinatorHost,
  type RunCoordinator,
} from '../core/run-coordinator.js';
import { isJobStoredAs, isRunStoredAs } from '../core/write-outcome.js';
import type {
  ClusterStorage,
  JobWriteCondition,
  RunEndOutcome,
} from '../interfaces/cluster-storage.js';
import type { JobStorage } from '../interfaces/job-storage.js';
import { copyJob } from '../core/record-copy.js';
import { ClusterMember } from './cluster-member.js';
import { ClusterWrites } from './cluster-writes.js';

/** How much longer than `pollInterval` a fire waits for the instance it prefers. */
const HANDOFF_MARGIN_MS = 250;

type ClusterOptions = NormalizedSchedulerOptions & {
  cluster: NonNullable<NormalizedSchedulerOptions['cluster']>;
};

/**
 * A scheduler as one of several instances sharing a database. Each fire is claimed (the job written
 * `running`, claimed by this instance's lease, in one conditional statement that the database
 * judges), its run recorded only while the claim is this lease's, and its end written only while
 * the run is still `running` (fencing: a run recorded lost by another instance stays so). The
 * membership (`ClusterMember`: lease, poll, recovery of lost instances) runs beside it.
 */
export class ClusterCoordinator implements RunCoordinator {
  readonly storesRegularNext = true;
  readonly handOffMs: number;
  private readonly member: ClusterMember;
  private readonly writes: ClusterWrites;

  constructor(
    private readonly storage: JobStorage & ClusterStorage,
    private readonly options: ClusterOptions,
    private readonly host: CoordinatorHost,
  ) {
    this.member = new ClusterMember(storage, options, host);
    this.writes = new ClusterWrites(storage);
    this.handOffMs = options.cluster.pollInterval + HANDOFF_MARGIN_MS;
  }

  get round(): number {
    return this.member.round;
  }

  join(): Promise<void> {
    return this.member.join();
  }

  start(): void {
    this.member.start();
  }

  stopPolling(): void {
    this.member.stopPolling();
  }

  leave(): Promise<void> {
    return this.member.leave();
  }

  health(): SchedulerHealth['cluster'] {
    return {
      instanceId: this.options.cluster.instanceId,
      leaseId: this.member.lease.id,
      leaseValid: this.member.lease.isValid(),
    };
  }

  refresh(entry: JobEntry): Promise<void> {
    return this.reread(entry, true);
  }

  /** Written only if the stored job is still at `expected`; else false, and the entry re-read. */
  async saveJob(entry: JobEntry, expected: number): Promise<boolean> {
    entry.writing++;
    let written: boolean;
    try {
      written = await this.storage.writeJobIf(entry.job, { version: expected });
    } catch (err) {
      entry.stale = true;
      throw err;
    } finally {
      entry.writing--;
    }
    entry.syncedAt = this.round;
    if (!written) await this.reread(entry, true);
    return written;
  }

  /** `running` is a run on another instance (this one's runs make the entry busy). */
  runningElsewhere(job: Job): boolean {
    return job.status === 'running';
  }

  /**
   * A first attempt of a job that prefers another instance (not a missed fire, a trigger, a retry or
   * a `'fire-all'` catch-up, which every instance tries at once). By the time it is due here again,
   * the poll has shown its run there (the fire is then dropped), or it is claimed here.
   */
  handsOff(fire: Fire): boolean {
    return (
      !fire.deferred &&
      !fire.manual &&
      fire.attempt === 1 &&
      fire.entry.catchUpFrom === null &&
      this.member.prefersOther(fire.entry.job.id)
    );
  }

  launch(active: ActiveRun): void {
    this.host.slots.claimBegun(active);
    void this.claimThenExecute(active);
  }

  /** The claim wrote the job `running`: nothing more before the run's record. */
  async beforeRecord(): Promise<void> {}

  /** Inserted only while the claim is this instance's. */
  insertRun(active: ActiveRun): Promise<boolean> {
    return this.writes.insertRun(active.run, active.claim);
  }

  /** A claimed fire did not start (its run could not be recorded): claimed by nobody again. */
  startFailed(active: ActiveRun, err: unknown, skipped: boolean): boolean {
    const entry = active.fire.entry;
    if (err instanceof InstanceLostError) {
      this.options.logger.warn(
        `Job "${entry.job.id}": the run did not start: another instance took the job over before it was recorded (lease ${active.claim} had expired).`,
      );
      entry.stale = true;
      void this.rereadQuietly(entry);
      return false;
    }
    // Skipped (recorded already), or given up (stopping, the storage closed): the claim is let go.
    if (skipped || (!entry.removed && !(err instanceof JobNotFoundError))) {
      void this.releaseClaim(entry, active.claim);
    }
    return false;
  }

  letGo(entry: JobEntry, unsure: UnsureClaim): void {
    void this.releaseClaim(entry, unsure.claim, undefined, unsure);
  }

  /**
   * Claims a fire: the job is written `running`, claimed by this instance's lease, if it is still as
   * this instance last read it, claimed by nobody, and the lease is live (all checked by the
   * database in one statement). Won: the run starts. Lost: another instance claimed it (or changed
   * the job); the job is re-read.
   */
  private async claimThenExecute(active: ActiveRun): Promise<void> {
    const { host, storage } = this;
    const lease = this.member.lease;
    const { fire } = active;
    const entry = fire.entry;
    const unsure = fire.unsure;
    if (unsure !== null) {
      fire.unsure = null;
      entry.writing--;
    }
    let claimed = false;
    let failure: unknown;
    const leaseValid = lease.isValid();
    if (leaseValid && fire.gen === entry.gen && !entry.removed) {
      active.claim = lease.id;
      entry.writing++;
      try {
        if (unsure !== null) {
          // The last claim of this fire may have landed: this write applies only if it did.
          claimed = await storage.writeJobIf(entry.job, {
            version: unsure.version,
            claimedBy: unsure.claim,
            claim: active.claim,
            lease: active.claim,
          });
        }
        claimed ||= await this.writes.claim(entry.job, active.expectedVersion, active.claim);
        host.faults.succeeded();
      } catch (err) {
        failure = err;
      } finally {
        entry.writing--;
      }
      entry.syncedAt = this.round;
    } else if (unsure !== null) {
      // Not claimed again (no valid lease, or the job changed meanwhile): the unsure claim is let go.
      this.letGo(entry, unsure);
    }
    host.slots.claimEnded(active);
    if (claimed) entry.stale = false; // what is stored is what this instance wrote
    if (claimed && host.isStarted() && !entry.removed) {
      host.execute(active);
      return;
    }
    active.settled = true;
    releaseEntry(entry);
    if (!claimed) {
      // Put back what the start of the run changed here; the next poll reads what was stored meanwhile.
      const job = entry.job;
      job.status = active.statusBefore;
      job.lastRunAt = active.lastRunBefore;
      job.version = active.expectedVersion;
    }
    entry.stale = true;
    if (claimed) {
      // Stopped (or removed) while claiming: give the fire back.
      void this.releaseClaim(entry, active.claim, fire.manual ? undefined : fire.scheduledAt);
    } else if (failure !== undefined) {
      host.faults.failed(`the claim of a fire of job "${entry.job.id}"`, failure);
      // The claim may have landed with its answer lost: the restart confirms it or claims anew.
      host.restart(fire, {
        claim: active.claim,
        version: active.expectedVersion + 1,
        lastRunAt: active.run.startAt,
      });
    } else if (leaseValid) {
      // Claimed by another instance (or changed by one): the next poll reads what it wrote. The
      // next fire is booked here already, and the instance that wrote last holds the job as stored.
      host.signals.tallies.firesClaimedElsewhere++;
      this.member.pollSoon();
    }
    // Without a valid lease nothing was written: the poll re-reads the job once the lease is back.
    host.followUp(entry, failure === undefined);
    host.pump();
    host.flight.end();
  }

  /**
   * Writes the job back unclaimed and `pending` (due at `dueAt` when given), if the claim is still
   * this lease's; the write is retried until it lands. Then the fire is booked from what is stored.
   * `unsure`: the claim's answer was lost (what is held here was put back to before it); the
   * release applies only if that very claim landed: the job stored at its version, with its run's
   * start as `lastRunAt` (a later claim here may have reached the same version number).
   */
  private async releaseClaim(
    entry: JobEntry,
    claim: string,
    dueAt?: number,
    unsure?: UnsureClaim,
  ): Promise<void> {
    const host = this.host;
    const job = copyJob(entry.job);
    if (unsure !== undefined) job.version = unsure.version;
    const expected = job.version;
    const condition: JobWriteCondition = { version: expected, claimedBy: claim, claim: null };
    if (unsure !== undefined) condition.lastRunAt = unsure.lastRunAt;
    if (job.status === 'running') job.status = 'pending';
    if (dueAt !== undefined && job.status === 'pending') job.nextRunAt = new Date(dueAt);
    host.table.touch(job);
    // stop() waits for it, so that the lease is released after the claim.
    host.flight.begin();
    try {
      entry.writing++;
      let released: boolean | undefined;
      try {
        released = await host.writes.write(`the release of job "${job.id}"`, () =>
          this.storage.writeJobIf(job, condition),
        );
      } finally {
        entry.writing--;
      }
      if (entry.removed || released === undefined) return;
      if (released) host.adopt(entry, job);
      else await this.rereadQuietly(entry);
    } finally {
      host.flight.end();
    }
  }

  /**
   * The end of a run: the run record is written only while it is still `running` (fencing: if this
   * instance's lease expired and another instance recorded the run lost, that record stands), then
   * the job, released, only while the claim is still this run's. A job another instance changed
   * during the run (paused, redefined) gets the run's outcome merged in.
   */
  async writeEnd(active: ActiveRun, versionBefore: number, decidedNext: boolean): Promise<boolean> {
    const { host, storage } = this;
    const { run, fire } = active;
    const entry = fire.entry;
    const job = entry.job;
    const release = { version: versionBefore, claimedBy: active.claim, claim: null };
    if (this.writes.endsInOne) {
      // Both in one statement: the job is written only if the run's end was (both or neither).
      let outcome: RunEndOutcome = { finished: false, released: false };
      const written = await host.writes.conditional(
        `the end of run ${run.id} of job "${job.id}"`,
        async () => {
          outcome = await this.writes.endAndRelease(run, job, release);
          return outcome.finished && outcome.released;
        },
        async () =>
          isRunStoredAs(await storage.getRuns(run.jobId, 20), run) &&
          isJobStoredAs(await storage.getJob(job.id), job),
      );
      if (written === undefined || entry.removed) return true;
      if (written) {
        entry.syncedAt = this.round;
        return true;
      }
      if (!outcome.finished) return this.endNotRecorded(active);
      // The run's end is written; the job changed meanwhile: its outcome is merged in below.
      return this.writeJobAfterRun(active, versionBefore, decidedNext, false);
    }
    const recorded = await host.writes.conditional(
      `the end of run ${run.id} of job "${job.id}"`,
      () => storage.finishRun(run),
      async () => isRunStoredAs(await storage.getRuns(run.jobId, 20), run),
    );
    if (recorded === undefined || entry.removed) return true;
    if (!recorded) return this.endNotRecorded(active);
    return this.writeJobAfterRun(active, versionBefore, decidedNext, true);
  }

  /** The run's end was refused: another instance recorded it lost, or the job was removed. */
  private async endNotRecorded(active: ActiveRun): Promise<boolean> {
    const { run, fire } = active;
    const entry = fire.entry;
    this.options.logger.warn(
      `Job "${entry.job.id}" run ${run.id} ended (${run.status}), but its record was not written: another instance recorded it lost (lease ${active.claim} had expired), or the job was removed. What is stored stands.`,
    );
    entry.stale = true;
    await this.rereadQuietly(entry);
    return false;
  }

  /**
   * Writes the job after its run's end (releasing the claim), over the version it had; when another
   * instance changed it meanwhile, the run's outcome is merged into what is stored and written again
   * (`tryFirst` false: the first write was made and refused already, with the run's end).
   */
  private async writeJobAfterRun(
    active: ActiveRun,
    versionBefore: number,
    decidedNext: boolean,
    tryFirst: boolean,
  ): Promise<boolean> {
    const { host, storage } = this;
    const { run, fire } = active;
    const entry = fire.entry;
    const job = entry.job;
    entry.writing++;
    try {
      let ended = job;
      let expected = versionBefore;
      for (let tries = 1; tries <= CONFLICT_TRIES; tries++) {
        const target = ended;
        const version = expected;
        if (tries > 1 || tryFirst) {
          const written = await host.writes.conditional(
            `job "${job.id}" after run ${run.id}`,
            () => storage.writeJobIf(target, { version, claimedBy: active.claim, claim: null }),
            async () => isJobStoredAs(await storage.getJob(job.id), target),
          );
          if (written === undefined) return true;
          if (written) {
            if (ended !== job) host.adopt(entry, ended);
            entry.syncedAt = this.round;
            return true;
          }
        }
        const stored = await storage.getJob(job.id);
        if (stored === null) {
          host.table.forget(entry);
          return true;
        }
        ended = mergeRunOutcome(stored, job, decidedNext);
        expected = stored.version;
        host.table.touch(ended);
      }
      this.options.logger.warn(
        `Job "${job.id}": the outcome of run ${run.id} could not be written on the job (other instances kept changing it, or it was taken over); the job is re-read.`,
      );
      entry.stale = true;
    } catch (err) {
      entry.stale = true;
      host.faults.failed(`the write of job "${job.id}" after run ${run.id}`, err);
    } finally {
      entry.writing--;
    }
    await this.rereadQuietly(entry);
    return true;
  }

  /** Re-reads a job and holds what is stored (forgets it when removed). */
  private async reread(entry: JobEntry, mustExist: boolean): Promise<void> {
    const stored = await this.storage.getJob(entry.job.id);
    if (stored === null) {
      this.host.table.forget(entry);
      if (mustExist) throw new JobNotFoundError(entry.job.id);
      return;
    }
    this.host.adopt(entry, stored);
  }

  private async rereadQuietly(entry: JobEntry): Promise<void> {
    try {
      await this.reread(entry, false);
    } catch (err) {
      this.host.faults.failed(`a read of job "${entry.job.id}" (the poll reads it again)`, err);
    }
  }
}
