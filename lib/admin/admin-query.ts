import type { JobQuery, RunQuery, RunStatsQuery } from '../interfaces/history-query.interface.js';
import { AdminHttpError } from './admin-errors.js';

/** A query string's parameters, as the HTTP platform parsed them. */
export type QueryParams = Record<string, unknown>;

/*
 * Query strings to the history queries' arguments. Values are passed on as given (a number's
 * digits read as a number, an empty value as absent), so that the queries' own checks name a bad
 * one: `?limit=abc` is an InvalidArgumentError for `limit`, a 400.
 */

/** `GET api/jobs`: `status, handler, q, limit, cursor`. */
export function jobQuery(params: QueryParams): JobQuery {
  return {
    status: given(params.status) as JobQuery['status'],
    handlerName: given(params.handler) as string | undefined,
    search: given(params.q) as string | undefined,
    limit: count(params.limit),
    cursor: given(params.cursor) as string | undefined,
  };
}

/** `GET api/runs` and `GET api/jobs/:id/runs`: `status, jobId, from, to, q, limit, cursor`. */
export function runQuery(params: QueryParams, jobId?: string): RunQuery {
  return {
    jobId: jobId ?? (given(params.jobId) as string | undefined),
    status: given(params.status) as RunQuery['status'],
    from: instant(params.from),
    to: instant(params.to),
    search: given(params.q) as string | undefined,
    limit: count(params.limit),
    cursor: given(params.cursor) as string | undefined,
  };
}

/**
 * `GET api/stats`: `from` (default: 24 hours before `to`), `to` (default: now), `bucket` (default
 * `'1h'`), `jobId`. Both defaults come from one `now`, so the last 24 hours are 24 hourly buckets.
 */
export function statsQuery(params: QueryParams, now: number): RunStatsQuery {
  const bucket = given(params.bucket);
  return {
    jobId: given(params.jobId) as string | undefined,
    from: instant(params.from) ?? (instantMs(params.to) ?? now) - 86_400_000,
    to: instant(params.to) ?? now,
    bucket: (typeof bucket === 'string' && /^\d+$/.test(bucket)
      ? Number(bucket)
      : (bucket ?? '1h')) as RunStatsQuery['bucket'],
  };
}

/** A required text parameter (`GET api/cron?expr=`): 400 naming it when missing. */
export function requiredText(params: QueryParams, name: string): string {
  const value = given(params[name]);
  if (typeof value !== 'string') {
    throw new AdminHttpError(
      400,
      'INVALID_ARGUMENT',
      `The query parameter "${name}" is required (one value).`,
    );
  }
  return value;
}

function given(value: unknown): unknown {
  return value === '' ? undefined : value;
}

function count(value: unknown): number | undefined {
  const v = given(value);
  return (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v) as number | undefined;
}

function instant(value: unknown): string | number | undefined {
  const v = given(value);
  return (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v) as
    string | number | undefined;
}

/** A `to` given as epoch ms or an ISO string, in ms; `undefined` when absent or unreadable. */
function instantMs(value: unknown): number | undefined {
  const v = instant(value);
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
