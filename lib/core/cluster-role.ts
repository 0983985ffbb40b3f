import type { Job } from '../interfaces/job.interface.js';
import type { JobEventType } from '../interfaces/job-event.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import type { JobEntry } from './job-entry.js';
import type { BookedFire } from './lost-run.js';
import type { Schedule } from './schedule/schedule.js';
import type { StorageFaultLog } from './storage-fault-log.js';

/** What the cluster role needs from its scheduler (the jobs it holds and how they are kept). */
export interface ClusterHost {
  /** The jobs the scheduler holds, by id. */
  readonly entries: Map<string, JobEntry>;
  isStarted(): boolean;
  now(): number;
  /** Holds a job as stored, booking its next fire from the row (or `booked`). */
  adopt(entry: JobEntry, stored: Job, booked?: BookedFire | null): void;
  /** The job was removed: never fired here again. */
  forget(entry: JobEntry): void;
  track(job: Job, schedule: Schedule | null): JobEntry;
  scheduleOf(job: Job): Schedule | null;
  /** Bumps the version and `updatedAt`. */
  touch(job: Job, now?: number): void;
  emit(type: JobEventType, entry: JobEntry, run?: Run, error?: string): void;
  /** A write retried until it lands; undefined when given up (stopping, storage closed). */
  writeRetried<T>(what: string, write: () => Promise<T>): Promise<T | undefined>;
  /** Where storage failures are reported (once per episode). */
  readonly faults: StorageFaultLog;
}

/**
 * This instance's part in a cluster, as the scheduler sees it: its lease (whose id fences every
 * claim and end), the poll that takes in what other instances did, and the preference that spreads
 * recurring jobs over the instances. The cluster code implements it (`ClusterMember`); the
 * composition root (`lib/scheduler.ts`) gives it to the scheduler, which never imports that code.
 */
export interface ClusterRole {
  readonly lease: { readonly id: string; isValid(): boolean };
  /** Rounds of the poll so far; an entry changed here during a round is left alone by it. */
  readonly round: number;
  /** Takes the lease (at start). */
  join(): Promise<void>;
  /** Starts the heartbeat and the poll. */
  start(): void;
  /** Stops the poll (first thing at stop). */
  stopPolling(): void;
  /** Gives the lease up (last thing at stop). */
  leave(): Promise<void>;
  /** Polls soon: a claim was lost, so other instances are at work on the jobs. */
  pollSoon(): void;
  /** Whether another live instance is the one the job prefers. */
  prefersOther(jobId: string): boolean;
}
