/**
 * What the PostgreSQL benchmarks share: the server, a connection (or a `skipped` report when it is
 * down), table names and their removal, and CPU read from Linux's /proc.
 */
import { randomBytes } from 'node:crypto';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { TypeOrmStorage } from '../lib/storage/typeorm/typeorm.storage.js';
import { report } from './common.js';
import { isLocalUrl, localServerCpuMs, processCpuMs } from './server-cpu.js';

export { processCpuMs } from './server-cpu.js';

/** The server the benchmarks use: `TEST_POSTGRES_URL`, or the local one. */
export const POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An initialized DataSource on `POSTGRES_URL` (`extra`: more DataSource options). */
export async function connectPostgres(extra: Partial<DataSourceOptions> = {}): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: POSTGRES_URL,
    connectTimeoutMS: 2_000,
    ...extra,
  } as DataSourceOptions);
  await dataSource.initialize();
  return dataSource;
}

/** `connectPostgres()`, or, when the server cannot be reached, a `{ skipped: true }` report and exit. */
export async function connectPostgresOrSkip(): Promise<DataSource> {
  try {
    return await connectPostgres();
  } catch (error) {
    report({
      skipped: true,
      reason: error instanceof Error ? error.message : String(error),
      url: POSTGRES_URL,
    });
    process.exit(0);
  }
}

/** A table prefix of its own for one measurement. */
export function benchPrefix(): string {
  return `bench_${randomBytes(4).toString('hex')}_`;
}

/** Drops tables if they exist. */
export async function dropTables(admin: DataSource, tables: readonly string[]): Promise<void> {
  for (const table of tables) await admin.query(`DROP TABLE IF EXISTS "${table}"`);
}

/**
 * Cancels the other sessions' statements that name `text` (a bench's table prefix): on Ctrl-C mid-
 * fill, the INSERT is cancelled rather than waited for before the DROP can run.
 */
export async function cancelStatementsNaming(admin: DataSource, text: string): Promise<void> {
  await admin.query(
    `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND state = 'active' AND position($1 in query) > 0`,
    [text],
  );
}

/** Drops a storage's three tables. */
export function dropStorageTables(admin: DataSource, storage: TypeOrmStorage): Promise<void> {
  return dropTables(admin, [storage.runTableName, storage.jobTableName, storage.leaseTableName]);
}

/**
 * Starts measuring the CPU the local PostgreSQL server spends for one client: the backends of the
 * connections named `applicationName` (their `application_name`), and the server's own background
 * processes (WAL writer, checkpointer, ...: shared with other clients, but they work for this one
 * too). Other clients' backends are left out, so other work on the server (a test suite, the
 * benchmark's own progress polls) does not count, and a backend that exits cannot take CPU off the
 * sum. Resolves to what ends the window and gives its CPU ms (NaN when the server is not local).
 */
export async function postgresCpuFor(
  admin: DataSource,
  applicationName: string,
): Promise<() => Promise<number>> {
  if (!isLocalUrl(POSTGRES_URL)) return async () => NaN;
  const pids = async (): Promise<number[]> =>
    (
      (await admin.query(
        `SELECT pid FROM pg_stat_activity WHERE application_name = $1 OR backend_type <> 'client backend'`,
        [applicationName],
      )) as { pid: number }[]
    ).map((r) => Number(r.pid));
  const before = new Map<number, number>();
  for (const pid of await pids()) before.set(pid, processCpuMs(pid));
  return async () => {
    let total = 0;
    for (const pid of new Set([...before.keys(), ...(await pids())])) {
      const now = processCpuMs(pid);
      // Started inside the window: all of its CPU is; gone by its end: its CPU is lost.
      if (Number.isFinite(now)) total += now - (before.get(pid) ?? 0);
    }
    return total;
  };
}

/**
 * CPU ms used so far by all of the local PostgreSQL server's processes, or NaN when it is not
 * local. Counts other clients' work too, and drops as their backends exit: see `postgresCpuFor`.
 */
export function postgresCpuMs(): number {
  return isLocalUrl(POSTGRES_URL) ? localServerCpuMs('postgres') : NaN;
}
