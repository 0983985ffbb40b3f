/**
 * What the PostgreSQL benchmarks share: the server, a connection (or a `skipped` report when it is
 * down), table names and their removal, and CPU read from Linux's /proc.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { TypeOrmStorage } from '../lib/storage/typeorm/typeorm.storage.js';
import { report } from './common.js';

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

/** Drops a storage's three tables. */
export function dropStorageTables(admin: DataSource, storage: TypeOrmStorage): Promise<void> {
  return dropTables(admin, [storage.runTableName, storage.jobTableName, storage.leaseTableName]);
}

/** CPU ms used so far by a process (utime + stime), or NaN. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/** CPU ms used so far by the local PostgreSQL server's processes, or NaN when it is not local. */
export function postgresCpuMs(): number {
  if (!/@(127\.0\.0\.1|localhost)[:/]/.test(POSTGRES_URL)) return NaN;
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue;
    }
    if (name.startsWith('postgres')) total += processCpuMs(Number(pid)) || 0;
  }
  return total;
}
