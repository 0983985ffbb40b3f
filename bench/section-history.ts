/**
 * Section 6 of `npm run bench`, history queries: `TypeOrmStorage`'s `findRuns`, `runStats`,
 * `findJobs` and `getRun` over 1,000,000 runs of 1,000 jobs on PostgreSQL (the scenario is
 * `history-queries.ts`): each query's median and p95, and the indexes its plan reads. Aim: each
 * under 20 ms.
 */
import { int, markdownTable, num, secs } from './format.js';
import { load } from './machine.js';
import { isSkipped, scenario } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

/** One query's figures, as `history-queries.ts` reports them. */
export interface HistoryQueryFigures {
  name: string;
  medianMs: number;
  p95Ms: number;
  /** Items the call returned (a page's items, the buckets, 1 for `getRun`). */
  items: number;
  /** The index names in the plan, the table prefix left out (e.g. `job_runs_recent_idx`). */
  indexes: string[];
  /** Whether the plan reads a table whole. */
  seqScan: boolean;
  /** Whether the plan sorts (a `Sort` or an `Incremental Sort` node). */
  sort: boolean;
  /** The plan's nodes in one line, e.g. `Limit > Index Scan (job_runs_recent_idx)`. */
  plan: string;
  /** `EXPLAIN ANALYZE`'s execution time: the server's own part. */
  serverMs: number;
  /** Rows the plan's scans returned (over all loops). */
  rowsScanned: number;
}

/** The aim per query, ms (median). */
export const HISTORY_AIM_MS = 20;

export async function historySection(
  out: Transcript,
  board: Scoreboard,
  pgReachable: boolean,
): Promise<void> {
  out.write(
    `\n6. history queries, PostgreSQL: TypeOrmStorage with 1,000,000 runs of 1,000 jobs (one a job an hour over ~42 days);` +
      ` a page of 50 and a 24 h runStats, median / p95 of 20 calls (aim: under ${HISTORY_AIM_MS} ms each)\n`,
  );
  const f = pgReachable ? await scenario(out, './history-queries.ts', []) : undefined;
  if (!pgReachable || isSkipped(f)) {
    const why = f?.reason === undefined ? '' : ` at ${String(f.url)} (${String(f.reason)})`;
    out.write(
      `  skipped: PostgreSQL is not reachable${why}. Start it, or set TEST_POSTGRES_URL.\n`,
    );
    board.row('History queries, PostgreSQL', 'skipped (no PostgreSQL)');
    return;
  }
  if (!f) {
    board.row('History queries, PostgreSQL', 'failed (see the printout)');
    return;
  }
  const queries = f.queries as unknown as HistoryQueryFigures[];
  out.write(
    `  ${int(f.jobs)} jobs, ${int(f.runs)} runs (${int(f.failedRuns)} failed, ${int(f.runningRuns)} running;` +
      ` run table and indexes ${int(Number(f.runTableBytes) / 1024 / 1024)} MiB),` +
      ` filled in ${secs(f.fillMs)} (INSERT ... SELECT FROM generate_series: jobs ${secs(f.fillJobsMs)},` +
      ` runs ${secs(f.fillRunsMs)}; ANALYZE ${secs(f.analyzeMs)}); load after: ${load()}\n\n`,
  );
  const rows = [['query', 'median ms', 'p95 ms', 'index used', `under ${HISTORY_AIM_MS} ms?`]];
  for (const q of queries) {
    const index =
      (q.indexes.length > 0 ? q.indexes.join(', ') : 'none') +
      (q.seqScan ? ' (Seq Scan)' : '') +
      (q.sort ? ' (+ sort)' : '');
    rows.push([
      q.name,
      num(q.medianMs),
      num(q.p95Ms),
      index,
      q.medianMs < HISTORY_AIM_MS ? 'yes' : 'NO',
    ]);
  }
  out.write(`${markdownTable(rows)}\n\n`);
  out.write(`  plans (server time from EXPLAIN ANALYZE, rows the scans read):\n`);
  for (const q of queries) {
    out.write(
      `    ${q.name}: ${q.plan}; server ${num(q.serverMs)} ms, ${int(q.rowsScanned)} rows read, ${int(q.items)} items\n`,
    );
  }

  const slowest = queries.reduce<HistoryQueryFigures | undefined>(
    (worst, q) => (worst === undefined || q.medianMs > worst.medianMs ? q : worst),
    undefined,
  );
  const over = queries.filter((q) => !(q.medianMs < HISTORY_AIM_MS));
  board.compare({
    scenario: `History queries, PostgreSQL, 1,000,000 runs: median of the slowest of ${queries.length} queries`,
    ours: slowest?.medianMs,
    theirs: HISTORY_AIM_MS,
    who: 'the aim',
    better: 'lower',
    format: (n) => `${num(n)} ms`,
    oursText: `${num(slowest?.medianMs)} ms (${slowest?.name ?? 'n/a'})`,
    why:
      over.length === 0
        ? ''
        : `Over the aim: ${over.map((q) => `${q.name} (${num(q.medianMs)} ms; plan ${q.plan}; server ${num(q.serverMs)} ms for ${int(q.rowsScanned)} rows read)`).join('; ')}.`,
  });
}
