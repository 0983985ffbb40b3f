import type { Page, RunStatsBucket } from '../../interfaces/history-query.interface.js';
import type { Job } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import {
  matchesSearch,
  type CheckedJobQuery,
  type CheckedRunQuery,
  type CheckedRunStatsQuery,
} from '../history/history-arguments.js';
import { jobPage, runPage, statsBuckets, type BucketCount } from '../history/history-pages.js';
import { toJob, toRun, type JobRecord, type RunRecord } from './memory-records.js';

/*
 * The history queries over MemoryStorage's records: a scan of the matching records that keeps only
 * the best `limit + 1` (a page is O(n log limit), with n bounded by the storage's run limits).
 */

/** A page of jobs in `(createdAt, id)` order. */
export function findJobRecords(jobs: Iterable<JobRecord>, q: CheckedJobQuery): Page<Job> {
  const best = new Smallest<JobRecord>(q.limit + 1, compareJobs);
  const after = q.after;
  for (const job of jobs) {
    if (q.status !== null && job.status !== q.status) continue;
    if (q.handlerName !== null && job.handlerName !== q.handlerName) continue;
    if (q.search !== null && !matchesSearch(q.search, job.id, job.name)) continue;
    if (after !== null && compareKeys(job.createdAt, job.id, after.at, after.id) <= 0) continue;
    best.offer(job);
  }
  return jobPage(best.items.map(toJob), q);
}

/** A page of runs, newest first by `(startAt, id)`. */
export function findRunRecords(
  runsOfJobs: Iterable<readonly RunRecord[] | null>,
  q: CheckedRunQuery,
): Page<Run> {
  const best = new Smallest<RunRecord>(q.limit + 1, newestFirst);
  const before = q.before;
  for (const runs of runsOfJobs) {
    if (runs === null) continue;
    for (const run of runs) {
      if (q.status !== null && run.status !== q.status) continue;
      if (q.from !== null && run.startAt < q.from) continue;
      if (q.to !== null && run.startAt >= q.to) continue;
      if (before !== null && compareKeys(run.startAt, run.id, before.at, before.id) >= 0) continue;
      if (q.search !== null && !matchesSearch(q.search, run.error, run.output)) continue;
      best.offer(run);
    }
  }
  return runPage(best.items.map(toRun), q);
}

/** The query's buckets, counted over the finished runs. */
export function runRecordStats(
  runsOfJobs: Iterable<readonly RunRecord[] | null>,
  q: CheckedRunStatsQuery,
): RunStatsBucket[] {
  const counts = new Map<number, BucketCount & { total: number }>();
  for (const runs of runsOfJobs) {
    if (runs === null) continue;
    for (const run of runs) {
      if (run.status === 'running' || run.startAt < q.from || run.startAt >= q.to) continue;
      const bucket = Math.floor((run.startAt - q.from) / q.bucketMs);
      let count = counts.get(bucket);
      if (count === undefined) {
        count = { bucket, succeeded: 0, failed: 0, avgDurationMs: 0, maxDurationMs: 0, total: 0 };
        counts.set(bucket, count);
      }
      if (run.status === 'success') count.succeeded++;
      else count.failed++;
      count.total += run.duration;
      count.maxDurationMs = Math.max(count.maxDurationMs ?? 0, run.duration);
    }
  }
  for (const count of counts.values()) {
    count.avgDurationMs = count.total / (count.succeeded + count.failed);
  }
  return statsBuckets(q, counts.values());
}

/** The `k` smallest items offered, in order (a sorted array: k is at most 501). */
class Smallest<T> {
  readonly items: T[] = [];

  constructor(
    private readonly k: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  offer(item: T): void {
    const items = this.items;
    if (items.length === this.k && this.compare(item, items[items.length - 1]!) >= 0) return;
    let low = 0;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.compare(items[mid]!, item) <= 0) low = mid + 1;
      else high = mid;
    }
    items.splice(low, 0, item);
    if (items.length > this.k) items.pop();
  }
}

/** Orders by instant, then by id (as the SQL storages do with a binary collation). */
function compareKeys(at: number, id: string, otherAt: number, otherId: string): number {
  return at - otherAt || (id < otherId ? -1 : id > otherId ? 1 : 0);
}

function compareJobs(a: JobRecord, b: JobRecord): number {
  return compareKeys(a.createdAt, a.id, b.createdAt, b.id);
}

function newestFirst(a: RunRecord, b: RunRecord): number {
  return compareKeys(b.startAt, b.id, a.startAt, a.id);
}
