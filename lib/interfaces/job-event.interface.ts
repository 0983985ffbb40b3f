import type { Job } from './job.interface.js';
import type { Run } from './run.interface.js';

/** Kinds of lifecycle event on `events$`. */
export type JobEventType =
  | 'job.added'
  | 'job.updated'
  | 'job.removed'
  | 'job.paused'
  | 'job.resumed'
  | 'run.started'
  | 'run.succeeded'
  | 'run.failed'
  | 'run.retrying'
  | 'run.timed_out'
  | 'run.skipped';

/** One lifecycle event. `run` is set for `run.*` events, `error` for failures and time-outs. */
export interface JobEvent {
  type: JobEventType;
  jobId: string;
  /** When it happened (epoch ms). */
  at: number;
  job?: Job;
  run?: Run;
  runId?: string;
  error?: string;
}
