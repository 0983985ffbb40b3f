import type { SpanContext } from '@opentelemetry/api';
import type { Observable } from 'rxjs';
import { HandlerNotFoundError } from '../errors/handler-not-found.error.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { StorageUnavailableError } from '../errors/storage-unavailable.error.js';
import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import { JobAlreadyExistsError } from '../errors/job-already-exists.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { JobPausedError } from '../errors/job-paused.error.js';
import { JobRunningError } from '../errors/job-running.error.js';
import { JobTimeoutError } from '../errors/job-timeout.error.js';
import { RunAbortedError } from '../errors/run-aborted.error.js';
import { RunAlreadyRecordedError } from '../errors/run-already-recorded.error.js';
import { SchedulerAlreadyStartedError } from '../errors/scheduler-already-started.error.js';
import { SchedulerNotStartedError } from '../errors/scheduler-not-started.error.js';
import type { Handler, HandlerFunc } from '../interfaces/handler.interface.js';
import type { Job, JobDefinition } from '../interfaces/job.interface.js';
import type { JobEvent, JobEventType } from '../interfaces/job-event.interface.js';
import type { SchedulerMetrics } from '../interfaces/metrics.interface.js';
import type { SchedulerHealth } from '../interfaces/scheduler-health.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import { isPrunableStorage, type JobStorage } from '../storage/job-storage.js';
import type { ClusterStorage } from '../storage/cluster-storage.js';
import { mergeRunOutcome } from './merge-run-outcome.js';
import { decideMisfire } from './misfire.js';
import { InstanceLostError } from '../errors/instance-lost.error.js';
import { JobConflictError } from '../errors/job-conflict.error.js';
import type { ClusterRole } from './cluster-role.js';
import { deepFreeze } from './deep-freeze.js';
import { Dispatcher } from './dispatcher.js';
import { FireTimer } from './fire-timer.js';
import { HandlerRegistry } from './handler-registry.js';
import { HistoryPruner } from './history-pruner.js';
import { IdGenerator } from './ids.js';
import { applyLostRun, type BookedFire } from './lost-run.js';
import { firstFire, newJob, validateJobDefinition } from './job-definition.js';
import { afterRun } from './after-run.js';
import { assignDefinition, sameDefinition } from './job-fields.js';
import type { ActiveRun, Fire, JobEntry, UnsureClaim } from './job-entry.js';
import { copyJob } from '../storage/record-copy.js';
import { RunContext } from './run-context.js';
import { errorForLog, formatError, formatOutput } from './run-output.js';
import { restartDelay } from './fault-backoff.js';
import { CronScheduleCache } from './schedule/cron-schedule.js';
import { IntervalSchedule } from './schedule/interval-schedule.js';
import type { Schedule } from './schedule/schedule.js';
import { RetriedWrites } from './retried-writes.js';
import { settlesWithin } from './settles-within.js';
import type { ReadCache, SchedulerParts, WriteBuffer } from './scheduler-parts.js';
import { SchedulerSignals } from './scheduler-signals.js';
import { StorageFaultLog } from './storage-fault-log.js';
import { isJobStoredAs, isRunStoredAs } from './write-outcome.js';
import { createJobTracer } from '../telemetry/create-job-tracer.js';
import { JobMetrics } from '../telemetry/job-metrics.js';
import { UNTRACED, type JobTracer } from '../telemetry/job-tracer.js';

/** Cluster mode: how much longer than `pollInterval` a fire waits for the instance it prefers. */
const HANDOFF_MARGIN_MS = 250;

/**
 * The scheduler's core, over any `JobStorage`: one timer over a min-heap of next fires; due fires
 * wait for one of `concurrentRuns` slots in due-time order; every run leaves one run record that
 * ends `success` or `failed`. Built by `Scheduler` (lib/scheduler.ts), which reads the options and
 * hands it the parts they turn on (`SchedulerParts`): the core imports none of them.
 */
export class SchedulerCore {
  /** The storage given (or the default MemoryStorage). */
  readonly storage: JobStorage;
  readonly options: NormalizedSchedulerOptions;
  readonly events$: Observable<JobEvent>;

  /** What the scheduler reads and writes through: the storage, wrapped by the cache and the batch buffer when enabled. */
  private readonly store: JobStorage;
  /** The write buffer and the cache, when the options turned them on. */
  private readonly buffer: WriteBuffer | undefined;
  private readonly cache: ReadCache | undefined;
  private readonly pruner: HistoryPruner | undefined;
  private readonly tracer: JobTracer;
  private readonly telemetry: JobMetrics;
  /** Record writes retried until they land (given up past `writes.deadline`, set by stop()). */
  private readonly writes: RetriedWrites;
  private readonly signals: SchedulerSignals;
  private readonly handlers = new HandlerRegistry();
  private readonly ids = new IdGenerator();
  private readonly crons = new CronScheduleCache();
  private readonly entries = new Map<string, JobEntry>();
  /** Fires not yet due, by due time, and the one wake-up timer. */
  private readonly timers = new FireTimer(
    () => this.wake(),
    () => this.now(),
  );
  /** The slots, and the due fires waiting for one. */
  private readonly slots: Dispatcher;
  /** Runs whose handler was called and has not settled, in call order (so in deadline order). */
  private readonly timed = new Set<ActiveRun>();
  /** Where storage failures are reported: once per episode, not per call. */
  private readonly faults: StorageFaultLog;
  /** Cluster mode: the shared storage and this instance's membership (undefined when alone). */
  private readonly cluster: ClusterStorage | undefined;
  private readonly member: ClusterRole | undefined;
  private started = false;
  /** The last stop(), once called: a later call resolves with it. */
  private stopping: Promise<void> | undefined;
  /** Runs from their start until their last record is written. */
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /**
   * The last Dates made by `clockDate` / `fireDate`: equal instants share one Date, so a burst of
   * fires allocates a few Dates, not several per run. The core never mutates a Date and hands out
   * only copies (snapshots, the handler's ctx).
   */
  private lastClockDate = new Date(NaN);
  private lastFireDate = new Date(NaN);

  constructor(parts: SchedulerParts) {
    this.options = parts.options;
    this.storage = parts.storage;
    this.faults = new StorageFaultLog(this.options.logger, () => this.now());
    this.signals = new SchedulerSignals(
      () => this.now(),
      () => ({
        runningNow: this.slots.active.size,
        queuedNow: this.slots.queued,
        scheduledJobs: this.timers.size,
      }),
    );
    this.writes = new RetriedWrites(this.faults, this.options.logger, () => this.now());
    this.slots = new Dispatcher(this.options.concurrentRuns, this.options.cluster !== null);
    this.tracer = this.options.tracer ?? createJobTracer();
    const wrapped = parts.wrap?.({ faults: this.faults, tracer: this.tracer });
    this.store = wrapped?.store ?? this.storage;
    this.buffer = wrapped?.buffer;
    this.cache = wrapped?.cache;
    const buffer = this.buffer;
    const cache = this.cache;
    this.telemetry = new JobMetrics({
      scheduler: () => this.signals.snapshot(),
      batch: buffer && (() => buffer.metrics()),
      cache: cache && (() => cache.metrics()),
    });
    const retention = this.options.historyRetention;
    if (retention !== null) {
      if (!isPrunableStorage(this.storage)) {
        throw new InvalidOptionsError(
          'historyRetention',
          retention,
          `a storage that can prune run history (pruneRuns), such as MemoryStorage or TypeOrmStorage; ${this.storage.constructor.name} cannot`,
        );
      }
      this.pruner = new HistoryPruner(
        this.storage,
        retention,
        this.options.logger,
        () => this.now(),
        this.faults,
      );
    }
    if (parts.cluster !== undefined) {
      this.cluster = parts.cluster.storage;
      this.member = parts.cluster.join({
        entries: this.entries,
        isStarted: () => this.started,
        now: () => this.now(),
        adopt: (entry, stored, booked) => this.adopt(entry, stored, booked),
        forget: (entry) => this.forget(entry),
        track: (job, schedule) => this.track(job, schedule),
        scheduleOf: (job) => this.scheduleOf(job),
        touch: (job, now) => this.touch(job, now),
        emit: (type, entry, run, error) => this.signals.emit(type, entry.job, run, error),
        writeRetried: (what, write) => this.writes.write(what, write),
        faults: this.faults,
      });
    }
    this.events$ = this.signals.events$;
  }

  // ---- handlers -------------------------------------------------------------------------------

  /** Registers a handler object (`execute(payload, ctx)`) under a unique name. */
  registerHandler(name: string, handler: Handler, source?: string): void {
    this.handlers.register(name, handler, source);
  }

  /** Registers a function `(payload, ctx) => result` under a unique name. */
  registerHandlerFunc(name: string, fn: HandlerFunc, source?: string): void {
    this.handlers.registerFunc(name, fn, source);
  }

  hasHandler(name: string): boolean {
    return this.handlers.has(name);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  /** Validates and stores a new job (generating its id when empty) and schedules it. */
  async addJob(definition: JobDefinition): Promise<Job> {
    const def = validateJobDefinition(definition, this.crons);
    if (!this.handlers.has(def.handlerName)) throw new HandlerNotFoundError(def.handlerName);
    const job = newJob(def, def.id ?? this.ids.uuid(), this.now());
    await this.store.createJob(job);
    const entry = this.track(job, def.schedule);
    entry.syncedAt = this.pollRound();
    this.scheduleAt(entry, job.nextRunAt?.getTime() ?? NaN);
    this.signals.emit('job.added', entry.job);
    return copyJob(job);
  }

  /**
   * Creates or updates a job declared in code under a stable id: unchanged, it is left alone (a
   * paused job stays paused); changed, its definition is updated and its next fire recomputed.
   */
  ensureJob(definition: JobDefinition & { id: string }): Promise<Job> {
    return this.ensureJobTry(definition, 1);
  }

  private async ensureJobTry(
    definition: JobDefinition & { id: string },
    tries: number,
  ): Promise<Job> {
    const def = validateJobDefinition(definition, this.crons);
    if (!this.handlers.has(def.handlerName)) throw new HandlerNotFoundError(def.handlerName);
    const stored = await this.store.getJob(definition.id);
    if (stored === null) {
      try {
        return await this.addJob(definition);
      } catch (err) {
        // Another instance declared it between our read and our write: update that one instead.
        if (err instanceof JobAlreadyExistsError) return this.ensureJobTry(definition, tries);
        throw err;
      }
    }
    const candidate = newJob(def, definition.id, this.now());
    if (sameDefinition(stored, candidate)) {
      this.track(stored, def.schedule, true);
      return stored;
    }
    const entry = this.track(stored, def.schedule, true);
    const job = entry.job;
    const expected = job.version;
    assignDefinition(job, candidate);
    entry.gen++;
    this.dropQueued(entry);
    if (job.status !== 'paused') {
      // A job running (here, or in cluster mode on another instance) stays so until its run ends.
      const running = entry.busy || (this.cluster !== undefined && job.status === 'running');
      job.status = running ? job.status : 'pending';
      job.retryCount = 0;
      job.nextRunAt = candidate.nextRunAt;
    }
    this.touch(job);
    if (!(await this.saveJob(entry, expected))) {
      if (tries >= CONFLICT_TRIES) throw new JobConflictError(definition.id, 'update', tries);
      return this.ensureJobTry(definition, tries + 1);
    }
    if (job.status !== 'paused') this.scheduleAt(entry, job.nextRunAt?.getTime() ?? NaN);
    this.signals.emit('job.updated', entry.job);
    return copyJob(job);
  }

  /** Removes a job and its history; a run in flight ends, but the job never fires again. */
  async removeJob(id: string): Promise<void> {
    const entry = await this.entryFor(id);
    await this.store.deleteJob(id);
    entry.removed = true;
    entry.gen++;
    this.dropQueued(entry);
    this.entries.delete(id);
    this.signals.emit('job.removed', entry.job);
  }

  /** Stops a job from firing until resumed; a run in flight ends normally. No-op when finished. */
  pauseJob(id: string): Promise<void> {
    return this.changeJob(id, 'pause', 'job.paused', (entry) => {
      const job = entry.job;
      if (job.status === 'paused' || job.status === 'completed' || job.status === 'failed') {
        return false;
      }
      job.status = 'paused';
      job.nextRunAt = null;
      entry.gen++;
      this.dropQueued(entry);
      entry.catchUpFrom = NaN;
      entry.catchUpRuns = 0;
      return true;
    });
  }

  /** Schedules a paused job again from now (a once job whose time passed runs at once). */
  resumeJob(id: string): Promise<void> {
    return this.changeJob(id, 'resume', 'job.resumed', (entry) => {
      const job = entry.job;
      if (job.status !== 'paused') return false;
      const next = firstFire(
        { runAt: job.runAt?.getTime() ?? NaN, schedule: entry.schedule },
        this.now(),
      );
      job.status = 'pending';
      job.nextRunAt = Number.isFinite(next) ? new Date(next) : null;
      entry.gen++;
      // Booked before the write lands: a write that fails (cluster: a conflict) re-reads the job,
      // which drops this fire.
      this.scheduleAt(entry, next);
      return true;
    });
  }

  /**
   * Applies a change to a job here and writes it. In cluster mode the change is made on the job as
   * stored now and written only if no other instance changed it meanwhile; else it is made again on
   * what that instance wrote (a few times, then `JobConflictError`).
   */
  private async changeJob(
    id: string,
    action: string,
    event: JobEventType,
    change: (entry: JobEntry) => boolean,
  ): Promise<void> {
    for (let tries = 1; ; tries++) {
      const entry = await this.entryFor(id);
      if (this.cluster !== undefined) await this.refresh(entry, true);
      const expected = entry.job.version;
      if (!change(entry)) return;
      this.touch(entry.job);
      if (await this.saveJob(entry, expected)) {
        this.signals.emit(event, entry.job);
        return;
      }
      if (tries >= CONFLICT_TRIES) throw new JobConflictError(id, action, tries);
    }
  }

  /** Runs a job now, outside its schedule (queued if no slot is free). */
  async triggerJob(id: string): Promise<void> {
    if (!this.started) throw new SchedulerNotStartedError('triggerJob()');
    const entry = await this.entryFor(id);
    if (this.cluster !== undefined) await this.refresh(entry, true);
    if (entry.job.status === 'paused') throw new JobPausedError(id);
    // Cluster mode: `running` is a run on another instance (this one's runs make the entry busy).
    if (entry.busy || (this.cluster !== undefined && entry.job.status === 'running')) {
      throw new JobRunningError(id);
    }
    // A fire is keyed by (job, scheduledAt, attempt): two triggers in one millisecond get two instants.
    const now = Math.max(this.now(), entry.lastTriggerAt + 1);
    entry.lastTriggerAt = now;
    const fire: Fire = {
      at: now,
      seq: this.timers.nextSeq(),
      entry,
      gen: entry.gen,
      attempt: 1,
      scheduledAt: now,
      manual: true,
      deferred: false,
      link: this.tracer.activeSpanContext(),
      restarts: 0,
      missed: false,
      unsure: null,
    };
    entry.busy = true;
    this.offer(fire);
  }

  /** The stored job; `JobNotFoundError` when there is none. */
  async getJob(id: string): Promise<Job> {
    const job = await this.store.getJob(id);
    if (job === null) throw new JobNotFoundError(id);
    return job;
  }

  listJobs(): Promise<Job[]> {
    return this.store.listJobs();
  }

  /** Up to `limit` runs of a job, newest first. */
  getRuns(jobId: string, limit = 20): Promise<Run[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError('limit', limit, 'an integer >= 1');
    }
    return this.store.getRuns(jobId, limit);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Loads the jobs from storage and starts firing them. A job left `running` by a process that died
   * is recovered: its unfinished runs are recorded failed, and it is scheduled again.
   */
  async start(): Promise<void> {
    if (this.started) throw new SchedulerAlreadyStartedError();
    this.started = true;
    this.stopping = undefined;
    try {
      await this.member?.join();
      await this.load();
    } catch (err) {
      this.started = false;
      await this.member?.leave();
      throw new StorageUnavailableError(
        this.member
          ? 'take its cluster lease and load its jobs at start'
          : 'load its jobs at start',
        err,
      );
    }
    this.rearm();
    this.writes.deadline = Infinity;
    this.pruner?.start();
    this.telemetry.start();
    this.member?.start();
    this.options.logger.log(
      `Scheduler started: ${this.entries.size} job(s) loaded, ${this.timers.size} scheduled.`,
    );
  }

  /**
   * Stops firing; runs in flight get `shutdownTimeout` to end, then are aborted and recorded failed.
   * Resolves once every run record is written. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.started) return this.stopping ?? this.whenIdle();
    this.started = false;
    this.stopping = this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.member?.stopPolling();
    this.timers.cancel();
    // Fires put back after a failed claim may hold a claim that landed: let it go.
    for (let fire = this.timers.take(); fire; fire = this.timers.take()) this.dropUnsure(fire);
    for (let fire = this.slots.take(); fire; fire = this.slots.take()) {
      if (fire.entry.queued === fire) this.release(fire.entry);
      this.dropUnsure(fire);
    }
    if (this.slots.active.size > 0) {
      let timeout: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.whenIdle(),
        new Promise<void>(
          (resolve) => (timeout = setTimeout(resolve, this.options.shutdownTimeout)),
        ),
      ]);
      clearTimeout(timeout);
      const reason = `the scheduler stopped and the run did not end within shutdownTimeout (${this.options.shutdownTimeout} ms)`;
      for (const active of this.slots.active) {
        const error = new RunAbortedError(active.run.jobId, reason);
        active.aborted = true;
        active.ctx.abort(error);
        this.settle(active, false, error);
      }
    }
    // Records of aborted runs get one more shutdownTimeout to be written (the storage may be down);
    // a write that hangs (a connection that never answers) does not hold the shutdown past it.
    this.writes.deadline = this.now() + this.options.shutdownTimeout;
    if (!(await settlesWithin(this.whenIdle(), this.options.shutdownTimeout))) {
      this.options.logger.error(
        `Scheduler stopping: ${this.inFlight} run(s) still had records unwritten after shutdownTimeout (${this.options.shutdownTimeout} ms); the storage did not answer. A run left \`running\` is recorded failed by the next start (or, in cluster mode, by another instance once this lease expires).`,
      );
    }
    await this.pruner?.stop();
    await this.flushBeforeStop();
    // Last: the lease covered the runs until their records were written.
    await this.member?.leave();
    this.telemetry.stop();
    this.cache?.dispose();
    this.faults.dispose();
  }

  /** Flushes batched writes, retried until they land or the write deadline passes. */
  private async flushBeforeStop(): Promise<void> {
    const buffer = this.buffer;
    if (buffer === undefined) return;
    const left = Math.max(0, this.writes.deadline - this.now());
    if ((await buffer.flushWithin(left)) === 'written') return;
    const { pendingJobs, pendingRuns } = buffer.metrics();
    this.options.logger.error(
      `Scheduler stopping: ${pendingJobs} job and ${pendingRuns} run record(s) could not be written within shutdownTimeout (${this.options.shutdownTimeout} ms); the storage did not answer.`,
    );
  }

  isStarted(): boolean {
    return this.started;
  }

  /** A snapshot: counters, run durations, and the batch buffer's and the cache's figures. */
  metrics(): SchedulerMetrics {
    return {
      ...this.signals.snapshot(),
      duration: this.telemetry.durations.stats(),
      ...(this.buffer ? { batch: this.buffer.metrics() } : {}),
      ...(this.cache ? { cache: this.cache.metrics() } : {}),
    };
  }

  /**
   * A readiness summary: started, storage reachable (a `ping()`), and how late the oldest due fire
   * that has not started is (a scheduler that falls behind shows it here first).
   */
  async health(): Promise<SchedulerHealth> {
    let storageError: string | undefined;
    try {
      await this.store.ping();
    } catch (err) {
      storageError = errorForLog(err);
    }
    const now = this.now();
    let oldestDue = this.slots.oldestDue;
    const nextTimer = this.timers.peek();
    if (this.started && nextTimer !== undefined && nextTimer.at < oldestDue)
      oldestDue = nextTimer.at;
    return {
      started: this.started,
      storageReachable: storageError === undefined,
      ...(storageError === undefined ? {} : { storageError }),
      oldestDueLagMs: Number.isFinite(oldestDue) ? Math.max(0, now - oldestDue) : 0,
      runningNow: this.slots.active.size,
      queuedNow: this.slots.queued,
      ...(this.member && this.options.cluster
        ? {
            cluster: {
              instanceId: this.options.cluster.instanceId,
              leaseId: this.member.lease.id,
              leaseValid: this.member.lease.isValid(),
            },
          }
        : {}),
    };
  }

  /** The clock (epoch ms); Date.now, so fake timers drive it in tests. */
  protected now(): number {
    return Date.now();
  }

  // ---- cluster mode ---------------------------------------------------------------------------

  /**
   * Writes a job changed here (its version already bumped from `expected`). Alone: an update. In
   * cluster mode: only if the stored job is still at `expected`; false (and the entry re-read) when
   * another instance changed it meanwhile.
   */
  private async saveJob(entry: JobEntry, expected: number): Promise<boolean> {
    if (this.cluster === undefined) {
      await this.store.updateJob(entry.job);
      return true;
    }
    entry.writing++;
    let written: boolean;
    try {
      written = await this.cluster.writeJobIf(entry.job, { version: expected });
    } catch (err) {
      entry.stale = true;
      throw err;
    } finally {
      entry.writing--;
    }
    entry.syncedAt = this.pollRound();
    if (!written) await this.refresh(entry, true);
    return written;
  }

  /**
   * Claims a fire: the job is written `running`, claimed by this instance's lease, if it is still as
   * this instance last read it, claimed by nobody, and the lease is live (all checked by the
   * database in one statement). Won: the run starts. Lost: another instance claimed it (or changed
   * the job); the job is re-read.
   */
  private async claimThenExecute(active: ActiveRun): Promise<void> {
    const cluster = this.cluster as ClusterStorage;
    const lease = (this.member as ClusterRole).lease;
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
          claimed = await cluster.writeJobIf(entry.job, {
            version: unsure.version,
            claimedBy: unsure.claim,
            claim: active.claim,
            lease: active.claim,
          });
        }
        claimed ||= await cluster.writeJobIf(entry.job, {
          version: active.expectedVersion,
          claimedBy: null,
          claim: active.claim,
          lease: active.claim,
        });
        this.faults.succeeded();
      } catch (err) {
        failure = err;
      } finally {
        entry.writing--;
      }
      entry.syncedAt = this.pollRound();
    } else if (unsure !== null) {
      // Not claimed again (no valid lease, or the job changed meanwhile): the unsure claim is let go.
      void this.releaseClaim(entry, unsure.claim);
    }
    this.slots.claimEnded();
    if (claimed) entry.stale = false; // what is stored is what this instance wrote
    if (claimed && this.started && !entry.removed) {
      this.slots.active.add(active);
      this.began(active);
      void this.tracer.runInContext(active.trace, this.execute, this, active);
      return;
    }
    active.settled = true;
    this.release(entry);
    if (!claimed) {
      // Put back what startRun changed here; the next poll reads what was stored meanwhile.
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
      this.faults.failed(`the claim of a fire of job "${entry.job.id}"`, failure);
      // The claim may have landed with its answer lost: the restart confirms it or claims anew.
      this.restart(fire, { claim: active.claim, version: active.expectedVersion + 1 });
    } else if (leaseValid) {
      // Claimed by another instance (or changed by one): the next poll reads what it wrote. The
      // next fire is booked here already, and the instance that wrote last holds the job as stored.
      this.signals.tallies.firesClaimedElsewhere++;
      this.member?.pollSoon();
    }
    // Without a valid lease nothing was written: the poll re-reads the job once the lease is back.
    this.followUp(entry, failure === undefined);
    this.pump();
    this.settledInFlight();
  }

  /** A claimed fire did not start (its run could not be recorded): claimed by nobody again. */
  private startFailedInCluster(active: ActiveRun, err: unknown): void {
    const { fire } = active;
    const entry = fire.entry;
    if (err instanceof InstanceLostError) {
      this.options.logger.warn(
        `Job "${entry.job.id}": the run did not start: another instance took the job over before it was recorded (lease ${active.claim} had expired).`,
      );
      entry.stale = true;
      void this.refreshQuietly(entry);
      return;
    }
    if (err instanceof RunAlreadyRecordedError) {
      this.signals.tallies.firesSkipped++;
      this.signals.emit('run.skipped', entry.job);
      void this.releaseClaim(entry, active.claim);
    } else if (!entry.removed && !(err instanceof JobNotFoundError)) {
      // Given up (stopping, or the storage closed): the claim is let go; the fire is not run here.
      void this.releaseClaim(entry, active.claim);
    }
  }

  /**
   * Writes the job back unclaimed and `pending` (due at `dueAt` when given), if the claim is still
   * this lease's; the write is retried until it lands. Then the fire is booked from what is stored.
   */
  private async releaseClaim(entry: JobEntry, claim: string, dueAt?: number): Promise<void> {
    const cluster = this.cluster as ClusterStorage;
    const job = copyJob(entry.job);
    const expected = job.version;
    if (job.status === 'running') job.status = 'pending';
    if (dueAt !== undefined && job.status === 'pending') job.nextRunAt = new Date(dueAt);
    this.touch(job);
    // stop() waits for it, so that the lease is released after the claim.
    this.inFlight++;
    try {
      entry.writing++;
      let released: boolean | undefined;
      try {
        released = await this.writes.write(`the release of job "${job.id}"`, () =>
          cluster.writeJobIf(job, { version: expected, claimedBy: claim, claim: null }),
        );
      } finally {
        entry.writing--;
      }
      if (entry.removed || released === undefined) return;
      if (released) this.adopt(entry, job);
      else await this.refreshQuietly(entry);
    } finally {
      this.settledInFlight();
    }
  }

  /**
   * The end of a run in cluster mode: the run record is written only while it is still `running`
   * (fencing: if this instance's lease expired and another instance recorded the run lost, that
   * record stands), then the job, released, only while the claim is still this run's. A job
   * another instance changed during the run (paused, redefined) gets the run's outcome merged in.
   */
  private async writeEndInCluster(
    active: ActiveRun,
    versionBefore: number,
    decidedNext: boolean,
  ): Promise<boolean> {
    const cluster = this.cluster as ClusterStorage;
    const { run, fire } = active;
    const entry = fire.entry;
    const job = entry.job;
    const recorded = await this.writes.conditional(
      `the end of run ${run.id} of job "${job.id}"`,
      () => cluster.finishRun(run),
      async () => isRunStoredAs(await this.storage.getRuns(run.jobId, 20), run),
    );
    if (recorded === undefined || entry.removed) return true;
    if (!recorded) {
      this.options.logger.warn(
        `Job "${job.id}" run ${run.id} ended (${run.status}), but its record was not written: another instance recorded it lost (lease ${active.claim} had expired), or the job was removed. What is stored stands.`,
      );
      entry.stale = true;
      await this.refreshQuietly(entry);
      return false;
    }
    entry.writing++;
    try {
      let ended = job;
      let expected = versionBefore;
      for (let tries = 1; tries <= CONFLICT_TRIES; tries++) {
        const target = ended;
        const version = expected;
        const written = await this.writes.conditional(
          `job "${job.id}" after run ${run.id}`,
          () => cluster.writeJobIf(target, { version, claimedBy: active.claim, claim: null }),
          async () => isJobStoredAs(await this.storage.getJob(job.id), target),
        );
        if (written === undefined) return true;
        if (written) {
          if (ended !== job) this.adopt(entry, ended);
          entry.syncedAt = this.pollRound();
          return true;
        }
        const stored = await this.storage.getJob(job.id);
        if (stored === null) {
          this.forget(entry);
          return true;
        }
        ended = mergeRunOutcome(stored, job, decidedNext);
        expected = stored.version;
        this.touch(ended);
      }
      this.options.logger.warn(
        `Job "${job.id}": the outcome of run ${run.id} could not be written on the job (other instances kept changing it, or it was taken over); the job is re-read.`,
      );
      entry.stale = true;
    } catch (err) {
      entry.stale = true;
      this.faults.failed(`the write of job "${job.id}" after run ${run.id}`, err);
    } finally {
      entry.writing--;
    }
    await this.refreshQuietly(entry);
    return true;
  }

  /** Re-reads a job and holds what is stored (forgets it when removed). */
  private async refresh(entry: JobEntry, mustExist = false): Promise<void> {
    const stored = await this.storage.getJob(entry.job.id);
    if (stored === null) {
      this.forget(entry);
      if (mustExist) throw new JobNotFoundError(entry.job.id);
      return;
    }
    this.adopt(entry, stored);
  }

  private async refreshQuietly(entry: JobEntry): Promise<void> {
    try {
      await this.refresh(entry);
    } catch (err) {
      this.faults.failed(`a read of job "${entry.job.id}" (the poll reads it again)`, err);
    }
  }

  /**
   * Holds a job as stored (written by another instance, or by this one): its fires queued here are
   * dropped and its next fire is booked from the stored row (`booked` instead, when given). A run of
   * it going on here goes on.
   */
  private adopt(entry: JobEntry, stored: Job, booked?: BookedFire | null): void {
    let schedule: Schedule | null;
    try {
      schedule = this.scheduleOf(stored);
    } catch (err) {
      this.options.logger.error(
        `Job "${stored.id}" cannot be scheduled and is skipped: ${errorForLog(err)}`,
      );
      this.forget(entry);
      return;
    }
    this.track(stored, schedule, true);
    entry.gen++;
    this.dropQueued(entry);
    const next = stored.nextRunAt?.getTime();
    // A 'fire-all' catch-up is counted from what is stored: a catch-up running here stores the
    // job's next regular fire at each claim, and a stored fire that is past is judged afresh (the
    // count of a fire this instance tried meanwhile, which another one ran, does not carry over).
    entry.catchUpFrom = NaN;
    entry.catchUpRuns = 0;
    entry.stale = false;
    entry.syncedAt = this.pollRound();
    if (booked !== undefined) {
      if (booked !== null) this.scheduleAt(entry, booked.at, booked.attempt, booked.scheduledAt);
      return;
    }
    // A `running` once job's next fire is the one running; a recurring one's is its next.
    const running = stored.status === 'running' && schedule !== null;
    if (next !== undefined && (stored.status === 'pending' || running)) {
      const retrying = stored.status === 'pending' && stored.retryCount > 0;
      this.scheduleAt(entry, next, retrying ? stored.retryCount + 1 : 1);
    }
  }

  /** Cluster mode: the poll round now going on (0 when alone). */
  private pollRound(): number {
    return this.member?.round ?? 0;
  }

  /** The job was removed (by another instance): never fired here again. */
  private forget(entry: JobEntry): void {
    entry.removed = true;
    entry.gen++;
    this.dropQueued(entry);
    if (this.entries.get(entry.job.id) === entry) this.entries.delete(entry.job.id);
  }

  // ---- loading --------------------------------------------------------------------------------

  private async load(): Promise<void> {
    this.entries.clear();
    this.timers.clear();
    const jobs = await this.store.listJobs();
    const now = this.now();
    for (const job of jobs) {
      let entry: JobEntry;
      try {
        entry = this.track(job, this.scheduleOf(job), true);
      } catch (err) {
        this.options.logger.error(
          `Job "${job.id}" cannot be scheduled and is skipped: ${errorForLog(err)}`,
        );
        continue;
      }
      entry.syncedAt = this.pollRound();
      // Cluster mode: a `running` job runs on another instance (or on a dead one, until its lease
      // expires); its fires are skipped meanwhile, so they are booked too.
      if (job.status === 'running' && this.cluster === undefined) {
        const lost = await this.recover(entry, now);
        if (lost !== undefined) continue; // recover() scheduled what comes next
      }
      const runningElsewhere = job.status === 'running' && this.cluster !== undefined;
      // (A running once job's only fire is the one running.)
      if (job.status !== 'pending' && !(runningElsewhere && entry.schedule !== null)) continue;
      const due =
        job.nextRunAt?.getTime() ??
        firstFire({ runAt: job.runAt?.getTime() ?? NaN, schedule: entry.schedule }, now);
      this.scheduleAt(entry, due, job.retryCount > 0 ? job.retryCount + 1 : 1);
    }
  }

  /**
   * A job left `running` by a process that died: its unfinished runs are recorded failed, and the
   * lost run counts as a failed attempt: retried (as its next attempt, now) while retries are left,
   * else a once job fails and a recurring one goes on to its next fire. Resolves to the lost run,
   * or undefined when none was recorded (the process died before recording it).
   */
  private async recover(entry: JobEntry, now: number): Promise<Run | undefined> {
    const job = entry.job;
    let lost: Run | undefined;
    for (const run of await this.store.getRuns(job.id, 10)) {
      if (run.status !== 'running') continue;
      run.status = 'failed';
      run.endAt = this.clockDate(now);
      run.duration = Math.max(0, now - run.startAt.getTime());
      run.error =
        'RunAbortedError: the process running it stopped before the run ended (recovered at start)';
      await this.store.updateRun(run);
      lost ??= run; // newest first
    }
    const booked = applyLostRun(job, entry.schedule, lost, now);
    // Without a lost run, load() books the job's next fire.
    if (lost !== undefined && booked !== null) {
      this.scheduleAt(entry, booked.at, booked.attempt, booked.scheduledAt);
    }
    this.touch(job);
    await this.store.updateJob(job);
    const outcome =
      lost === undefined
        ? 'no run of it was recorded; it is scheduled again'
        : job.status === 'failed'
          ? 'its unfinished run was recorded failed, and the job failed (no retries left)'
          : 'its unfinished run was recorded failed, and the job goes on per its retry policy';
    this.options.logger.warn(`Job "${job.id}" was left running by a stopped process: ${outcome}.`);
    return lost;
  }

  private scheduleOf(job: Job): Schedule | null {
    if (job.type === 'cron') return this.crons.get(job.cron as string, job.timezone);
    if (job.type === 'interval') return new IntervalSchedule(job.interval as number);
    return null;
  }

  /** The entry of a job, loading it from storage when this scheduler does not hold it yet. */
  private async entryFor(id: string): Promise<JobEntry> {
    const held = this.entries.get(id);
    if (held !== undefined) return held;
    const job = await this.store.getJob(id);
    if (job === null) throw new JobNotFoundError(id);
    const entry = this.entries.get(id) ?? this.track(job, this.scheduleOf(job));
    return entry;
  }

  /** Holds a job (replacing what was held for its id, keeping a run in flight's state). */
  private track(job: Job, schedule: Schedule | null, replace = false): JobEntry {
    const held = this.entries.get(job.id);
    if (held !== undefined && !replace) return held;
    job.payload = deepFreeze(job.payload);
    // Held for the job's life: share equal Dates (jobs created together, jobs firing together).
    job.createdAt = this.clockDate(job.createdAt.getTime());
    job.updatedAt = this.clockDate(job.updatedAt.getTime());
    if (job.nextRunAt !== null) job.nextRunAt = this.fireDate(job.nextRunAt.getTime());
    if (held !== undefined) {
      held.job = job;
      held.schedule = schedule;
      return held;
    }
    const entry: JobEntry = {
      job,
      schedule,
      gen: 0,
      busy: false,
      queued: null,
      removed: false,
      lastTriggerAt: 0,
      catchUpFrom: NaN,
      catchUpRuns: 0,
      writing: 0,
      syncedAt: 0,
      stale: false,
      handling: false,
      after: null,
    };
    this.entries.set(job.id, entry);
    return entry;
  }

  // ---- firing ---------------------------------------------------------------------------------

  private scheduleAt(
    entry: JobEntry,
    at: number,
    attempt = 1,
    scheduledAt = at,
    link?: SpanContext,
  ): void {
    this.timers.book(entry, at, attempt, scheduledAt, link, this.started);
  }

  private rearm(): void {
    if (!this.started) return;
    this.timers.armNext();
    const oldest = this.timed.values().next();
    if (!oldest.done) this.timers.wakeAt(oldest.value.deadline);
  }

  /** The timer went off: time out overdue runs, fire what is due, arm for what comes next. */
  private wake(): void {
    if (!this.started) return;
    const now = this.now();
    for (const active of this.timed) {
      if (active.deadline > now) break;
      this.timeOut(active);
    }
    for (let fire = this.timers.takeDue(now); fire; fire = this.timers.takeDue(now)) {
      this.fire(fire, now);
    }
    this.rearm();
  }

  private fire(fire: Fire, now: number): void {
    if (fire.restarts > 0) return this.refire(fire, now);
    const entry = fire.entry;
    if (fire.gen !== entry.gen || entry.removed) return;
    let missed = false;
    if (fire.attempt === 1 && entry.schedule !== null && !fire.deferred) {
      missed = now - fire.at > this.options.misfireThreshold;
      if (missed && !this.misfired(entry, fire, now)) return;
      // A regular fire books the next one now, from its own instant: a slow run never drifts a job.
      if (!missed || entry.job.misfirePolicy !== 'fire-all') this.scheduleNext(entry, fire.at, now);
      else if (this.cluster !== undefined) this.storeRegularNext(entry, now);
      if (!missed) {
        entry.catchUpRuns = 0;
        entry.catchUpFrom = NaN;
      }
    }
    // Cluster mode: an instance without the job's handler leaves it to those that have it (a
    // rolling deployment), and `running` is a run on another instance (as last read; a stale read is
    // corrected by the claim, which checks the stored row).
    if (this.cluster !== undefined && !this.handlers.has(entry.job.handlerName)) return;
    if (!missed && this.handsOff(fire)) {
      // Left first to the instance the job prefers: by the time this fire is due here again, the
      // poll has shown its run there (the fire is then dropped), or it is claimed here.
      fire.deferred = true;
      this.signals.tallies.firesDeferred++;
      fire.at = now + (this.options.cluster?.pollInterval ?? 0) + HANDOFF_MARGIN_MS;
      this.timers.rebook(fire, false);
      return;
    }
    if (entry.busy || (this.cluster !== undefined && entry.job.status === 'running')) {
      if (entry.busy && entry.queued === null && !entry.handling && entry.after === null) {
        // The job's run is being started or recorded (its handler is not running): this fire
        // follows it once its records are written (a retry or a 'fire-all' catch-up it booked, or
        // the next regular fire), judged then if it is late.
        fire.missed = missed;
        entry.after = fire;
        return;
      }
      this.signals.tallies.firesSkipped++;
      this.signals.emit('run.skipped', entry.job);
      return;
    }
    entry.busy = true;
    this.offer(fire);
  }

  /**
   * Cluster mode: a first attempt of a job that prefers another instance (not a missed fire, a
   * trigger, a retry or a `'fire-all'` catch-up, which every instance tries at once as before).
   */
  private handsOff(fire: Fire): boolean {
    return (
      this.member !== undefined &&
      !fire.deferred &&
      !fire.manual &&
      fire.attempt === 1 &&
      Number.isNaN(fire.entry.catchUpFrom) &&
      this.member.prefersOther(fire.entry.job.id)
    );
  }

  /**
   * A recurring job's fire is missed (late past misfireThreshold: downtime, a clock jump forward).
   * Returns whether to run it: `'fire-once'` runs it and skips the other missed fires (booked by
   * `scheduleNext`); `'skip'` runs none and books the next fire after now; `'fire-all'` runs each
   * missed fire in turn (the next is booked when this run ends), at most `maxMisfires`.
   */
  private misfired(entry: JobEntry, fire: Fire, now: number): boolean {
    const job = entry.job;
    switch (decideMisfire(job.misfirePolicy, entry.catchUpRuns, job.maxMisfires)) {
      case 'run':
        return true;
      case 'catch-up':
        entry.catchUpRuns++;
        entry.catchUpFrom = fire.scheduledAt;
        return true;
      case 'give-up':
        entry.catchUpRuns = 0;
        entry.catchUpFrom = NaN;
        break;
      case 'skip':
        break;
    }
    this.signals.tallies.firesMissed++;
    this.scheduleNext(entry, fire.scheduledAt, now);
    return false;
  }

  /** `'fire-all'` catch-up: after a missed fire's run, book the next missed one (or the next fire). */
  private continueCatchUp(entry: JobEntry, now: number): void {
    const from = entry.catchUpFrom;
    if (Number.isNaN(from) || entry.schedule === null) return;
    entry.catchUpFrom = NaN;
    const next = entry.schedule.next(from);
    if (next === null) return;
    if (next > now) entry.catchUpRuns = 0;
    entry.job.nextRunAt = this.fireDate(next);
    if (next <= now && this.cluster !== undefined) this.storeRegularNext(entry, now);
    this.scheduleAt(entry, next);
  }

  /**
   * Cluster mode, `'fire-all'` catch-up: the job is stored with its next regular fire, so the
   * instance that won the first missed fire runs the catch-up alone (its `maxMisfires` count is the
   * cluster's) while the others wait for the regular schedule.
   */
  private storeRegularNext(entry: JobEntry, now: number): void {
    const next = entry.schedule?.next(now) ?? null;
    entry.job.nextRunAt = next === null ? null : this.fireDate(next);
  }

  /** Books the regular fire after `from`; fires already missed collapse into none (fire-once). */
  private scheduleNext(entry: JobEntry, from: number, now: number): void {
    const schedule = entry.schedule;
    if (schedule === null) return;
    let next = schedule.next(from);
    if (next !== null && next <= now) next = schedule.next(now);
    entry.job.nextRunAt = next === null ? null : this.fireDate(next);
    if (next !== null) this.scheduleAt(entry, next);
  }

  private offer(fire: Fire): void {
    if (this.slots.hasSlot()) this.startRun(fire);
    else this.slots.enqueue(fire);
  }

  /**
   * The job was paused, removed or redefined: a fire of it still waiting for a slot will not run
   * (its generation is stale), so the job is free at once rather than when that fire is popped.
   */
  private dropQueued(entry: JobEntry): void {
    if (entry.queued === null) return;
    entry.queued = null;
    entry.busy = false;
  }

  /** A slot came free: start waiting fires in due order. */
  private pump(): void {
    while (this.started) {
      const fire = this.slots.next();
      if (fire === undefined) return;
      const entry = fire.entry;
      if (fire.gen !== entry.gen || entry.removed) this.release(entry);
      else this.startRun(fire);
    }
  }

  private release(entry: JobEntry): void {
    entry.busy = false;
    entry.queued = null;
  }

  // ---- running --------------------------------------------------------------------------------

  private startRun(fire: Fire): void {
    const now = this.now();
    const job = fire.entry.job;
    const run: Run = {
      id: this.ids.uuid(),
      jobId: job.id,
      status: 'running',
      startAt: this.clockDate(now),
      endAt: null,
      output: '',
      error: '',
      duration: 0,
      traceId: '',
      attempt: fire.attempt,
      scheduledAt: this.fireDate(fire.scheduledAt),
      createdAt: this.clockDate(now),
    };
    const expectedVersion = job.version;
    const statusBefore = job.status;
    const lastRunBefore = job.lastRunAt;
    if (job.status !== 'paused') job.status = 'running';
    job.lastRunAt = run.startAt;
    this.touch(job, now);
    const active: ActiveRun = {
      fire,
      run,
      ctx: new RunContext(job, run, fire.attempt),
      startedAt: now,
      deadline: Infinity,
      settled: false,
      aborted: false,
      trace: UNTRACED,
      expectedVersion,
      claim: '',
      statusBefore,
      lastRunBefore,
    };
    this.inFlight++;
    if (this.cluster !== undefined) {
      this.slots.claimBegun();
      void this.claimThenExecute(active);
      return;
    }
    this.slots.active.add(active);
    this.began(active);
    void this.tracer.runInContext(active.trace, this.execute, this, active);
  }

  /** The run starts: its span (whose trace id its record keeps). */
  private began(active: ActiveRun): void {
    const { fire, run } = active;
    active.trace = this.tracer.startRun(fire.entry.job, fire.link, run);
    run.traceId = this.tracer.traceId(active.trace);
  }

  /** Records the start, then calls the handler; its settling (or the time-out) ends the run. */
  private async execute(active: ActiveRun): Promise<void> {
    const { fire } = active;
    const job = fire.entry.job;
    if (this.cluster === undefined && !fire.entry.removed) {
      try {
        await this.store.updateJob(job);
      } catch (err) {
        // Nothing of the run is stored yet: the fire can start over.
        return this.startFailed(active, err);
      }
    }
    if (!(await this.recordStart(active)) || active.settled) return;
    // Counted and told once its record is written (a start that could not be is tried again).
    this.signals.tallies.runsStarted++;
    this.signals.emit('run.started', fire.entry.job, active.run);
    const handler = this.handlers.get(job.handlerName);
    if (handler === undefined)
      return this.settle(active, false, new HandlerNotFoundError(job.handlerName));
    // The time-out is the handler's: it counts from here, whatever the start writes took.
    active.deadline = this.now() + this.options.jobTimeout;
    fire.entry.handling = true;
    this.timed.add(active);
    if (this.timed.size === 1) this.timers.wakeAt(active.deadline);
    let result: unknown;
    this.tracer.handlerExecuting(active.trace);
    try {
      result = handler.execute(job.payload, active.ctx);
    } catch (err) {
      return this.settle(active, false, err);
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.settle(active, true, value),
        (err) => this.settle(active, false, err),
      );
    } else {
      this.settle(active, true, result);
    }
  }

  /**
   * Inserts the run's record (in cluster mode, only while the claim is this instance's). A write that
   * failed may have landed with its answer lost, so it is not given up but tried again, with the same
   * run id, until the answer is definite: the fire is then run (or, when the storage refuses the run
   * for good, dropped). Resolves to whether the handler may run.
   */
  private async recordStart(active: ActiveRun): Promise<boolean> {
    let inserted: boolean;
    try {
      inserted = await this.insertRun(active);
      this.faults.succeeded();
    } catch (error) {
      const { run, fire } = active;
      const outcome = await this.writes.untilDefinite(
        `the start of run ${run.id} of job "${fire.entry.job.id}"`,
        () => this.insertRun(active),
        () => active.settled,
        { error },
      );
      if (active.settled) return false; // aborted by stop() meanwhile
      if (!outcome.ok) {
        // A retry refused as a fire recorded already: the first try landed, unless another run did.
        const landed =
          outcome.error instanceof RunAlreadyRecordedError && (await this.isStored(run));
        if (!landed) this.startFailed(active, outcome.error);
        return landed;
      }
      inserted = outcome.value;
    }
    if (!inserted) {
      const job = active.fire.entry.job;
      this.startFailed(active, new InstanceLostError(job.id, active.claim, 'this instance'));
    }
    return inserted;
  }

  /** One insert of the run's record; false when the claim it needs is no longer this instance's. */
  private async insertRun(active: ActiveRun): Promise<boolean> {
    if (this.cluster !== undefined) return this.cluster.createClaimedRun(active.run, active.claim);
    await this.store.createRun(active.run);
    return true;
  }

  /** Whether the run is stored (read back, retried, after a write whose answer was lost). */
  private async isStored(run: Run): Promise<boolean> {
    const stored = await this.writes.write(
      `a read of the start record of run ${run.id}`,
      async () => (await this.storage.getRuns(run.jobId, 20)).some((r) => r.id === run.id),
    );
    return stored === true;
  }

  /**
   * The start could not be recorded: the handler does not run. A failed write that stored nothing
   * of the run (or a claim that may have landed) starts the fire over, soon; a fire the storage
   * refuses for good (recorded already, its job gone) is dropped.
   */
  private startFailed(active: ActiveRun, err: unknown): void {
    const { fire } = active;
    const entry = fire.entry;
    active.settled = true;
    this.slots.active.delete(active);
    this.release(entry);
    const job = entry.job;
    if (job.status === 'running') job.status = 'pending';
    job.lastRunAt = active.lastRunBefore;
    const skipped = err instanceof RunAlreadyRecordedError;
    let restarted = false;
    this.tracer.endRun(active.trace, {
      status: skipped ? 'skipped' : 'failed',
      durationMs: 0,
      error: skipped ? undefined : err,
    });
    if (this.cluster !== undefined) {
      this.startFailedInCluster(active, err);
    } else if (skipped) {
      // This fire was recorded already (by another instance, or a trigger in the same millisecond).
      // The job was written `running` just before: write it back.
      this.signals.tallies.firesSkipped++;
      this.signals.emit('run.skipped', entry.job);
      this.touch(entry.job);
      this.store
        .updateJob(entry.job)
        .catch((e: unknown) =>
          this.faults.failed(`the write of job "${entry.job.id}" back to pending`, e),
        );
    } else if (!entry.removed && !(err instanceof JobNotFoundError)) {
      this.faults.failed(`the start of a run of job "${entry.job.id}"`, err);
      this.restart(fire, null);
      restarted = true;
    }
    this.followUp(entry, !restarted);
    this.pump();
    this.settledInFlight();
  }

  /**
   * Puts back a fire whose start (or claim) could not be written, to be tried again soon (50 ms,
   * doubling to 1 s). Meanwhile it is the job's one pending fire (the next one, booked when it fell
   * due, is dropped, and booked again when this one goes through), and the job counts as busy.
   * `refire()` applies the job's misfire policy once the fire is late past `misfireThreshold`.
   */
  private restart(fire: Fire, unsure: UnsureClaim | null): void {
    const entry = fire.entry;
    if (!this.started || fire.gen !== entry.gen || entry.removed) {
      if (unsure !== null) void this.releaseClaim(entry, unsure.claim);
      return;
    }
    entry.gen++;
    fire.gen = entry.gen;
    fire.restarts++;
    fire.deferred = false;
    fire.at = this.now() + restartDelay(fire.restarts);
    if (unsure !== null) {
      // The poll leaves the job alone until the claim is confirmed or let go.
      fire.unsure = unsure;
      entry.writing++;
    }
    entry.busy = true;
    entry.queued = fire;
    this.timers.rebook(fire, true);
  }

  /**
   * A fire put back by `restart()` is due again. Dropped when the job was paused, removed or changed
   * meanwhile (an unsure claim is let go). A regular fire late past `misfireThreshold` (by its
   * instant) is judged by the job's misfire policy once; one that goes on books the job's next fire
   * again, from its own instant, before it is offered a slot.
   */
  private refire(fire: Fire, now: number): void {
    const entry = fire.entry;
    if (entry.queued !== fire || fire.gen !== entry.gen || entry.removed) {
      if (entry.queued === fire) this.release(entry);
      this.dropUnsure(fire);
      return;
    }
    entry.queued = null;
    if (!fire.manual && fire.attempt === 1 && entry.schedule !== null) {
      if (!fire.missed && now - fire.scheduledAt > this.options.misfireThreshold) {
        fire.missed = true;
        if (!this.misfired(entry, fire, now)) {
          this.release(entry);
          this.dropUnsure(fire);
          return;
        }
      }
      if (!fire.missed || entry.job.misfirePolicy !== 'fire-all') {
        this.scheduleNext(entry, fire.scheduledAt, now);
      } else if (this.cluster !== undefined) {
        this.storeRegularNext(entry, now);
      }
    }
    this.offer(fire);
  }

  /** A fire with an unsure claim will not be claimed again: the claim is let go (if it landed). */
  private dropUnsure(fire: Fire): void {
    const unsure = fire.unsure;
    if (unsure === null) return;
    fire.unsure = null;
    fire.entry.writing--;
    void this.releaseClaim(fire.entry, unsure.claim);
  }

  private timeOut(active: ActiveRun): void {
    const error = new JobTimeoutError(active.run.jobId, this.options.jobTimeout);
    this.signals.tallies.runsTimedOut++;
    active.ctx.abort(error);
    this.signals.emit('run.timed_out', active.fire.entry.job, active.run, error.message);
    this.settle(active, false, error);
  }

  /** The handler settled, timed out or was aborted: free the slot, then write the records. */
  private settle(active: ActiveRun, ok: boolean, value: unknown): void {
    if (active.settled) return;
    active.settled = true;
    this.slots.active.delete(active);
    this.timed.delete(active);
    active.fire.entry.handling = false;
    const now = this.now();
    const run = active.run;
    run.endAt = this.clockDate(now);
    run.duration = now - active.startedAt;
    if (ok) {
      run.status = 'success';
      run.output = formatOutput(value, this.options.maxOutputSize);
    } else {
      run.status = 'failed';
      run.error = formatError(value, this.options.maxOutputSize);
    }
    this.telemetry.runEnded(active.fire.entry.job.handlerName, run.status, run.duration);
    this.pump();
    void this.tracer.runInContext(active.trace, this.finish, this, active, ok, now, value);
  }

  /** Decides what comes next for the job, and writes the run and the job. */
  private async finish(active: ActiveRun, ok: boolean, now: number, value: unknown): Promise<void> {
    const { fire, run } = active;
    const entry = fire.entry;
    const job = entry.job;
    let event: JobEventType | null = ok ? 'run.succeeded' : 'run.failed';
    if (ok) {
      this.signals.tallies.runsSucceeded++;
      job.lastResult = run.output;
    } else {
      this.signals.tallies.runsFailed++;
      job.lastResult = run.error;
    }
    const versionBefore = job.version;
    const nextBefore = job.nextRunAt?.getTime() ?? null;
    const paused = job.status === 'paused';
    const next = afterRun(job, ok, entry.removed, now, this.options.retryDelay);
    switch (next.kind) {
      case 'retry':
        job.retryCount++;
        this.signals.tallies.runsRetried++;
        event = 'run.retrying';
        job.nextRunAt = paused ? null : new Date(next.at);
        entry.gen++;
        if (!paused)
          this.scheduleAt(
            entry,
            next.at,
            fire.attempt + 1,
            fire.scheduledAt,
            this.tracer.spanContext(active.trace),
          );
        break;
      case 'completed':
      case 'failed':
        if (ok) job.retryCount = 0;
        this.finishOnce(job, next.kind);
        break;
      case 'next':
        job.retryCount = 0;
        this.endRetries(entry, fire, now);
        break;
    }
    if (paused) job.status = 'paused';
    else if (job.status === 'running') job.status = 'pending';
    this.touch(job, now);
    // The record of a run is never dropped: a failing write is retried until it lands.
    if (this.cluster !== undefined) {
      const decidedNext = (job.nextRunAt?.getTime() ?? null) !== nextBefore;
      // Fenced (the run was recorded lost by another instance): its outcome here is no event.
      if (!(await this.writeEndInCluster(active, versionBefore, decidedNext))) event = null;
    } else {
      await this.writeEnd(active);
    }
    this.tracer.endRun(active.trace, {
      status: ok ? 'success' : 'failed',
      durationMs: run.duration,
      error: ok ? undefined : value,
    });
    this.release(entry);
    this.followUp(entry, true);
    if (event !== 'run.succeeded' && event !== null) {
      const level = event === 'run.retrying' ? 'warn' : 'error';
      this.options.logger[level](
        `Job "${job.id}" (${job.name}) run ${run.id} failed (attempt ${run.attempt}): ${run.error}`,
      );
    }
    if (event !== null) this.signals.emit(event, entry.job, run, ok ? undefined : run.error);
    this.settledInFlight();
  }

  /**
   * The job's run is over here (recorded, or it never started): the fire that fell due meanwhile, if
   * any, is offered when `offer` (the run went through, or another instance ran its fire), or dropped
   * (the run's fire starts over: it books the job's next fire itself).
   */
  private followUp(entry: JobEntry, offer: boolean): void {
    const after = entry.after;
    if (after === null) return;
    entry.after = null;
    if (offer) this.offerAfter(entry, after);
  }

  /**
   * A fire that fell due while the job's last run was being started or recorded, now that it is:
   * offered, unless the job changed meanwhile. A regular fire that is now late past `misfireThreshold` (the records
   * took that long: the storage was failing) is a missed fire, as after downtime: `'skip'` drops it,
   * `'fire-once'` runs it, `'fire-all'` runs it as the first of a catch-up (the regular fires booked
   * meanwhile give way to it, and come back when the catch-up ends).
   */
  private offerAfter(entry: JobEntry, fire: Fire): void {
    if (!this.started || fire.gen !== entry.gen || entry.removed) return;
    const now = this.now();
    const regular = fire.attempt === 1 && !fire.manual && entry.schedule !== null && !fire.missed;
    if (regular && now - fire.scheduledAt > this.options.misfireThreshold) {
      fire.missed = true;
      const policy = entry.job.misfirePolicy;
      if (policy === 'skip') {
        this.signals.tallies.firesMissed++;
        return;
      }
      if (policy === 'fire-all') {
        entry.gen++;
        fire.gen = entry.gen;
        entry.catchUpRuns = 1;
        entry.catchUpFrom = fire.scheduledAt;
        if (this.cluster !== undefined) this.storeRegularNext(entry, now);
      }
    }
    entry.busy = true;
    this.offer(fire);
  }

  /** Writes the run's end, then the job (each retried until it lands). */
  private async writeEnd(active: ActiveRun): Promise<void> {
    const { run, fire } = active;
    const entry = fire.entry;
    const job = entry.job;
    try {
      await this.store.updateRun(run);
    } catch (err) {
      await this.writes.retry(err, `the end of run ${run.id} of job "${job.id}"`, () =>
        this.store.updateRun(run),
      );
    }
    if (entry.removed) return;
    try {
      await this.store.updateJob(job);
    } catch (err) {
      await this.writes.retry(err, `job "${job.id}" after run ${run.id}`, () =>
        this.store.updateJob(job),
      );
    }
  }

  private finishOnce(job: Job, status: 'completed' | 'failed'): void {
    if (job.status !== 'paused') job.status = status;
    job.nextRunAt = null;
  }

  /**
   * A run ended with no retry to come: a `'fire-all'` catch-up books its next missed fire; a retry
   * sequence that ended goes back to the regular schedule.
   */
  private endRetries(entry: JobEntry, fire: Fire, now: number): void {
    if (entry.job.status === 'paused') return;
    if (!Number.isNaN(entry.catchUpFrom)) {
      entry.gen++;
      this.continueCatchUp(entry, now);
    } else if (fire.attempt > 1) {
      entry.gen++;
      this.scheduleNext(entry, fire.scheduledAt, now);
    }
  }

  private settledInFlight(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private touch(job: Job, now = this.now()): void {
    job.version++;
    job.updatedAt = this.clockDate(now);
  }

  /** A Date of a clock reading; runs started or ended in the same millisecond share it. */
  private clockDate(ms: number): Date {
    if (this.lastClockDate.getTime() !== ms) this.lastClockDate = new Date(ms);
    return this.lastClockDate;
  }

  /** A Date of a fire instant, shared by the jobs that fire at it. */
  private fireDate(ms: number): Date {
    if (this.lastFireDate.getTime() !== ms) this.lastFireDate = new Date(ms);
    return this.lastFireDate;
  }
}

/** Tries of a change to a job that other instances keep changing at the same moment. */
const CONFLICT_TRIES = 5;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
