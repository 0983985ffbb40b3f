import type { Job } from '../interfaces/job.interface.js';
import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { InstanceLostError } from '../errors/instance-lost.error.js';
import type { CoordinatorHost } from '../core/run-coordinator.js';
import type { JobEntry } from '../core/job-entry.js';
import { applyLostRun } from '../core/lost-run.js';
import { formatError } from '../core/run-output.js';
import type { Schedule } from '../core/schedule/schedule.js';
import type { ClusterStorage, OrphanedJob } from '../interfaces/cluster-storage.js';
import type { JobStorage } from '../interfaces/job-storage.js';
import { copyJob } from '../core/record-copy.js';
import { ClusterLease } from './cluster-lease.js';
import { preferredLease } from './preferred-instance.js';
import { withTimeout } from './with-timeout.js';

/** The shortest time between two polls when claims are being lost (`pollSoon`). */
export const EARLY_POLL_GAP_MS = 100;
/**
 * An early poll comes no sooner than this many times the last poll's duration after it began: a
 * poll reads every job's version, so with many jobs (10,000: tens of ms of CPU here and in the
 * database) polls on every lost claim would cost more than the claims they spare. A lost claim
 * costs one row of a claim statement.
 */
export const EARLY_POLL_COST_FACTOR = 10;

/**
 * This instance's membership of a cluster: its lease (taken at start, renewed by a heartbeat), the
 * poll that takes in what other instances did to the jobs, and the recovery of the jobs of instances
 * whose lease expired. Fires are claimed and released by the `ClusterCoordinator` that holds it.
 */
export class ClusterMember {
  readonly lease: ClusterLease;
  /** Rounds of the poll so far; an entry changed here during a round is left alone by it. */
  round = 0;
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the last poll began and when the next one is due (host clock, epoch ms). */
  private lastPollAt = -Infinity;
  private nextPollAt = Infinity;
  /** How long the last poll took (host clock, ms). */
  private lastPollMs = 0;
  /** Jobs that cannot be scheduled here (a bad cron), by id: the version read, not read again. */
  private readonly unschedulable = new Map<string, number>();
  private reaping = false;
  /** The leases listed at the last look (each poll's): this instance's view of the members. */
  private members: readonly string[] = [];

  constructor(
    private readonly storage: JobStorage & ClusterStorage,
    private readonly options: NormalizedSchedulerOptions & {
      cluster: NonNullable<NormalizedSchedulerOptions['cluster']>;
    },
    private readonly host: CoordinatorHost,
  ) {
    this.lease = new ClusterLease(
      storage,
      options.cluster,
      options.logger,
      {
        renewed: () => void this.reapOnce(),
        lost: () => undefined,
      },
      host.faults,
    );
  }

  /** Takes a lease; rejects when the database cannot be reached. */
  async join(): Promise<void> {
    await this.lease.acquire();
    await this.listMembers();
  }

  /**
   * Whether a job's fires are best left to another instance first: the job prefers another member's
   * lease (`preferredLease`), and this instance's lease is listed (a lease not listed yet, or a view
   * of one member, prefers nothing: every instance tries at once, as before).
   */
  prefersOther(jobId: string): boolean {
    const members = this.members;
    if (members.length < 2) return false;
    const own = this.lease.id;
    if (!members.includes(own)) return false;
    return preferredLease(jobId, members) !== own;
  }

  /** Starts the heartbeat and the poll, and looks for lost instances' jobs at once. */
  start(): void {
    this.lease.start();
    this.schedulePoll();
    // Runs left by instances that died while none was alive are recorded as soon as their leases expire.
    void this.reapOnce();
  }

  /**
   * One look for lost instances at a time. One that hangs (the database went silent) is let go of
   * after `leaseTtl`, so the next renewal starts another.
   */
  private async reapOnce(): Promise<void> {
    if (this.reaping) return;
    this.reaping = true;
    try {
      await withTimeout(this.reap(), this.options.cluster.leaseTtl, 'recovering lost instances');
    } catch (err) {
      this.host.faults.failed('the look for runs of lost instances', err);
    } finally {
      this.reaping = false;
    }
  }

  /** Stops the poll (the heartbeat goes on until `leave()`). */
  stopPolling(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Removes the lease: last, once this instance's runs are recorded. */
  leave(): Promise<void> {
    this.stopPolling();
    return this.lease.release();
  }

  /**
   * A claim was lost to another instance: what this instance holds is behind, so the next poll is
   * moved up to `EARLY_POLL_GAP_MS` after the last one began (when that is sooner than its turn).
   * Instances draining the same backlog then stop trying jobs the others already ran.
   */
  pollSoon(): void {
    if (this.pollTimer === undefined || !this.host.isStarted()) return; // a poll is under way
    const at =
      this.lastPollAt + Math.max(EARLY_POLL_GAP_MS, this.lastPollMs * EARLY_POLL_COST_FACTOR);
    if (at >= this.nextPollAt) return;
    clearTimeout(this.pollTimer);
    this.schedulePoll(Math.max(0, at - this.host.now()));
  }

  private schedulePoll(delay = this.options.cluster.pollInterval): void {
    this.nextPollAt = this.host.now() + delay;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      const began = (this.lastPollAt = this.host.now());
      void this.poll().finally(() => {
        this.lastPollMs = this.host.now() - began;
        // Not when the scheduler stopped meanwhile, nor when a start() after it began its own round.
        if (this.host.isStarted() && this.pollTimer === undefined) this.schedulePoll();
      });
    }, delay);
  }

  private async listMembers(): Promise<void> {
    const leases = await this.storage.listLeases();
    this.members = leases.map((lease) => lease.id).sort();
  }

  /**
   * Takes in what other instances did to the jobs: added, changed (a new version), removed. It reads
   * every job's id and version, then in full only the jobs new or changed (one narrow read when
   * nothing changed). An entry with a run or a write going on here, or changed here during this
   * round, is left for the next round.
   */
  async poll(): Promise<void> {
    const round = ++this.round;
    const host = this.host;
    const listed = new Set<string>();
    let changed: Job[];
    try {
      // Every poll lists the leases (a few rows): an instance that joined since is known before the
      // jobs it prefers fall due. Listed only at renewals and after a lost claim, an instance that
      // started first saw none of the others when a backlog fell due, took every job as its own
      // and lost about 6,000 claims of a 10,000-job drain with three instances.
      await withTimeout(this.listMembers(), this.options.cluster.leaseTtl, 'listing the leases');
      const versions = await withTimeout(
        this.storage.listJobVersions(),
        this.options.cluster.leaseTtl,
        'reading the jobs',
      );
      const wanted: string[] = [];
      for (const { id, version } of versions) {
        listed.add(id);
        const entry = host.table.get(id);
        if (entry === undefined) {
          if (this.unschedulable.get(id) !== version) wanted.push(id);
        } else if (settledHere(entry, round) && (entry.stale || entry.job.version !== version)) {
          wanted.push(id);
        }
      }
      changed =
        wanted.length === 0
          ? []
          : await withTimeout(
              this.storage.getJobsById(wanted),
              this.options.cluster.leaseTtl,
              'reading the jobs',
            );
      host.faults.succeeded();
    } catch (err) {
      host.faults.failed('the cluster poll (a read of the jobs changed elsewhere)', err);
      return;
    }
    if (!host.isStarted()) return;
    for (const id of this.unschedulable.keys()) if (!listed.has(id)) this.unschedulable.delete(id);
    for (const job of changed) {
      const entry = host.table.get(job.id);
      if (entry === undefined) {
        let schedule: Schedule | null;
        try {
          schedule = host.table.scheduleOf(job);
        } catch {
          // Logged when this instance loaded it, or by the instance that added it; read again
          // once its version changes.
          this.unschedulable.set(job.id, job.version);
          continue;
        }
        this.unschedulable.delete(job.id);
        host.adopt(host.table.track(job, schedule), job);
        continue;
      }
      if (!settledHere(entry, round)) continue;
      if (entry.stale || entry.job.version !== job.version) host.adopt(entry, job);
    }
    for (const entry of host.table.values()) {
      if (!listed.has(entry.job.id) && settledHere(entry, round)) host.table.forget(entry);
    }
  }

  /**
   * After each renewal of this instance's lease: leases that expired (by the database's clock) are
   * removed, and the runs of their jobs are recorded failed (`InstanceLostError`).
   */
  async reap(): Promise<void> {
    if (!this.host.isStarted()) return;
    let orphans: OrphanedJob[];
    try {
      orphans = await this.storage.findOrphanedJobs();
      // The expired leases were just removed: what is listed now are the live members.
      await this.listMembers();
    } catch (err) {
      this.host.faults.failed('the look for runs of lost instances', err);
      return;
    }
    for (const orphan of orphans) {
      try {
        await this.recoverOrphan(orphan);
      } catch (err) {
        this.host.faults.failed(
          `the recovery of job "${orphan.jobId}" of lost lease ${orphan.claimedBy}`,
          err,
        );
      }
    }
  }

  /**
   * Recovers a job claimed by a lost lease: (1) this instance takes the claim over (one conditional
   * write: if it was still the lost lease's), so no other instance starts it and no late write of
   * the lost one lands; (2) its runs still `running` are recorded failed; (3) the job is released,
   * going on per its retry policy. An instance dying in between leaves the job claimed by its own
   * lease, recovered in turn.
   */
  private async recoverOrphan(orphan: OrphanedJob): Promise<void> {
    const { storage, host } = this;
    const lease = this.lease.id;
    const job = await storage.getJob(orphan.jobId);
    if (job === null) return;
    const taken = copyJob(job);
    host.table.touch(taken);
    const claimed = await storage.writeJobIf(taken, {
      version: job.version,
      claimedBy: orphan.claimedBy,
      claim: lease,
      lease,
    });
    if (!claimed) return; // recovered by another instance, or changed meanwhile
    const now = host.now();
    const error = new InstanceLostError(job.id, orphan.claimedBy, lease);
    let lost: Run | undefined;
    const recorded: Run[] = [];
    for (const run of await storage.getRuns(job.id, 10)) {
      if (run.status !== 'running') continue;
      run.status = 'failed';
      run.endAt = new Date(now);
      run.duration = Math.max(0, now - run.startAt.getTime());
      run.error = formatError(error, this.options.maxOutputSize);
      lost ??= run; // newest first
      if (await storage.finishRun(run)) recorded.push(run);
    }
    const schedule = host.table.scheduleOf(taken);
    const booked = applyLostRun(taken, schedule, lost, now);
    const expected = taken.version;
    host.table.touch(taken, now);
    const released = await host.writes.write(`the recovery of job "${job.id}"`, () =>
      storage.writeJobIf(taken, { version: expected, claimedBy: lease, claim: null }),
    );
    if (!released) return;
    const entry = host.table.get(job.id) ?? host.table.track(copyJob(taken), schedule);
    host.adopt(entry, taken, booked);
    this.options.logger.warn(
      `Job "${job.id}": lease ${orphan.claimedBy ?? '(none)'} was lost with ${lost ? `run ${lost.id} going on; it is recorded failed and the job goes on per its retry policy` : 'no run recorded; the job is scheduled again'}.`,
    );
    for (const run of recorded) host.signals.emit('run.failed', entry.job, run, run.error);
  }
}

/**
 * No run (a fire merely waiting for a slot does not count: what is stored may drop it), no write of
 * the entry going on here, and no change here during poll round `round`.
 */
function settledHere(entry: JobEntry, round: number): boolean {
  return (!entry.busy || entry.queued !== null) && entry.writing === 0 && entry.syncedAt < round;
}
