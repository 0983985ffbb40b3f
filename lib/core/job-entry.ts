import type { SpanContext } from '@opentelemetry/api';
import type { Job } from '../interfaces/job.interface.js';
import type { TraceHandle } from '../interfaces/job-tracer.js';
import type { Run } from '../interfaces/run.interface.js';
import type { RunContext } from './run-context.js';
import type { Schedule } from './schedule/schedule.js';

/** What the scheduler holds for one job: its row (written after each change) and its schedule. */
export interface JobEntry {
  job: Job;
  /** Finds the fire after an instant; null for a `once` job. */
  schedule: Schedule | null;
  /** Bumped to invalidate fires already queued (pause, remove, reschedule, retry). */
  gen: number;
  /** A run of the job is queued or in flight: a job never overlaps itself. */
  busy: boolean;
  /** The fire waiting for a slot, while one does (so a pause can free the job at once). */
  queued: Fire | null;
  removed: boolean;
  /** The scheduled instant of the last triggerJob fire (epoch ms), so two never share one. */
  lastTriggerAt: number;
  /** `'fire-all'` catch-up: the last missed instant run, and how many were run (null / 0 when none). */
  catchUpFrom: number | null;
  catchUpRuns: number;
  /** Cluster mode: conditional writes of the job in flight (the poll leaves the entry alone meanwhile). */
  writing: number;
  /** Cluster mode: the poll round during which the entry last changed here (that round skips it). */
  syncedAt: number;
  /** Cluster mode: changed here without the change being stored: the next poll re-reads it. */
  stale: boolean;
  /** The handler of the job's run is running (not merely its start or its records being written). */
  handling: boolean;
  /**
   * A fire that fell due while the job's run was being started or recorded (busy, but its handler
   * not running): offered once the run's records are written, rather than skipped.
   */
  after: Fire | null;
}

/** One due fire, in the timer queue and then, while no slot is free, in the wait queue. */
export interface Fire {
  /** Epoch ms the fire is due. */
  at: number;
  /** Tie-break: equal instants keep the order they were queued in. */
  seq: number;
  entry: JobEntry;
  gen: number;
  attempt: number;
  /** Epoch ms of the fire this run belongs to (a retry keeps the original fire's instant). */
  scheduledAt: number;
  /** Started by triggerJob: does not move the regular schedule. */
  manual: boolean;
  /**
   * Cluster mode: put back by `pollInterval` + 250 ms, left first to the instance the job prefers
   * (its regular schedule was booked when it first fell due).
   */
  deferred: boolean;
  /** The span the run's span links to: triggerJob's caller, or the failed attempt of a retry. */
  link: SpanContext | undefined;
  /**
   * How many times the fire was put back because its start (or claim) could not be written; 0 for
   * a fire that has not failed. A fire put back stays its job's one pending fire.
   */
  restarts: number;
  /** Judged late past `misfireThreshold` already (its misfire policy is applied once). */
  missed: boolean;
  /**
   * Cluster mode: the last claim of this fire failed without an answer, so it may have landed: the
   * lease it was made under and the version it wrote. Confirmed (or found not taken) before the fire
   * is claimed again, or released when the fire is dropped.
   */
  unsure: UnsureClaim | null;
}

/** A claim whose write failed without an answer. */
export interface UnsureClaim {
  claim: string;
  version: number;
  /** The `lastRunAt` it wrote (its run's start): with the version, it tells this claim from a later one. */
  lastRunAt: Date | null;
}

/** A run whose handler has not settled yet. */
export interface ActiveRun {
  fire: Fire;
  run: Run;
  /** The handler it runs (as at its start: the slot it holds counts for this one). */
  handlerName: string;
  ctx: RunContext;
  startedAt: number;
  /** Epoch ms after which the run is timed out: set when its handler is called. */
  deadline: number;
  /** Its time-out in ms (the job's own, or the scheduler's): set when its handler is called. */
  timeout: number;
  /** Set once: by the handler settling, the time-out or the shutdown abort. */
  settled: boolean;
  /** Aborted by stop(): recorded failed, its retry left for the next start. */
  aborted: boolean;
  /** The run's `job.execute` span (`UNTRACED` when nothing is traced). */
  trace: TraceHandle;
  /** Cluster mode: the job's version the claim expects, then the lease id it was claimed under. */
  expectedVersion: number;
  claim: string;
  /** Cluster mode: the job's status and last run before the claim (put back when it is lost). */
  statusBefore: Job['status'];
  lastRunBefore: Date | null;
  /** Epoch ms the run settled (NaN before). */
  endedAt: number;
  /** The job's version before its run's outcome was applied, and whether that moved its next fire. */
  versionBefore: number;
  decidedNext: boolean;
}

/** Orders fires by due time, then by queueing order. */
export function fireBefore(a: Fire, b: Fire): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Orders fires by the second they are due in, then by `seq` (cluster mode's waiting fires). */
export function fireBeforeWithinSecond(a: Fire, b: Fire): boolean {
  const second = Math.floor(a.at / 1000) - Math.floor(b.at / 1000);
  return second < 0 || (second === 0 && a.seq < b.seq);
}

/** The job's run is over (or never began): it may fire again. */
export function releaseEntry(entry: JobEntry): void {
  entry.busy = false;
  entry.queued = null;
}

/**
 * The job was paused, removed or redefined: a fire of it still waiting for a slot will not run
 * (its generation is stale), so the job is free at once rather than when that fire is popped.
 */
export function dropQueued(entry: JobEntry): void {
  if (entry.queued === null) return;
  entry.queued = null;
  entry.busy = false;
}
