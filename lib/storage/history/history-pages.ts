import type { Page, RunStatsBucket } from '../../interfaces/history-query.interface.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import type {
  CheckedJobQuery,
  CheckedRunQuery,
  CheckedRunStatsQuery,
} from './history-arguments.js';
import { encodeCursor } from './history-cursor.js';

/**
 * A page of jobs from up to `limit + 1` matches in `(createdAt, id)` order: one more than the page
 * holds means there is a next page, which starts after the page's last job.
 */
export function jobPage(matches: Job[], query: CheckedJobQuery): Page<Job> {
  if (matches.length <= query.limit) return { items: matches, nextCursor: null };
  const items = matches.slice(0, query.limit);
  const last = items[items.length - 1]!;
  return {
    items,
    nextCursor: encodeCursor('jobs', query.digest, { at: last.createdAt.getTime(), id: last.id }),
  };
}

/** A page of runs from up to `limit + 1` matches, newest first by `(startAt, id)`. */
export function runPage(matches: Run[], query: CheckedRunQuery): Page<Run> {
  if (matches.length <= query.limit) return { items: matches, nextCursor: null };
  const items = matches.slice(0, query.limit);
  const last = items[items.length - 1]!;
  return {
    items,
    nextCursor: encodeCursor('runs', query.digest, { at: last.startAt.getTime(), id: last.id }),
  };
}

/** What a storage counted in one bucket (by its index from `from`). */
export interface BucketCount {
  bucket: number;
  succeeded: number;
  failed: number;
  /** `null` when no run of the bucket has ended. */
  avgDurationMs: number | null;
  maxDurationMs: number | null;
}

/** Every bucket of the query, in order, those the storage counted nothing in as zeros. */
export function statsBuckets(
  query: CheckedRunStatsQuery,
  counted: Iterable<BucketCount>,
): RunStatsBucket[] {
  const byIndex = new Map<number, BucketCount>();
  for (const count of counted) byIndex.set(count.bucket, count);
  const buckets: RunStatsBucket[] = [];
  for (let i = 0; i < query.buckets; i++) {
    const count = byIndex.get(i);
    buckets.push({
      start: new Date(query.from + i * query.bucketMs),
      succeeded: count?.succeeded ?? 0,
      failed: count?.failed ?? 0,
      avgDurationMs: count?.avgDurationMs ?? null,
      maxDurationMs: count?.maxDurationMs ?? null,
    });
  }
  return buckets;
}
