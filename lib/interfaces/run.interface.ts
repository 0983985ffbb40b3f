/** Where a run is: every run ends `success` or `failed`, never stays `running`. */
export type RunStatus = 'running' | 'success' | 'failed';

/** One execution of a job: the history row. */
export interface Run {
  id: string;
  jobId: string;
  status: RunStatus;
  startAt: Date;
  endAt: Date | null;
  /** The handler's return value: a string as is, anything else JSON-encoded; bounded in size. */
  output: string;
  /** Readable text of what the handler threw (or why the run was failed), else `''`. */
  error: string;
  /** Milliseconds from start to end (0 while running). */
  duration: number;
  /** The OpenTelemetry trace id of the run's span, `''` without tracing. */
  traceId: string;
  /** 1 for the first try of a fire, 2 for its first retry, ... */
  attempt: number;
  /** The instant the fire was due (for a retry: the original fire's instant). */
  scheduledAt: Date;
  createdAt: Date;
}
