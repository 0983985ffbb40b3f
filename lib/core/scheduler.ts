import type { Observable } from 'rxjs';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { StorageUnavailableError } from '../errors/storage-unavailable.error.js';
import { SchedulerAlreadyStartedError } from '../errors/scheduler-already-started.error.js';
import type {
  Handler,
  HandlerFunc,
  HandlerRegistrationOptions,
} from '../interfaces/handler.interface.js';
import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../interfaces/history-query.interface.js';
import type { AddJobOptions, Job, JobDefinition } from '../interfaces/job.interface.js';
import type { JobEvent } from '../interfaces/job-event.interface.js';
import type { SchedulerMetrics } from '../interfaces/metrics.interface.js';
import type { SchedulerHealth } from '../interfaces/scheduler-health.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import { isPrunableStorage, type JobStorage } from '../interfaces/job-storage.js';
import { createJobTracer } from '../telemetry/create-job-tracer.js';
import { JobMetrics } from '../telemetry/job-metrics.js';
import { Dispatcher } from './dispatcher.js';
import { FireTimer } from './fire-timer.js';
import { Firing } from './firing.js';
import { HandlerRegistry } from './handler-registry.js';
import { HandlerWait } from './handler-wait.js';
import { HistoryPruner } from './history-pruner.js';
import { IdGenerator } from './ids.js';
import { InFlight } from './in-flight.js';
import { JobCommands } from './job-commands.js';
import { loadJobs } from './job-loader.js';
import { JobTable } from './job-table.js';
import { LocalCoordinator } from './local-coordinator.js';
import { RetriedWrites } from './retried-writes.js';
import type { CoordinatorHost, RunCoordinator } from './run-coordinator.js';
import { RunExecutor } from './run-executor.js';
import { errorForLog } from './run-output.js';
import type { SchedulerContext } from './scheduler-context.js';
import type { ReadCache, SchedulerParts, WriteBuffer } from './scheduler-parts.js';
import { SchedulerSignals } from './scheduler-signals.js';
import { settlesWithin } from './settles-within.js';
import { StorageFaultLog } from './storage-fault-log.js';

/**
 * The scheduler's core, over any `JobStorage`: one timer over a min-heap of next fires; due fires
 * wait for one of `concurrentRuns` slots in due-time order; every run leaves one run record that
 * ends `success` or `failed`. This front owns `started` and delegates to its parts (see the
 * README's Layout section). Built by `Scheduler` (lib/scheduler.ts), which reads the options and
 * hands it the parts they turn on (`SchedulerParts`): the core imports none of them.
 */
export class SchedulerCore {
  /** The storage given (or the default MemoryStorage). */
  readonly storage: JobStorage;
  readonly options: NormalizedSchedulerOptions;
  readonly events$: Observable<JobEvent>;

  private readonly ctx: SchedulerContext;
  private readonly coordinator: RunCoordinator;
  private readonly firing: Firing;
  private readonly runs: RunExecutor;
  private readonly jobs: JobCommands;
  /** The write buffer and the cache, when the options turned them on. */
  private readonly buffer: WriteBuffer | undefined;
  private readonly cache: ReadCache | undefined;
  private readonly pruner: HistoryPruner | undefined;
  private started = false;
  /** The last stop(), once called: a later call resolves with it. */
  private stopping: Promise<void> | undefined;

  constructor(parts: SchedulerParts) {
    const options = parts.options;
    this.options = options;
    this.storage = parts.storage;
    const now = (): number => this.now();
    const faults = new StorageFaultLog(options.logger, now);
    const tracer = options.tracer ?? createJobTracer();
    const wrapped = parts.wrap?.({ faults, tracer });
    const buffer = (this.buffer = wrapped?.buffer);
    const cache = (this.cache = wrapped?.cache);
    const timers = new FireTimer(() => this.firing.wake(), now);
    const handlers = new HandlerRegistry();
    const slots = new Dispatcher(options.concurrentRuns, parts.cluster !== undefined, handlers);
    const waits = new HandlerWait(options.logger);
    const signals = new SchedulerSignals(now, () => ({
      runningNow: slots.active.size,
      queuedNow: slots.queued,
      scheduledJobs: timers.size,
      jobsWithoutHandler: waits.count(),
    }));
    this.ctx = {
      options,
      storage: parts.storage,
      store: wrapped?.store ?? parts.storage,
      table: new JobTable(now),
      timers,
      slots,
      signals,
      writes: new RetriedWrites(faults, options.logger, now),
      faults,
      tracer,
      telemetry: new JobMetrics({
        scheduler: () => signals.snapshot(),
        batch: buffer && (() => buffer.metrics()),
        cache: cache && (() => cache.metrics()),
      }),
      handlers,
      waits,
      ids: new IdGenerator(),
      flight: new InFlight(),
      isStarted: () => this.started,
      now,
    };
    this.runs = new RunExecutor(
      this.ctx,
      () => this.coordinator,
      () => this.firing,
    );
    this.firing = new Firing(this.ctx, () => this.coordinator, this.runs);
    const host: CoordinatorHost = {
      ...this.ctx,
      adopt: (entry, stored, booked) => this.firing.adopt(entry, stored, booked),
      execute: (active) => this.runs.execute(active),
      restart: (fire, unsure) => this.firing.restart(fire, unsure),
      followUp: (entry, offer) => this.firing.followUp(entry, offer),
      pump: () => this.firing.pump(),
    };
    this.coordinator = parts.cluster?.coordinator(host) ?? new LocalCoordinator(host);
    this.jobs = new JobCommands(this.ctx, this.coordinator, this.firing);
    this.pruner = this.makePruner();
    this.events$ = signals.events$;
  }

  private makePruner(): HistoryPruner | undefined {
    const retention = this.options.historyRetention;
    if (retention === null) return undefined;
    if (!isPrunableStorage(this.storage)) {
      throw new InvalidOptionsError(
        'historyRetention',
        retention,
        `a storage that can prune run history (pruneRuns), such as MemoryStorage or TypeOrmStorage; ${this.storage.constructor.name} cannot`,
      );
    }
    const { logger } = this.options;
    return new HistoryPruner(this.storage, retention, logger, () => this.now(), this.ctx.faults);
  }

  // ---- handlers -------------------------------------------------------------------------------

  /**
   * Registers a handler object (`execute(payload, ctx)`) under a unique name. Jobs that waited for
   * a handler of that name are booked now.
   */
  registerHandler(name: string, handler: Handler, options?: HandlerRegistrationOptions): void {
    this.ctx.handlers.register(name, handler, options);
    this.firing.handlerRegistered(name);
  }

  /** Registers a function `(payload, ctx) => result` under a unique name (as `registerHandler`). */
  registerHandlerFunc(name: string, fn: HandlerFunc, options?: HandlerRegistrationOptions): void {
    this.ctx.handlers.registerFunc(name, fn, options);
    this.firing.handlerRegistered(name);
  }

  hasHandler(name: string): boolean {
    return this.ctx.handlers.has(name);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  /**
   * Validates and stores a new job (generating its id when empty) and schedules it. With `{ manager
   * }` (a TypeORM `EntityManager` of the app's open transaction; `TypeOrmStorage` only) the job is
   * written in that transaction: it exists only if the transaction commits, and is scheduled then.
   */
  addJob(definition: JobDefinition, options?: AddJobOptions): Promise<Job> {
    return this.jobs.addJob(definition, options);
  }

  /**
   * Creates or updates a job declared in code under a stable id: unchanged, it is left alone (a
   * paused job stays paused); changed, its definition is updated and its next fire recomputed.
   */
  ensureJob(definition: JobDefinition & { id: string }): Promise<Job> {
    return this.jobs.ensureJob(definition);
  }

  /** Removes a job and its history; a run in flight ends, but the job never fires again. */
  removeJob(id: string): Promise<void> {
    return this.jobs.removeJob(id);
  }

  /** Stops a job from firing until resumed; a run in flight ends normally. No-op when finished. */
  pauseJob(id: string): Promise<void> {
    return this.jobs.pauseJob(id);
  }

  /** Schedules a paused job again from now (a once job whose time passed runs at once). */
  resumeJob(id: string): Promise<void> {
    return this.jobs.resumeJob(id);
  }

  /** Runs a job now, outside its schedule (queued if no slot is free). */
  triggerJob(id: string): Promise<void> {
    return this.jobs.triggerJob(id);
  }

  /** The stored job; `JobNotFoundError` when there is none. */
  getJob(id: string): Promise<Job> {
    return this.jobs.getJob(id);
  }

  listJobs(): Promise<Job[]> {
    return this.jobs.listJobs();
  }

  /** Up to `limit` runs of a job, newest first. */
  getRuns(jobId: string, limit = 20): Promise<Run[]> {
    return this.jobs.getRuns(jobId, limit);
  }

  // ---- history queries (answered by the storage, seeing writes still buffered) ----------------

  /**
   * A page of jobs, oldest first by `(createdAt, id)`: filtered by `status`, `handlerName` and a
   * case-insensitive `search` in id or name; `limit` 1 to 500 (default 50); pass `nextCursor` back
   * as `cursor` for the next page.
   */
  findJobs(query?: JobQuery): Promise<Page<Job>> {
    return this.ctx.store.findJobs(query);
  }

  /**
   * A page of runs of all jobs or one (`jobId`), newest first by `(startAt, id)`: filtered by
   * `status`, start time `[from, to)` and a case-insensitive `search` in error or output text.
   */
  findRuns(query?: RunQuery): Promise<Page<Run>> {
    return this.ctx.store.findRuns(query);
  }

  /** The run with this id, or `null`. */
  getRun(runId: string): Promise<Run | null> {
    return this.ctx.store.getRun(runId);
  }

  /**
   * Finished runs that started in `[from, to)` (`to`: now), of all jobs or one, counted per
   * `bucket` from `from`: `{ start, succeeded, failed, avgDurationMs, maxDurationMs }`, every bucket.
   */
  runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    return this.ctx.store.runStats(query);
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
    const clustered = this.options.cluster !== null;
    try {
      await this.coordinator.join();
      await loadJobs(this.ctx, this.coordinator, this.firing);
    } catch (err) {
      this.started = false;
      await this.coordinator.leave();
      throw new StorageUnavailableError(
        clustered ? 'take its cluster lease and load its jobs at start' : 'load its jobs at start',
        err,
      );
    }
    this.firing.rearm();
    this.ctx.writes.deadline = Infinity;
    this.pruner?.start();
    this.ctx.telemetry.start();
    this.coordinator.start();
    this.options.logger.log(
      `Scheduler started: ${this.ctx.table.size} job(s) loaded, ${this.ctx.timers.size} scheduled.`,
    );
  }

  /**
   * Stops firing; runs in flight get `shutdownTimeout` to end, then are aborted and recorded failed.
   * Resolves once every run record is written. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.started) return this.stopping ?? this.ctx.flight.whenIdle();
    this.started = false;
    this.stopping = this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    const { ctx, options } = this;
    const { shutdownTimeout } = options;
    this.coordinator.stopPolling();
    // Fires put back after a failed claim may hold a claim that landed: it is let go.
    this.firing.dropAll();
    if (ctx.slots.active.size > 0) {
      await settlesWithin(ctx.flight.whenIdle(), shutdownTimeout);
      this.runs.abortAll(
        `the scheduler stopped and the run did not end within shutdownTimeout (${shutdownTimeout} ms)`,
      );
    }
    // Records of aborted runs get one more shutdownTimeout to be written (the storage may be down);
    // a write that hangs (a connection that never answers) does not hold the shutdown past it.
    ctx.writes.deadline = this.now() + shutdownTimeout;
    if (!(await settlesWithin(ctx.flight.whenIdle(), shutdownTimeout))) {
      options.logger.error(
        `Scheduler stopping: ${ctx.flight.size} run(s) still had records unwritten after shutdownTimeout (${shutdownTimeout} ms); the storage did not answer. A run left \`running\` is recorded failed by the next start (or, in cluster mode, by another instance once this lease expires).`,
      );
    }
    await this.pruner?.stop();
    await this.flushBeforeStop();
    // Last: the lease covered the runs until their records were written.
    await this.coordinator.leave();
    ctx.telemetry.stop();
    this.cache?.dispose();
    ctx.faults.dispose();
  }

  /** Flushes batched writes, retried until they land or the write deadline passes. */
  private async flushBeforeStop(): Promise<void> {
    const buffer = this.buffer;
    if (buffer === undefined) return;
    const left = Math.max(0, this.ctx.writes.deadline - this.now());
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
      ...this.ctx.signals.snapshot(),
      duration: this.ctx.telemetry.durations.stats(),
      ...(this.buffer ? { batch: this.buffer.metrics() } : {}),
      ...(this.cache ? { cache: this.cache.metrics() } : {}),
    };
  }

  /**
   * A readiness summary: started, storage reachable (a `ping()`), and how late the oldest due fire
   * that has not started is (a scheduler that falls behind shows it here first).
   */
  async health(): Promise<SchedulerHealth> {
    const { ctx } = this;
    let storageError: string | undefined;
    try {
      await ctx.store.ping();
    } catch (err) {
      storageError = errorForLog(err);
    }
    const now = this.now();
    let oldestDue = ctx.slots.oldestDue;
    const nextTimer = ctx.timers.peek();
    if (this.started && nextTimer !== undefined && nextTimer.at < oldestDue)
      oldestDue = nextTimer.at;
    const cluster = this.coordinator.health();
    return {
      started: this.started,
      storageReachable: storageError === undefined,
      ...(storageError === undefined ? {} : { storageError }),
      oldestDueLagMs: Number.isFinite(oldestDue) ? Math.max(0, now - oldestDue) : 0,
      runningNow: ctx.slots.active.size,
      queuedNow: ctx.slots.queued,
      jobsWithoutHandler: ctx.waits.count(),
      ...(cluster === undefined ? {} : { cluster }),
    };
  }

  /** The clock (epoch ms); Date.now, so fake timers drive it in tests. */
  protected now(): number {
    return Date.now();
  }
}
