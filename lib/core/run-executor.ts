import { HandlerNotFoundError } from '../errors/handler-not-found.error.js';
import { InstanceLostError } from '../errors/instance-lost.error.js';
import { JobTimeoutError } from '../errors/job-timeout.error.js';
import { RunAbortedError } from '../errors/run-aborted.error.js';
import { RunAlreadyRecordedError } from '../errors/run-already-recorded.error.js';
import type { Job } from '../interfaces/job.interface.js';
import type { JobEventType } from '../interfaces/job-event.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { UNTRACED } from '../interfaces/job-tracer.js';
import { afterRun } from './after-run.js';
import { Deadlines } from './deadlines.js';
import { retryDelayOf, timeoutOf } from './run-policy.js';
import type { Firing } from './firing.js';
import { releaseEntry, type ActiveRun, type Fire } from './job-entry.js';
import type { RunCoordinator } from './run-coordinator.js';
import { RunContext } from './run-context.js';
import { formatError, formatOutput } from './run-output.js';
import type { SchedulerContext } from './scheduler-context.js';

/**
 * One run, from the slot it is given to its recorded end: the start is recorded (retried until the
 * answer is definite), the handler is called and timed out, and what comes next for the job is
 * decided (`afterRun`) and written with the run's end. The coordinator says how each record is
 * written (alone, or fenced by a cluster lease).
 */
export class RunExecutor {
  /** Runs whose handler was called and has not settled, by deadline. */
  private readonly timed = new Deadlines();

  constructor(
    private readonly ctx: SchedulerContext,
    private readonly coordinator: () => RunCoordinator,
    private readonly firing: () => Firing,
  ) {}

  /** The earliest deadline of a handler running (Infinity when none). */
  nextDeadline(): number {
    return this.timed.next();
  }

  /** Times out the runs whose deadline passed. */
  timeOutDue(now: number): void {
    for (const active of this.timed.due(now)) this.timeOut(active);
  }

  /** A fire got a slot: its run is made and launched (claimed first in a cluster). */
  startRun(fire: Fire): void {
    const { ctx } = this;
    const { table } = ctx;
    const now = ctx.now();
    const job = fire.entry.job;
    const run: Run = {
      id: ctx.ids.uuid(),
      jobId: job.id,
      status: 'running',
      startAt: table.clockDate(now),
      endAt: null,
      output: '',
      error: '',
      duration: 0,
      traceId: '',
      attempt: fire.attempt,
      scheduledAt: table.fireDate(fire.scheduledAt),
      createdAt: table.clockDate(now),
    };
    const expectedVersion = job.version;
    const statusBefore = job.status;
    const lastRunBefore = job.lastRunAt;
    if (job.status !== 'paused') job.status = 'running';
    job.lastRunAt = run.startAt;
    table.touch(job, now);
    const active: ActiveRun = {
      fire,
      run,
      handlerName: job.handlerName,
      ctx: new RunContext(job, run, fire.attempt),
      startedAt: now,
      deadline: Infinity,
      timeout: 0,
      settled: false,
      aborted: false,
      trace: UNTRACED,
      expectedVersion,
      claim: '',
      statusBefore,
      lastRunBefore,
      endedAt: NaN,
      versionBefore: 0,
      decidedNext: false,
    };
    ctx.flight.begin();
    this.coordinator().launch(active);
  }

  /** The run is this instance's: it holds a slot, gets its span, and is executed in it. */
  execute(active: ActiveRun): void {
    const { ctx } = this;
    ctx.slots.occupy(active);
    const { fire, run } = active;
    active.trace = ctx.tracer.startRun(fire.entry.job, fire.link, run);
    run.traceId = ctx.tracer.traceId(active.trace);
    if (active.trace === UNTRACED) void this.begin(active);
    else void ctx.tracer.runInContext(active.trace, this.begin, this, active);
  }

  /** Aborts the runs still going on (stop() waited `shutdownTimeout` for them). */
  abortAll(reason: string): void {
    for (const active of this.ctx.slots.active) {
      const error = new RunAbortedError(active.run.jobId, reason);
      active.aborted = true;
      active.ctx.abort(error);
      this.settleAndFinish(active, false, error);
    }
  }

  /**
   * Records the start, then calls the handler; its settling (or the time-out) ends the run. One
   * async frame for the whole run on the path where every write goes through at once.
   */
  private async begin(active: ActiveRun): Promise<void> {
    const { ctx } = this;
    const { fire } = active;
    const job = fire.entry.job;
    const coordinator = this.coordinator();
    try {
      await coordinator.beforeRecord(active);
    } catch (err) {
      // Nothing of the run is stored yet: the fire can start over.
      return this.startFailed(active, err);
    }
    let inserted: boolean;
    try {
      inserted = (await coordinator.insertRun(active)) !== false;
      ctx.faults.succeeded();
    } catch (error) {
      inserted = await this.retryStart(active, error);
      if (active.settled) return; // given up, or aborted by stop() meanwhile
    }
    if (!inserted) {
      this.startFailed(active, new InstanceLostError(job.id, active.claim, 'this instance'));
      return;
    }
    if (active.settled) return;
    // Counted and told once its record is written (a start that could not be is tried again).
    ctx.signals.tallies.runsStarted++;
    ctx.signals.emit('run.started', fire.entry.job, active.run);
    const handler = ctx.handlers.get(job.handlerName);
    let ok = false;
    let value: unknown;
    if (handler === undefined) {
      value = new HandlerNotFoundError(job.handlerName);
    } else {
      // The time-out is the handler's: it counts from here, whatever the start writes took.
      active.timeout = timeoutOf(job, ctx.options.jobTimeout);
      active.deadline = ctx.now() + active.timeout;
      fire.entry.handling = true;
      this.timed.add(active, active.timeout);
      ctx.timers.wakeAt(active.deadline);
      ctx.tracer.handlerExecuting(active.trace);
      try {
        value = handler.execute(job.payload, active.ctx);
        if (isThenable(value)) value = await value;
        ok = true;
      } catch (err) {
        value = err;
      }
    }
    // Timed out, or aborted by stop(), meanwhile: the end was written from there.
    if (!this.settle(active, ok, value)) return;
    // The end, in this same frame (and the run's trace context): one async frame per run.
    const event = this.decideNext(active, ok);
    const recorded = await coordinator.writeEnd(active, active.versionBefore, active.decidedNext);
    this.ended(active, ok, value, recorded ? event : null);
  }

  /**
   * The insert of the run's record failed with `error` (in a cluster, the insert made only while the
   * claim is this instance's). It may have landed with its answer lost, so it is not given up but
   * tried again, with the same run id, until the answer is definite. Resolves to whether the record
   * is the run's; a run the storage refuses for good (its fire recorded by another run, its job
   * gone) is settled (its start failed) before it resolves, as is one aborted by stop().
   */
  private async retryStart(active: ActiveRun, error: unknown): Promise<boolean> {
    const coordinator = this.coordinator();
    const { run, fire } = active;
    const outcome = await this.ctx.writes.untilDefinite(
      `the start of run ${run.id} of job "${fire.entry.job.id}"`,
      async () => (await coordinator.insertRun(active)) !== false,
      () => active.settled,
      { error },
    );
    if (active.settled) return false;
    if (outcome.ok) return outcome.value;
    // A retry refused as a fire recorded already: the first try landed, unless another run did.
    const landed = outcome.error instanceof RunAlreadyRecordedError && (await this.isStored(run));
    if (!landed) this.startFailed(active, outcome.error);
    return landed;
  }

  /** Whether the run is stored (read back, retried, after a write whose answer was lost). */
  private async isStored(run: Run): Promise<boolean> {
    const { storage, writes } = this.ctx;
    const stored = await writes.write(`a read of the start record of run ${run.id}`, async () =>
      (await storage.getRuns(run.jobId, 20)).some((r) => r.id === run.id),
    );
    return stored === true;
  }

  /**
   * The start could not be recorded: the handler does not run. A failed write that stored nothing
   * of the run (or a claim that may have landed) starts the fire over, soon; a fire the storage
   * refuses for good (recorded already, its job gone) is dropped.
   */
  private startFailed(active: ActiveRun, err: unknown): void {
    const { ctx } = this;
    const { fire } = active;
    const entry = fire.entry;
    active.settled = true;
    ctx.slots.release(active);
    releaseEntry(entry);
    const job = entry.job;
    if (job.status === 'running') job.status = 'pending';
    job.lastRunAt = active.lastRunBefore;
    // This fire was recorded already (by another instance, or a trigger in the same millisecond).
    const skipped = err instanceof RunAlreadyRecordedError;
    if (active.trace !== UNTRACED) {
      ctx.tracer.endRun(active.trace, {
        status: skipped ? 'skipped' : 'failed',
        durationMs: 0,
        error: skipped ? undefined : err,
      });
    }
    if (skipped) {
      ctx.signals.tallies.firesSkipped++;
      ctx.signals.emit('run.skipped', entry.job);
    }
    const firing = this.firing();
    const restart = this.coordinator().startFailed(active, err, skipped);
    if (restart) firing.restart(fire, null);
    firing.followUp(entry, !restart);
    firing.pump();
    ctx.flight.end();
  }

  private timeOut(active: ActiveRun): void {
    const { signals } = this.ctx;
    const own = active.fire.entry.job.timeout !== null;
    const error = new JobTimeoutError(active.run.jobId, active.timeout, own);
    signals.tallies.runsTimedOut++;
    active.ctx.abort(error);
    signals.emit('run.timed_out', active.fire.entry.job, active.run, error.message);
    this.settleAndFinish(active, false, error);
  }

  /**
   * The handler settled, timed out or was aborted: the run's slot is freed and its outcome set.
   * False when it was settled already (the handler settling after its time-out).
   */
  private settle(active: ActiveRun, ok: boolean, value: unknown): boolean {
    if (active.settled) return false;
    const { ctx } = this;
    active.settled = true;
    ctx.slots.release(active);
    this.timed.delete(active, active.timeout);
    active.fire.entry.handling = false;
    const now = ctx.now();
    const run = active.run;
    active.endedAt = now;
    run.endAt = ctx.table.clockDate(now);
    run.duration = now - active.startedAt;
    if (ok) {
      run.status = 'success';
      run.output = formatOutput(value, ctx.options.maxOutputSize);
    } else {
      run.status = 'failed';
      run.error = formatError(value, ctx.options.maxOutputSize);
    }
    ctx.telemetry.runEnded(active.fire.entry.job.handlerName, run.status, run.duration);
    this.firing().pump();
    return true;
  }

  /** Settles a run from outside its own frame (time-out, abort), then writes its end. */
  private settleAndFinish(active: ActiveRun, ok: boolean, value: unknown): void {
    if (!this.settle(active, ok, value)) return;
    if (active.trace === UNTRACED) void this.finish(active, ok, value);
    else void this.ctx.tracer.runInContext(active.trace, this.finish, this, active, ok, value);
  }

  /** Decides what comes next for the job, and writes the run and the job. */
  private async finish(active: ActiveRun, ok: boolean, value: unknown): Promise<void> {
    const event = this.decideNext(active, ok);
    const coordinator = this.coordinator();
    const recorded = await coordinator.writeEnd(active, active.versionBefore, active.decidedNext);
    this.ended(active, ok, value, recorded ? event : null);
  }

  /**
   * What comes next for the job after its run (`afterRun`): a retry, done, or its schedule; the job
   * is changed here (`versionBefore` and `decidedNext` kept on the run for the end's write).
   * Returns the event the run's end is.
   */
  private decideNext(active: ActiveRun, ok: boolean): JobEventType {
    const { ctx } = this;
    const { signals, options } = ctx;
    const firing = this.firing();
    const { fire, run } = active;
    const now = active.endedAt;
    const entry = fire.entry;
    const job = entry.job;
    let event: JobEventType = ok ? 'run.succeeded' : 'run.failed';
    if (ok) {
      signals.tallies.runsSucceeded++;
      job.lastResult = run.output;
    } else {
      signals.tallies.runsFailed++;
      job.lastResult = run.error;
    }
    active.versionBefore = job.version;
    const nextBefore = job.nextRunAt?.getTime() ?? null;
    const paused = job.status === 'paused';
    const delay = ok ? 0 : retryDelayOf(job, job.retryCount + 1, options.retryDelay);
    const next = afterRun(job, ok, entry.removed, now, delay);
    switch (next.kind) {
      case 'retry':
        job.retryCount++;
        signals.tallies.runsRetried++;
        event = 'run.retrying';
        job.nextRunAt = paused ? null : new Date(next.at);
        entry.gen++;
        if (!paused) {
          const link = ctx.tracer.spanContext(active.trace);
          firing.scheduleAt(entry, next.at, fire.attempt + 1, fire.scheduledAt, link);
        }
        break;
      case 'completed':
      case 'failed':
        if (ok) job.retryCount = 0;
        finishOnce(job, next.kind);
        break;
      case 'next':
        job.retryCount = 0;
        firing.endRetries(entry, fire, now);
        break;
    }
    if (paused) job.status = 'paused';
    else if (job.status === 'running') job.status = 'pending';
    ctx.table.touch(job, now);
    active.decidedNext = (job.nextRunAt?.getTime() ?? null) !== nextBefore;
    return event;
  }

  /**
   * The run's records are written: its span ends, the job is free, and the event is told (none
   * when the end was fenced: another instance recorded the run lost).
   */
  private ended(active: ActiveRun, ok: boolean, value: unknown, event: JobEventType | null): void {
    const { ctx } = this;
    const { fire, run } = active;
    const entry = fire.entry;
    const job = entry.job;
    if (active.trace !== UNTRACED) {
      ctx.tracer.endRun(active.trace, {
        status: ok ? 'success' : 'failed',
        durationMs: run.duration,
        error: ok ? undefined : value,
      });
    }
    releaseEntry(entry);
    this.firing().followUp(entry, true);
    if (event !== 'run.succeeded' && event !== null) {
      const level = event === 'run.retrying' ? 'warn' : 'error';
      ctx.options.logger[level](
        `Job "${job.id}" (${job.name}) run ${run.id} failed (attempt ${run.attempt}): ${run.error}`,
      );
    }
    if (event !== null) ctx.signals.emit(event, entry.job, run, ok ? undefined : run.error);
    ctx.flight.end();
  }
}

/** A once job's last run ended: it is done (a paused one stays paused). */
function finishOnce(job: Job, status: 'completed' | 'failed'): void {
  if (job.status !== 'paused') job.status = status;
  job.nextRunAt = null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
