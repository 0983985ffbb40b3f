import type { ChaosApp, LogLine, RunRow } from './chaos-app.js';

/** Fire instants from `from` to `to` (epoch ms, both included). */
export interface FireWindow {
  from: number;
  to: number;
}

/** What an app did through a fault, in the spirit of Quartz's flaky-connection test. */
export interface ChaosFigures {
  app: string;
  fault: string;
  /** Faults injected (connections killed, outages, restarts...). */
  injected: number;
  /** Fires due in the window (every job, every second). */
  expected: number;
  /** Of those, fires with a successful run. */
  ran: number;
  lost: number;
  /** Handler calls beyond the first for one fire (job, instant, attempt). */
  doubled: number;
  /** Run rows of the app's jobs (all, not only the window's). */
  rows: number;
  /** Handler calls with no run row, and run rows with no handler call. */
  missingRows: number;
  extraRows: number;
  /** Run rows still `running`. */
  stuck: number;
  /** Errors that reached the process's unhandledRejection / uncaughtException handlers. */
  unhandled: number;
  /** Lines of the storage fault log: episodes begun (warn) and ended (log), per instance at most. */
  faultWarnings: number;
  recoveries: number;
  /** Every other warn or error line. */
  otherLines: string[];
}

/** A line of the scheduler's storage fault log that begins an episode. */
export const faultBegun = (l: LogLine): boolean =>
  l.level === 'warn' && l.message.startsWith('Storage fault:');
/** A line of the fault log that ends one. */
export const faultEnded = (l: LogLine): boolean =>
  l.level === 'log' && l.message.startsWith('Storage recovered');
const faultReminder = (l: LogLine): boolean => l.message.startsWith('Storage still failing');

/** The figures of `app` for the fires of `window`, its rows and its logs as they are now. */
export async function chaosFigures(
  app: ChaosApp,
  fault: string,
  injected: number,
  window: FireWindow,
): Promise<ChaosFigures> {
  const rows = await app.rows();
  const lostFires = lostInWindow(app, rows, window);
  const expected = expectedFires(app, window);
  const calls = new Map<string, number>();
  for (const call of app.invocations) {
    const key = `${call.jobId}|${call.scheduledAt}|${call.attempt}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
  }
  const runIds = new Set(rows.map((row) => row.id));
  const calledIds = new Set(app.invocations.map((call) => call.runId));
  return {
    app: app.label,
    fault,
    injected,
    expected,
    ran: expected - lostFires.length,
    lost: lostFires.length,
    doubled: [...calls.values()].reduce((sum, n) => sum + n - 1, 0),
    rows: rows.length,
    missingRows: app.invocations.filter((call) => !runIds.has(call.runId)).length,
    extraRows: rows.filter((row) => !calledIds.has(row.id)).length,
    stuck: rows.filter((row) => row.status === 'running').length,
    unhandled: app.unhandled.length,
    faultWarnings: app.logs.filter(faultBegun).length,
    recoveries: app.logs.filter(faultEnded).length,
    otherLines: otherLines(app.logs),
  };
}

/** The fire instants of the window: the multiples of `everyMs` (a whole number of seconds). */
export function fireInstants(window: FireWindow, everyMs = 1_000): number[] {
  const instants: number[] = [];
  for (let at = Math.ceil(window.from / everyMs) * everyMs; at <= window.to; at += everyMs)
    instants.push(at);
  return instants;
}

function expectedFires(app: ChaosApp, window: FireWindow): number {
  return fireInstants(window, app.everyMs).length * app.jobs.length;
}

/** The fires of the window (job, instant) without a successful run. */
export function lostInWindow(
  app: ChaosApp,
  rows: readonly RunRow[],
  window: FireWindow,
  jobIds: readonly string[] = app.jobs.map((job) => job.id),
): { jobId: string; at: number }[] {
  const ran = new Set(
    rows.filter((row) => row.status === 'success').map((row) => `${row.jobId}|${row.scheduledAt}`),
  );
  const lost: { jobId: string; at: number }[] = [];
  for (const jobId of jobIds) {
    for (const at of fireInstants(window, app.everyMs)) {
      if (!ran.has(`${jobId}|${at}`)) lost.push({ jobId, at });
    }
  }
  return lost;
}

/** The warn and error lines that are not the storage fault log's. */
function otherLines(logs: readonly LogLine[]): string[] {
  return logs
    .filter((l) => l.level !== 'log' && !faultBegun(l) && !faultReminder(l))
    .map((l) => `[${l.instance}] ${l.level}: ${l.message}`);
}

/** One line of figures. */
export function formatFigures(database: string, f: ChaosFigures): string {
  const pct = f.expected === 0 ? 0 : (100 * f.lost) / f.expected;
  return (
    `[${database} · ${f.fault} · ${f.app}] faults ${f.injected} · fires expected ${f.expected} · ` +
    `ran ${f.ran} · lost ${f.lost} (${pct.toFixed(2)}%) · doubled ${f.doubled} · rows ${f.rows} ` +
    `(missing ${f.missingRows}, extra ${f.extraRows}) · stuck ${f.stuck} · unhandled ${f.unhandled} · ` +
    `fault log ${f.faultWarnings} warn / ${f.recoveries} recovered · other warn/error lines ${f.otherLines.length}`
  );
}
