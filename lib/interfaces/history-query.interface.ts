import type { Duration, JobStatus } from './job.interface.js';
import type { RunStatus } from './run.interface.js';

/** An instant given to a query: a `Date`, an ISO-8601 string or epoch milliseconds. */
export type InstantInput = Date | string | number;

/**
 * One page of a query, and where the next one starts: pass `nextCursor` back as `cursor` with the
 * same filters; `null` on the last page.
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What `findJobs` takes. Jobs come oldest first, by `(createdAt, id)`. */
export interface JobQuery {
  status?: JobStatus;
  handlerName?: string;
  /** Case-insensitive substring of the job's id or name. */
  search?: string;
  /** From 1 to 500 (default 50). */
  limit?: number;
  /** The `nextCursor` of the page before (same filters). */
  cursor?: string | null;
}

/** What `findRuns` takes. Runs come newest first, by `(startAt, id)`. */
export interface RunQuery {
  jobId?: string;
  status?: RunStatus;
  /** Runs that started at or after this instant. */
  from?: InstantInput;
  /** Runs that started before this instant. */
  to?: InstantInput;
  /** Case-insensitive substring of the run's error or output text. */
  search?: string;
  /** From 1 to 500 (default 50). */
  limit?: number;
  /** The `nextCursor` of the page before (same filters). */
  cursor?: string | null;
}

/** What `runStats` takes: runs that started in `[from, to)`, counted per `bucket`. */
export interface RunStatsQuery {
  jobId?: string;
  from: InstantInput;
  /** Default: now. */
  to?: InstantInput;
  /** The width of a bucket (`'1h'`, `'15m'`, `60_000`); buckets start at `from`. */
  bucket: Duration;
}

/** One bucket of `runStats`: the finished runs that started in `[start, start + bucket)`. */
export interface RunStatsBucket {
  start: Date;
  succeeded: number;
  failed: number;
  /** Over the bucket's finished runs; `null` when it has none. */
  avgDurationMs: number | null;
  maxDurationMs: number | null;
}
