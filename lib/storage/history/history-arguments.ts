import { parseDuration } from '../../core/duration.js';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import type {
  InstantInput,
  JobQuery,
  RunQuery,
  RunStatsQuery,
} from '../../interfaces/history-query.interface.js';
import type { JobStatus } from '../../interfaces/job.interface.js';
import type { RunStatus } from '../../interfaces/run.interface.js';
import { decodeCursor, filterDigest, type PageKey } from './history-cursor.js';

/** The most items one page may hold. */
export const MAX_PAGE_LIMIT = 500;
/** Items per page when `limit` is not given. */
export const DEFAULT_PAGE_LIMIT = 50;
/** The most buckets one `runStats` call may return. */
export const MAX_STATS_BUCKETS = 10_000;
/** The longest `search` text. */
const MAX_SEARCH_LENGTH = 1_000;

const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'paused', 'completed', 'failed'];
const RUN_STATUSES: readonly RunStatus[] = ['running', 'success', 'failed'];

/** `findJobs`'s filters, checked: `search` is lowercased (matched case-insensitively). */
export interface JobFilter {
  readonly status: JobStatus | null;
  readonly handlerName: string | null;
  readonly search: string | null;
}

/** A checked `findJobs` query: the jobs after `after` in `(createdAt, id)` order. */
export interface CheckedJobQuery extends JobFilter {
  readonly limit: number;
  readonly after: PageKey | null;
  /** Binds a page's cursor to these filters. */
  readonly digest: string;
}

/** `findRuns`'s filters, checked: instants in epoch ms, `search` lowercased. */
export interface RunFilter {
  readonly jobId: string | null;
  readonly status: RunStatus | null;
  /** Inclusive. */
  readonly from: number | null;
  /** Exclusive. */
  readonly to: number | null;
  readonly search: string | null;
}

/** A checked `findRuns` query: the runs before `before` in newest-first `(startAt, id)` order. */
export interface CheckedRunQuery extends RunFilter {
  readonly limit: number;
  readonly before: PageKey | null;
  readonly digest: string;
}

/** A checked `runStats` query: `buckets` buckets of `bucketMs` from `from`, ending at or past `to`. */
export interface CheckedRunStatsQuery {
  readonly jobId: string | null;
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  readonly buckets: number;
}

/** Checks `findJobs`'s query (`InvalidArgumentError` naming the first field that is wrong). */
export function checkJobQuery(query: JobQuery | undefined): CheckedJobQuery {
  const q = queryObject(query);
  const filter: JobFilter = {
    status: oneOf('status', q.status, JOB_STATUSES),
    handlerName: name('handlerName', q.handlerName),
    search: searchText(q.search),
  };
  const digest = filterDigest(filter);
  return {
    ...filter,
    limit: pageLimit(q.limit),
    after: decodeCursor('jobs', digest, q.cursor),
    digest,
  };
}

/** Checks `findRuns`'s query (`InvalidArgumentError` naming the first field that is wrong). */
export function checkRunQuery(query: RunQuery | undefined): CheckedRunQuery {
  const q = queryObject(query);
  const from = instant('from', q.from);
  const to = instant('to', q.to);
  if (from !== null && to !== null && to < from) {
    throw new InvalidArgumentError('to', q.to, `an instant at or after from (${iso(from)})`);
  }
  const filter: RunFilter = {
    jobId: name('jobId', q.jobId),
    status: oneOf('status', q.status, RUN_STATUSES),
    from,
    to,
    search: searchText(q.search),
  };
  const digest = filterDigest(filter);
  return {
    ...filter,
    limit: pageLimit(q.limit),
    before: decodeCursor('runs', digest, q.cursor),
    digest,
  };
}

/** Checks `runStats`'s query; `to` defaults to `now`. */
export function checkRunStatsQuery(
  query: RunStatsQuery | undefined,
  now: number = Date.now(),
): CheckedRunStatsQuery {
  const q = queryObject(query) as Partial<RunStatsQuery>;
  const jobId = name('jobId', q.jobId);
  const from = instant('from', q.from);
  if (from === null) throw new InvalidArgumentError('from', q.from, 'an instant (required)');
  const to = instant('to', q.to) ?? now;
  if (!(to > from)) {
    throw new InvalidArgumentError('to', q.to ?? iso(to), `an instant after from (${iso(from)})`);
  }
  const bucketMs = parseDuration(q.bucket);
  if (bucketMs === null || bucketMs < 1_000 || !Number.isSafeInteger(bucketMs)) {
    throw new InvalidArgumentError(
      'bucket',
      q.bucket,
      "a duration of at least 1s in whole milliseconds, such as '1h', '15m' or 60000",
    );
  }
  const buckets = Math.ceil((to - from) / bucketMs);
  if (buckets > MAX_STATS_BUCKETS) {
    throw new InvalidArgumentError(
      'bucket',
      q.bucket,
      `a bucket wide enough for at most ${MAX_STATS_BUCKETS} buckets from ${iso(from)} to ${iso(to)}`,
    );
  }
  return { jobId, from, to, bucketMs, buckets };
}

/** Checks a run id given to `getRun`. */
export function checkRunId(runId: unknown): string {
  if (typeof runId !== 'string' || runId === '' || runId.length > 255 || runId.includes('\0')) {
    throw new InvalidArgumentError('runId', runId, 'a run id (a non-empty string)');
  }
  return runId;
}

/** Whether `text` (as stored) holds the lowercased `search`. */
export function matchesSearch(search: string, ...texts: string[]): boolean {
  return texts.some((text) => text.toLowerCase().includes(search));
}

function queryObject<T extends object>(query: T | undefined): Partial<T> {
  if (query === undefined) return {};
  if (typeof query !== 'object' || query === null || Array.isArray(query)) {
    throw new InvalidArgumentError('query', query, 'an object of filters');
  }
  return query;
}

function pageLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (
    typeof limit !== 'number' ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    limit > MAX_PAGE_LIMIT
  ) {
    throw new InvalidArgumentError('limit', limit, `a whole number from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | null {
  if (value === undefined || value === null) return null;
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(
      field,
      value,
      `one of ${allowed.map((s) => `'${s}'`).join(', ')}`,
    );
  }
  return value as T;
}

function name(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '' || value.length > 255 || value.includes('\0')) {
    throw new InvalidArgumentError(field, value, 'a non-empty string of at most 255 characters');
  }
  return value;
}

function searchText(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > MAX_SEARCH_LENGTH || value.includes('\0')) {
    throw new InvalidArgumentError(
      'search',
      value,
      `a string of at most ${MAX_SEARCH_LENGTH} characters, without NUL`,
    );
  }
  return value.toLowerCase();
}

function instant(field: string, value: InstantInput | undefined | null): number | null {
  if (value === undefined || value === null) return null;
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'number'
        ? value
        : typeof value === 'string' && value.trim() !== ''
          ? Date.parse(value)
          : NaN;
  if (!Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime())) {
    throw new InvalidArgumentError(
      field,
      value,
      'an instant: a valid Date, an ISO-8601 string or epoch milliseconds',
    );
  }
  return ms;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
