/**
 * Section 7 of `npm run bench`, the admin dashboard: a Nest app with `JobModule` (a `TypeOrmStorage`
 * on PostgreSQL holding 100,000 jobs and 1,000,000 runs) and `JobAdminModule`, each API call of the
 * jobs page, a job's page, the overview and the runs page timed over HTTP (the scenario is
 * `admin-pages.ts`): server time median and p95, and the round trip. Aim: each page under 50 ms.
 * And the page weight of the dashboard's files: aim, under 100 KB of script and style.
 */
import { int, markdownTable, num, secs } from './format.js';
import { load } from './machine.js';
import { isSkipped, scenario } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

/** One timed page (one API call, or the overview's three together), as `admin-pages.ts` reports it. */
export interface AdminPageFigures {
  name: string;
  /** `jobs page`, `job page`, `overview`, `runs page`. */
  group: string;
  /** The request paths, under the module's path (`/jobs/`). */
  paths: string[];
  /** Server time: the request's arrival in Express to the response's `finish` (of all its calls). */
  medianMs: number;
  p95Ms: number;
  /** The client's round trip: `fetch` and reading the body. */
  clientMedianMs: number;
  clientP95Ms: number;
  /** Items in the answers (a page's items, the buckets, 1 for an object). */
  items: number;
  /** Bytes of the answers' bodies. */
  bytes: number;
}

/** One part of a page timed on the storage in the scenario's process. */
export interface AdminPartFigures {
  name: string;
  medianMs: number;
  p95Ms: number;
  /** For a query: its plan in one line, e.g. `Limit > Sort > Seq Scan` (EXPLAIN ANALYZE, once). */
  plan?: string;
  /** `EXPLAIN ANALYZE`'s execution time: the server's own part. */
  serverMs?: number;
  /** Rows the plan's scans read (returned, and removed by their filter). */
  rowsRead?: number;
}

/** A part's figures in one line. */
function partText(p: AdminPartFigures): string {
  const plan =
    p.plan === undefined
      ? ''
      : ` (plan ${p.plan}; server ${num(p.serverMs)} ms, ${int(p.rowsRead)} rows read)`;
  return `${p.name}: ${num(p.medianMs)} / ${num(p.p95Ms)}${plan}`;
}

/** One of the dashboard's files. */
export interface UiFileFigures {
  name: string;
  /** `script` (.js), `style` (.css), `other` (.html, .svg). */
  kind: string;
  bytes: number;
  gzipBytes: number;
}

/** The aim per page, ms (server time, median). */
export const ADMIN_AIM_MS = 50;
/** The aim for the dashboard's script and style, KB (1,000 bytes). */
export const ADMIN_WEIGHT_AIM_KB = 100;

/** Bytes as KB (1,000 bytes). */
const kb = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${(n / 1000).toFixed(1)} KB` : 'n/a';

export async function adminSection(
  out: Transcript,
  board: Scoreboard,
  pgReachable: boolean,
): Promise<void> {
  out.write(
    `\n7. admin dashboard, PostgreSQL: JobModule (TypeOrmStorage, 100,000 jobs, 1,000,000 runs of 10,000 of them over 30 days)` +
      ` and JobAdminModule in a Nest app on Express; each page's API calls over HTTP on loopback, median / p95 of 20` +
      ` (aim: under ${ADMIN_AIM_MS} ms each, server time), and the dashboard's page weight (aim: under ${ADMIN_WEIGHT_AIM_KB} KB of script and style)\n`,
  );
  const f = pgReachable ? await scenario(out, './admin-pages.ts', []) : undefined;
  if (!pgReachable || isSkipped(f)) {
    const why = f?.reason === undefined ? '' : ` at ${String(f.url)} (${String(f.reason)})`;
    out.write(
      `  skipped: PostgreSQL is not reachable${why}. Start it, or set TEST_POSTGRES_URL.\n`,
    );
    board.row('Admin pages, PostgreSQL', 'skipped (no PostgreSQL)');
    return;
  }
  if (!f) {
    board.row('Admin pages, PostgreSQL', 'failed (see the printout)');
    return;
  }
  const pages = f.pages as unknown as AdminPageFigures[];
  const parts = f.parts as unknown as AdminPartFigures[];
  const files = f.files as unknown as UiFileFigures[];
  out.write(
    `  ${int(f.jobs)} jobs (${int(f.pausedJobs)} paused, ${int(f.failedJobs)} failed), ${int(f.runs)} runs` +
      ` (${int(f.failedRuns)} failed, ${int(f.runsLast24h)} in the last 24 h; run table and indexes` +
      ` ${int(Number(f.runTableBytes) / 1024 / 1024)} MiB), filled in ${secs(f.fillMs)}` +
      ` (INSERT ... SELECT FROM generate_series: jobs ${secs(f.fillJobsMs)}, runs ${secs(f.fillRunsMs)};` +
      ` ANALYZE ${secs(f.analyzeMs)}); app up in ${secs(f.bootMs)}; pool of ${int(f.poolMax)} connections;` +
      ` load after: ${load()}\n` +
      `  server: from the request's arrival in Express to the response's finish (an Express middleware in the` +
      ` bench app; for the overview, from the first call's arrival to the last one's finish);` +
      ` round trip: the client's fetch and body read\n\n`,
  );
  const rows = [
    [
      'route',
      'median ms',
      'p95 ms',
      'round trip median / p95 ms',
      'response',
      `under ${ADMIN_AIM_MS} ms?`,
    ],
  ];
  for (const p of pages) {
    rows.push([
      `${p.name}: \`${p.paths.map((path) => `GET /jobs/${path.replace(/cursor=[^&]+/, 'cursor=…').replace(/from=[^&]+/, 'from=…')}`).join('`, `')}\``,
      num(p.medianMs),
      num(p.p95Ms),
      `${num(p.clientMedianMs)} / ${num(p.clientP95Ms)}`,
      `${int(p.items)} items, ${kb(p.bytes)}`,
      p.medianMs < ADMIN_AIM_MS ? 'yes' : 'NO',
    ]);
  }
  out.write(`${markdownTable(rows)}\n\n`);
  out.write(
    `  the jobs page's parts, on the storage in the scenario's process (median / p95 ms):\n`,
  );
  for (const p of parts) out.write(`    ${partText(p)}\n`);

  const scriptStyle = Number(f.scriptBytes) + Number(f.styleBytes);
  const scriptStyleGzip = Number(f.scriptGzipBytes) + Number(f.styleGzipBytes);
  out.write(
    `\n  page weight (lib/admin/ui/, ${int(files.length)} files; KB = 1,000 bytes): script ${kb(f.scriptBytes)}` +
      ` (${int(files.filter((x) => x.kind === 'script').length)} files), style ${kb(f.styleBytes)},` +
      ` other ${kb(f.otherBytes)} (html, svg); script + style ${kb(scriptStyle)}` +
      ` (${scriptStyle < ADMIN_WEIGHT_AIM_KB * 1000 ? 'under' : 'OVER'} the ${ADMIN_WEIGHT_AIM_KB} KB aim);` +
      ` gzipped (each file): script ${kb(f.scriptGzipBytes)}, style ${kb(f.styleGzipBytes)},` +
      ` other ${kb(f.otherGzipBytes)}, script + style ${kb(scriptStyleGzip)}\n`,
  );

  const slowest = pages.reduce<AdminPageFigures | undefined>(
    (worst, p) => (worst === undefined || p.medianMs > worst.medianMs ? p : worst),
    undefined,
  );
  const over = pages.filter((p) => !(p.medianMs < ADMIN_AIM_MS));
  board.compare({
    scenario: `Admin pages, PostgreSQL, 100,000 jobs and 1,000,000 runs: server median of the slowest of ${pages.length} calls`,
    ours: slowest?.medianMs,
    theirs: ADMIN_AIM_MS,
    who: 'the aim',
    better: 'lower',
    format: (n) => `${num(n)} ms`,
    oursText: `${num(slowest?.medianMs)} ms (${slowest?.name ?? 'n/a'})`,
    why:
      over.length === 0
        ? ''
        : `Over the aim: ${over.map((p) => `${p.name} (${num(p.medianMs)} ms)`).join('; ')}.` +
          ` The jobs page's parts (median / p95 ms): ${parts.map(partText).join('; ')}.`,
  });
}
