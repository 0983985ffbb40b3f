import { HandlerNotFoundError } from '../errors/handler-not-found.error.js';
import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import { JobAlreadyExistsError } from '../errors/job-already-exists.error.js';
import { JobConflictError } from '../errors/job-conflict.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { JobPausedError } from '../errors/job-paused.error.js';
import { JobRunningError } from '../errors/job-running.error.js';
import { SchedulerNotStartedError } from '../errors/scheduler-not-started.error.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { AddJobOptions, Job, JobDefinition } from '../interfaces/job.interface.js';
import { isTransactionalJobStorage } from '../interfaces/job-storage.js';
import { errorForLog } from './run-output.js';
import type { JobEventType } from '../interfaces/job-event.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { copyJob } from './record-copy.js';
import type { Firing } from './firing.js';
import { firstFire, newJob, validateJobDefinition } from './job-definition.js';
import { dropQueued, type Fire, type JobEntry } from './job-entry.js';
import { assignDefinition, sameDefinition } from './job-fields.js';
import { CONFLICT_TRIES, type RunCoordinator } from './run-coordinator.js';
import type { Schedule } from './schedule/schedule.js';
import type { SchedulerContext } from './scheduler-context.js';

/**
 * The job API: add, declare (`ensureJob`), remove, pause, resume, trigger and read jobs. Each
 * change is validated, written (in a cluster, only over the version this instance read; made again
 * on what another instance wrote when it lost), then booked and told as an event.
 */
export class JobCommands {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly coordinator: RunCoordinator,
    private readonly firing: Firing,
  ) {}

  /**
   * Validates and stores a new job (generating its id when empty) and schedules it. With a
   * `manager`, the job is written in the app's transaction and scheduled once that commits.
   */
  async addJob(definition: JobDefinition, options?: AddJobOptions): Promise<Job> {
    const { ctx } = this;
    const manager = managerOf(options);
    const storage = ctx.storage;
    if (manager !== undefined && !isTransactionalJobStorage(storage)) {
      throw new InvalidOptionsError(
        'manager',
        manager,
        `no manager: ${storage.constructor.name} cannot write a job in the app's transaction (TypeOrmStorage can)`,
      );
    }
    const def = validateJobDefinition(definition, ctx.table.crons);
    if (!ctx.handlers.has(def.handlerName)) throw new HandlerNotFoundError(def.handlerName);
    const job = newJob(def, def.id ?? ctx.ids.uuid(), ctx.now());
    if (manager !== undefined && isTransactionalJobStorage(storage)) {
      const { committed } = await storage.createJobInTransaction(job, manager);
      committed.then(
        (done) => (done ? this.adoptCommitted(job.id) : undefined),
        (err: unknown) =>
          ctx.options.logger.warn(
            `Job "${job.id}" was added in a transaction whose outcome could not be read (${errorForLog(err)}); if it committed, the job is scheduled at the next start.`,
          ),
      );
      return copyJob(job);
    }
    await ctx.store.createJob(job);
    this.track(job, def.schedule);
    return copyJob(job);
  }

  /** Schedules a job added in a transaction that has committed, unless held already or gone. */
  private async adoptCommitted(id: string): Promise<void> {
    const { ctx } = this;
    try {
      if (ctx.table.get(id) !== undefined) return;
      const job = await ctx.store.getJob(id);
      if (job === null || ctx.table.get(id) !== undefined) return;
      this.track(job, ctx.table.scheduleOf(job));
    } catch (err) {
      ctx.options.logger.warn(
        `Job "${id}" was added in a transaction that committed, but could not be read to schedule it (${errorForLog(err)}); it is scheduled at the next start.`,
      );
    }
  }

  /** Holds a new job, books its first fire and tells it. */
  private track(job: Job, schedule: Schedule | null): void {
    const entry = this.ctx.table.track(job, schedule);
    entry.syncedAt = this.coordinator.round;
    this.firing.scheduleAt(entry, job.nextRunAt?.getTime() ?? NaN);
    this.ctx.signals.emit('job.added', entry.job);
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
    const { ctx } = this;
    const def = validateJobDefinition(definition, ctx.table.crons);
    if (!ctx.handlers.has(def.handlerName)) throw new HandlerNotFoundError(def.handlerName);
    const stored = await ctx.store.getJob(definition.id);
    if (stored === null) {
      try {
        return await this.addJob(definition);
      } catch (err) {
        // Another instance declared it between our read and our write: update that one instead.
        if (err instanceof JobAlreadyExistsError) return this.ensureJobTry(definition, tries);
        throw err;
      }
    }
    const candidate = newJob(def, definition.id, ctx.now());
    if (sameDefinition(stored, candidate)) {
      ctx.table.track(stored, def.schedule, true);
      return stored;
    }
    const entry = ctx.table.track(stored, def.schedule, true);
    const job = entry.job;
    const expected = job.version;
    assignDefinition(job, candidate);
    entry.gen++;
    dropQueued(entry);
    if (job.status !== 'paused') {
      // A job running (here, or in a cluster on another instance) stays so until its run ends.
      const running = entry.busy || this.coordinator.runningElsewhere(job);
      job.status = running ? job.status : 'pending';
      job.retryCount = 0;
      job.nextRunAt = candidate.nextRunAt;
    }
    ctx.table.touch(job);
    if (!(await this.coordinator.saveJob(entry, expected))) {
      if (tries >= CONFLICT_TRIES) throw new JobConflictError(definition.id, 'update', tries);
      return this.ensureJobTry(definition, tries + 1);
    }
    if (job.status !== 'paused') this.firing.scheduleAt(entry, job.nextRunAt?.getTime() ?? NaN);
    ctx.signals.emit('job.updated', entry.job);
    return copyJob(job);
  }

  /** Removes a job and its history; a run in flight ends, but the job never fires again. */
  async removeJob(id: string): Promise<void> {
    const entry = await this.entryFor(id);
    await this.ctx.store.deleteJob(id);
    this.ctx.table.forget(entry);
    this.ctx.signals.emit('job.removed', entry.job);
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
      dropQueued(entry);
      entry.catchUpFrom = null;
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
        this.ctx.now(),
      );
      job.status = 'pending';
      job.nextRunAt = Number.isFinite(next) ? new Date(next) : null;
      entry.gen++;
      // Booked before the write lands: a write that fails (cluster: a conflict) re-reads the job,
      // which drops this fire.
      this.firing.scheduleAt(entry, next);
      return true;
    });
  }

  /**
   * Applies a change to a job here and writes it. In a cluster the change is made on the job as
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
      await this.coordinator.refresh(entry);
      const expected = entry.job.version;
      if (!change(entry)) return;
      this.ctx.table.touch(entry.job);
      if (await this.coordinator.saveJob(entry, expected)) {
        this.ctx.signals.emit(event, entry.job);
        return;
      }
      if (tries >= CONFLICT_TRIES) throw new JobConflictError(id, action, tries);
    }
  }

  /** Runs a job now, outside its schedule (queued if no slot is free). */
  async triggerJob(id: string): Promise<void> {
    const { ctx } = this;
    if (!ctx.isStarted()) throw new SchedulerNotStartedError('triggerJob()');
    const entry = await this.entryFor(id);
    await this.coordinator.refresh(entry);
    if (entry.job.status === 'paused') throw new JobPausedError(id);
    if (!ctx.handlers.has(entry.job.handlerName)) {
      throw new HandlerNotFoundError(entry.job.handlerName);
    }
    if (entry.busy || this.coordinator.runningElsewhere(entry.job)) throw new JobRunningError(id);
    // A fire is keyed by (job, scheduledAt, attempt): two triggers in one millisecond get two instants.
    const now = Math.max(ctx.now(), entry.lastTriggerAt + 1);
    entry.lastTriggerAt = now;
    const fire: Fire = {
      at: now,
      seq: ctx.timers.nextSeq(),
      entry,
      gen: entry.gen,
      attempt: 1,
      scheduledAt: now,
      manual: true,
      deferred: false,
      link: ctx.tracer.activeSpanContext(),
      restarts: 0,
      missed: false,
      unsure: null,
    };
    entry.busy = true;
    this.firing.offer(fire);
  }

  /** The stored job; `JobNotFoundError` when there is none. */
  async getJob(id: string): Promise<Job> {
    const job = await this.ctx.store.getJob(id);
    if (job === null) throw new JobNotFoundError(id);
    return job;
  }

  listJobs(): Promise<Job[]> {
    return this.ctx.store.listJobs();
  }

  /** Up to `limit` runs of a job, newest first. */
  getRuns(jobId: string, limit = 20): Promise<Run[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError('limit', limit, 'an integer >= 1');
    }
    return this.ctx.store.getRuns(jobId, limit);
  }

  /** The entry of a job, loading it from storage when this scheduler does not hold it yet. */
  private async entryFor(id: string): Promise<JobEntry> {
    const { table, store } = this.ctx;
    const held = table.get(id);
    if (held !== undefined) return held;
    const job = await store.getJob(id);
    if (job === null) throw new JobNotFoundError(id);
    return table.get(id) ?? table.track(job, table.scheduleOf(job));
  }
}

/** The `manager` of `addJob`'s options, checked to be an object when given. */
function managerOf(options: AddJobOptions | undefined): object | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', options, 'an object such as { manager }');
  }
  const manager = options.manager;
  if (manager === undefined) return undefined;
  if (typeof manager !== 'object' || manager === null) {
    throw new InvalidOptionsError(
      'manager',
      manager,
      "a TypeORM EntityManager of the app's open transaction",
    );
  }
  return manager;
}
