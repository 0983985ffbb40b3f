import type { Job } from '../interfaces/job.interface.js';
import type { SchedulerHealth } from '../interfaces/scheduler-health.interface.js';
import type { ActiveRun, Fire, JobEntry, UnsureClaim } from './job-entry.js';
import type { BookedFire } from './lost-run.js';
import type { SchedulerContext } from './scheduler-context.js';

/** Tries of a conditional write of a job that other instances keep changing at the same moment. */
export const CONFLICT_TRIES = 5;

/**
 * Between the run path and the database: how a job change is saved, how a fire is claimed, how a
 * run's start and end are recorded, and how what other writers did is taken in. Alone
 * (`LocalCoordinator`) a scheduler is the only writer; in a cluster (`ClusterCoordinator`, in
 * lib/cluster) every claim and end is fenced by this instance's lease. The composition root picks
 * one; the core never asks which.
 */
export interface RunCoordinator {
  /** Takes what starting needs before the jobs are loaded (cluster: the lease). */
  join(): Promise<void>;
  /** Starts what runs beside the scheduler (cluster: the heartbeat and the poll). */
  start(): void;
  /** First thing at stop: no more taking in of others' changes. */
  stopPolling(): void;
  /** Last thing at stop, once every record is written (cluster: the lease is given up). */
  leave(): Promise<void>;
  /** The round of the cluster poll going on (0 alone): an entry changed here in it is left alone. */
  readonly round: number;
  /** This instance in its cluster, for `health()` (undefined alone). */
  health(): SchedulerHealth['cluster'];

  /** Before the job API changes a job: alone, nothing; in a cluster, the job is re-read. */
  refresh(entry: JobEntry): Promise<void>;
  /**
   * Writes a job changed here (its version already bumped from `expected`). False when another
   * writer changed it meanwhile (the entry is then re-read).
   */
  saveJob(entry: JobEntry, expected: number): Promise<boolean>;
  /** Whether the job, `running` as last read, runs elsewhere (alone: never; it was left by a process that died). */
  runningElsewhere(job: Job): boolean;
  /** Whether a due fire is left first to another instance the job prefers. */
  handsOff(fire: Fire): boolean;
  /** How long a fire handed off waits before it is tried here. */
  readonly handOffMs: number;
  /**
   * Whether a `'fire-all'` catch-up stores the job with its next regular fire (in a cluster, so the
   * instance that won the first missed fire runs the catch-up alone).
   */
  readonly storesRegularNext: boolean;

  /** Starts a fire's run: claims it when needed, then `host.execute(active)` when it is this instance's. */
  launch(active: ActiveRun): void;
  /** What is written before the run's record (alone: the job, `running`); throws when it fails. */
  beforeRecord(active: ActiveRun): Promise<void>;
  /**
   * One insert of the run's record; resolves to false when the claim it needs is no longer this
   * instance's (alone it resolves to nothing: a write that did not throw is the run's).
   */
  insertRun(active: ActiveRun): Promise<boolean | void>;
  /** The run's start could not be recorded: puts the job back; true when the fire is to start over. */
  startFailed(active: ActiveRun, err: unknown, skipped: boolean): boolean;
  /**
   * Writes the run's end, then the job (each retried until it lands). False when the run's end was
   * refused (another instance recorded it lost): its outcome here is no event.
   */
  writeEnd(active: ActiveRun, versionBefore: number, decidedNext: boolean): Promise<boolean>;
  /**
   * A fire with a claim that may have landed (at `unsure.version`) will not be claimed again: the
   * claim is let go, if it landed.
   */
  letGo(entry: JobEntry, unsure: UnsureClaim): void;
}

/** What a coordinator may ask of the scheduler it serves. */
export interface CoordinatorHost extends SchedulerContext {
  /** Holds a job as stored, booking its next fire from the row (or `booked`). */
  adopt(entry: JobEntry, stored: Job, booked?: BookedFire | null): void;
  /** The run is this instance's: records its start and calls its handler. */
  execute(active: ActiveRun): void;
  /** A fire's start (or claim) could not be written: it is tried again soon. */
  restart(fire: Fire, unsure: UnsureClaim | null): void;
  /** The job's run is over here: the fire that fell due meanwhile is offered (or dropped). */
  followUp(entry: JobEntry, offer: boolean): void;
  /** Slots may have come free: waiting fires start. */
  pump(): void;
}

/** Makes the coordinator of a scheduler, given the scheduler as its host. */
export type CoordinatorFactory = (host: CoordinatorHost) => RunCoordinator;
