import type { SpanContext } from '@opentelemetry/api';
import type { Job } from '../interfaces/job.interface.js';
import { errorForLog } from './run-output.js';
import { restartDelay } from './retry-backoff.js';
import {
  dropQueued,
  releaseEntry,
  type Fire,
  type JobEntry,
  type UnsureClaim,
} from './job-entry.js';
import type { BookedFire } from './lost-run.js';
import { decideMisfire } from './misfire.js';
import type { RunCoordinator } from './run-coordinator.js';
import type { SchedulerContext } from './scheduler-context.js';
import type { Schedule } from './schedule/schedule.js';

/** What firing needs of the run executor. */
export interface RunStarter {
  /** Starts the run of a fire given a slot. */
  startRun(fire: Fire): void;
  /** Times out the runs whose deadline passed. */
  timeOutDue(now: number): void;
  /** The earliest deadline of a run going on (Infinity when none). */
  nextDeadline(): number;
}

/**
 * What a fire does between being booked and being given a slot: it falls due (the timer went off),
 * is judged (late past `misfireThreshold`: the job's misfire policy; a job still running: skipped,
 * or kept to follow the run being recorded; in a cluster, left first to the instance the job
 * prefers), books the job's next fire from its own instant, and is offered a slot. Also what comes
 * back: fires put back after a failed start, a `'fire-all'` catch-up, and a job held as stored.
 */
export class Firing {
  constructor(
    private readonly ctx: SchedulerContext,
    private readonly coordinator: () => RunCoordinator,
    private readonly runs: RunStarter,
  ) {}

  /**
   * Books a fire of the job (armed when the scheduler runs); a job whose handler is not registered
   * here waits for it instead (`HandlerWait`), the same alone and in a cluster.
   */
  scheduleAt(entry: JobEntry, at: number, attempt = 1, scheduledAt = at, link?: SpanContext): void {
    const { ctx } = this;
    if (!ctx.handlers.has(entry.job.handlerName)) {
      if (Number.isFinite(at)) ctx.waits.park(entry, { at, attempt, scheduledAt, link });
      return;
    }
    ctx.timers.book(entry, at, attempt, scheduledAt, link, ctx.isStarted());
  }

  /** A handler was registered: the jobs that waited for it are booked (a fire now past is judged as missed). */
  handlerRegistered(name: string): void {
    for (const [entry, fire] of this.ctx.waits.take(name)) {
      this.scheduleAt(entry, fire.at, fire.attempt, fire.scheduledAt, fire.link);
    }
  }

  /** Arms the timer for the next fire or the next run deadline, whichever comes first. */
  rearm(): void {
    if (!this.ctx.isStarted()) return;
    this.ctx.timers.armNext();
    const deadline = this.runs.nextDeadline();
    if (deadline !== Infinity) this.ctx.timers.wakeAt(deadline);
  }

  /** The timer went off: time out overdue runs, fire what is due, arm for what comes next. */
  wake(): void {
    const ctx = this.ctx;
    if (!ctx.isStarted()) return;
    const now = ctx.now();
    this.runs.timeOutDue(now);
    for (let fire = ctx.timers.takeDue(now); fire; fire = ctx.timers.takeDue(now)) {
      this.fire(fire, now);
    }
    this.rearm();
  }

  private fire(fire: Fire, now: number): void {
    if (fire.restarts > 0) return this.refire(fire, now);
    const entry = fire.entry;
    if (fire.gen !== entry.gen || entry.removed) return;
    const { ctx } = this;
    const coordinator = this.coordinator();
    let missed = false;
    if (fire.attempt === 1 && entry.schedule !== null && !fire.deferred) {
      missed = now - fire.at > ctx.options.misfireThreshold;
      if (missed && !this.misfired(entry, fire, now)) return;
      // A regular fire books the next one now, from its own instant: a slow run never drifts a job.
      if (!missed || entry.job.misfirePolicy !== 'fire-all') this.scheduleNext(entry, fire.at, now);
      else if (coordinator.storesRegularNext) this.storeRegularNext(entry, now);
      if (!missed) {
        entry.catchUpRuns = 0;
        entry.catchUpFrom = null;
      }
    }
    if (!missed && coordinator.handsOff(fire)) {
      fire.deferred = true;
      ctx.signals.tallies.firesDeferred++;
      fire.at = now + coordinator.handOffMs;
      ctx.timers.rebook(fire, false);
      return;
    }
    // `running` as last read may be a run on another instance (a stale read is corrected by the
    // claim, which checks the stored row).
    if (entry.busy || coordinator.runningElsewhere(entry.job)) {
      if (entry.busy && entry.queued === null && !entry.handling && entry.after === null) {
        // The job's run is being started or recorded (its handler is not running): this fire
        // follows it once its records are written (a retry or a 'fire-all' catch-up it booked, or
        // the next regular fire), judged then if it is late.
        fire.missed = missed;
        entry.after = fire;
        return;
      }
      ctx.signals.tallies.firesSkipped++;
      ctx.signals.emit('run.skipped', entry.job);
      return;
    }
    entry.busy = true;
    this.offer(fire);
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
        entry.catchUpFrom = null;
        break;
      case 'skip':
        break;
    }
    this.ctx.signals.tallies.firesMissed++;
    this.scheduleNext(entry, fire.scheduledAt, now);
    return false;
  }

  /** `'fire-all'` catch-up: after a missed fire's run, book the next missed one (or the next fire). */
  private continueCatchUp(entry: JobEntry, now: number): void {
    const from = entry.catchUpFrom;
    if (from === null || entry.schedule === null) return;
    entry.catchUpFrom = null;
    const next = entry.schedule.next(from);
    if (next === null) return;
    if (next > now) entry.catchUpRuns = 0;
    entry.job.nextRunAt = this.ctx.table.fireDate(next);
    if (next <= now && this.coordinator().storesRegularNext) this.storeRegularNext(entry, now);
    this.scheduleAt(entry, next);
  }

  /**
   * `'fire-all'` catch-up in a cluster: the job is stored with its next regular fire, so the
   * instance that won the first missed fire runs the catch-up alone (its `maxMisfires` count is the
   * cluster's) while the others wait for the regular schedule.
   */
  private storeRegularNext(entry: JobEntry, now: number): void {
    const next = entry.schedule?.next(now) ?? null;
    entry.job.nextRunAt = next === null ? null : this.ctx.table.fireDate(next);
  }

  /** Books the regular fire after `from`; fires already missed collapse into none (fire-once). */
  scheduleNext(entry: JobEntry, from: number, now: number): void {
    const schedule = entry.schedule;
    if (schedule === null) return;
    let next = schedule.next(from);
    if (next !== null && next <= now) next = schedule.next(now);
    entry.job.nextRunAt = next === null ? null : this.ctx.table.fireDate(next);
    if (next !== null) this.scheduleAt(entry, next);
  }

  /** Starts the fire's run when a slot is free, else queues it in due order. */
  offer(fire: Fire): void {
    if (this.ctx.slots.canStart(fire)) this.runs.startRun(fire);
    else this.ctx.slots.enqueue(fire);
  }

  /** A slot came free: start waiting fires in due order. */
  pump(): void {
    const { ctx } = this;
    while (ctx.isStarted()) {
      const fire = ctx.slots.next();
      if (fire === undefined) return;
      const entry = fire.entry;
      if (fire.gen !== entry.gen || entry.removed) releaseEntry(entry);
      else this.runs.startRun(fire);
    }
  }

  /**
   * Puts back a fire whose start (or claim) could not be written, to be tried again soon (50 ms,
   * doubling to 1 s). Meanwhile it is the job's one pending fire (the next one, booked when it fell
   * due, is dropped, and booked again when this one goes through), and the job counts as busy.
   * `refire()` applies the job's misfire policy once the fire is late past `misfireThreshold`.
   */
  restart(fire: Fire, unsure: UnsureClaim | null): void {
    const entry = fire.entry;
    if (!this.ctx.isStarted() || fire.gen !== entry.gen || entry.removed) {
      if (unsure !== null) this.coordinator().letGo(entry, unsure);
      return;
    }
    entry.gen++;
    fire.gen = entry.gen;
    fire.restarts++;
    fire.deferred = false;
    fire.at = this.ctx.now() + restartDelay(fire.restarts);
    if (unsure !== null) {
      // The poll leaves the job alone until the claim is confirmed or let go.
      fire.unsure = unsure;
      entry.writing++;
    }
    entry.busy = true;
    entry.queued = fire;
    this.ctx.timers.rebook(fire, true);
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
      if (entry.queued === fire) releaseEntry(entry);
      this.dropUnsure(fire);
      return;
    }
    entry.queued = null;
    if (!fire.manual && fire.attempt === 1 && entry.schedule !== null) {
      if (!fire.missed && now - fire.scheduledAt > this.ctx.options.misfireThreshold) {
        fire.missed = true;
        if (!this.misfired(entry, fire, now)) {
          releaseEntry(entry);
          this.dropUnsure(fire);
          return;
        }
      }
      if (!fire.missed || entry.job.misfirePolicy !== 'fire-all') {
        this.scheduleNext(entry, fire.scheduledAt, now);
      } else if (this.coordinator().storesRegularNext) {
        this.storeRegularNext(entry, now);
      }
    }
    this.offer(fire);
  }

  /** A fire with an unsure claim will not be claimed again: the claim is let go (if it landed). */
  dropUnsure(fire: Fire): void {
    const unsure = fire.unsure;
    if (unsure === null) return;
    fire.unsure = null;
    fire.entry.writing--;
    this.coordinator().letGo(fire.entry, unsure);
  }

  /** Stopping: the fires booked and waiting will not run (claims that may have landed are let go). */
  dropAll(): void {
    const { timers, slots, waits } = this.ctx;
    waits.clear();
    timers.cancel();
    for (let fire = timers.take(); fire; fire = timers.take()) this.dropUnsure(fire);
    for (let fire = slots.take(); fire; fire = slots.take()) {
      if (fire.entry.queued === fire) releaseEntry(fire.entry);
      this.dropUnsure(fire);
    }
  }

  /**
   * The job's run is over here (recorded, or it never started): the fire that fell due meanwhile, if
   * any, is offered when `offer` (the run went through, or another instance ran its fire), or dropped
   * (the run's fire starts over: it books the job's next fire itself).
   */
  followUp(entry: JobEntry, offer: boolean): void {
    const after = entry.after;
    if (after === null) return;
    entry.after = null;
    if (offer) this.offerAfter(entry, after);
  }

  /**
   * A fire that fell due while the job's last run was being started or recorded, now that it is:
   * offered, unless the job changed meanwhile. A regular fire that is now late past
   * `misfireThreshold` (the records took that long: the storage was failing) is a missed fire, as
   * after downtime: `'skip'` drops it, `'fire-once'` runs it, `'fire-all'` runs it as the first of a
   * catch-up (the regular fires booked meanwhile give way to it, and come back when it ends).
   */
  private offerAfter(entry: JobEntry, fire: Fire): void {
    const { ctx } = this;
    if (!ctx.isStarted() || fire.gen !== entry.gen || entry.removed) return;
    const now = ctx.now();
    const regular = fire.attempt === 1 && !fire.manual && entry.schedule !== null && !fire.missed;
    if (regular && now - fire.scheduledAt > ctx.options.misfireThreshold) {
      fire.missed = true;
      const policy = entry.job.misfirePolicy;
      if (policy === 'skip') {
        ctx.signals.tallies.firesMissed++;
        return;
      }
      if (policy === 'fire-all') {
        entry.gen++;
        fire.gen = entry.gen;
        entry.catchUpRuns = 1;
        entry.catchUpFrom = fire.scheduledAt;
        if (this.coordinator().storesRegularNext) this.storeRegularNext(entry, now);
      }
    }
    entry.busy = true;
    this.offer(fire);
  }

  /**
   * A run ended with no retry to come: a `'fire-all'` catch-up books its next missed fire; a retry
   * sequence that ended goes back to the regular schedule.
   */
  endRetries(entry: JobEntry, fire: Fire, now: number): void {
    if (entry.job.status === 'paused') return;
    if (entry.catchUpFrom !== null) {
      entry.gen++;
      this.continueCatchUp(entry, now);
    } else if (fire.attempt > 1) {
      entry.gen++;
      this.scheduleNext(entry, fire.scheduledAt, now);
    }
  }

  /**
   * Holds a job as stored (written by another instance, or by this one): its fires queued here are
   * dropped and its next fire is booked from the stored row (`booked` instead, when given). A run of
   * it going on here goes on.
   */
  adopt(entry: JobEntry, stored: Job, booked?: BookedFire | null): void {
    const { table, options } = this.ctx;
    let schedule: Schedule | null;
    try {
      schedule = table.scheduleOf(stored);
    } catch (err) {
      options.logger.error(
        `Job "${stored.id}" cannot be scheduled and is skipped: ${errorForLog(err)}`,
      );
      table.forget(entry);
      return;
    }
    table.track(stored, schedule, true);
    entry.gen++;
    dropQueued(entry);
    const next = stored.nextRunAt?.getTime();
    // A 'fire-all' catch-up is counted from what is stored: a catch-up running here stores the
    // job's next regular fire at each claim, and a stored fire that is past is judged afresh (the
    // count of a fire this instance tried meanwhile, which another one ran, does not carry over).
    entry.catchUpFrom = null;
    entry.catchUpRuns = 0;
    entry.stale = false;
    entry.syncedAt = this.coordinator().round;
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
}
