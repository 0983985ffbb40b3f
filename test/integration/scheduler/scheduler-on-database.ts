/**
 * Helpers for the tests that run the whole Scheduler on a TypeOrmStorage over a real database, with
 * real timers.
 */
import type { DataSource } from 'typeorm';
import type { Scheduler } from '../../../lib/scheduler.js';
import type { JobEvent } from '../../../lib/interfaces/job-event.interface.js';
import type { TypeOrmStorage } from '../../../lib/storage/typeorm/index.js';

/** Polls `condition` every `every` ms until it holds; rejects after `timeout` ms naming `what`. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeout = 8_000,
  every = 20,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline)
      throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await sleep(every);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The lifecycle events of a scheduler, recorded in order. */
export function recordEvents(scheduler: Scheduler): JobEvent[] {
  const events: JobEvent[] = [];
  scheduler.events$.subscribe((event) => events.push(event));
  return events;
}

/** The `run.succeeded` events of one job, in order. */
export function succeeded(events: readonly JobEvent[], jobId: string): JobEvent[] {
  return events.filter((e) => e.type === 'run.succeeded' && e.jobId === jobId);
}

/**
 * How many rows of a storage's run table have each status, read with plain SQL through `on` (another
 * DataSource than the scheduler's, so that nothing buffered or cached answers).
 */
export async function runStatusCounts(
  on: DataSource,
  storage: TypeOrmStorage,
): Promise<Record<string, number>> {
  const table = on.driver.escape(storage.runTableName);
  const status = on.driver.escape('status');
  const rows = (await on.query(
    `SELECT ${status} AS s, COUNT(*) AS n FROM ${table} GROUP BY ${status}`,
  )) as { s: string; n: number | string }[];
  return Object.fromEntries(rows.map((row) => [row.s, Number(row.n)]));
}
