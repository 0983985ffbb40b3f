import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions, type Logger, type QueryRunner } from 'typeorm';
import { beforeAll, describe } from 'vitest';
import type { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage.js';

/** The databases the TypeORM suites run against. */
export type TestDatabaseKind = 'postgres' | 'mariadb' | 'mysql' | 'sqlite-file' | 'sqlite-memory';

/** How to reach a test database, and what to say when it cannot be reached. */
export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** A readable name: "PostgreSQL", "MariaDB", ... */
  readonly label: string;
  /** Whether a server must be running (SQLite needs none). */
  readonly server: boolean;
  /** How to start the server, for messages. */
  readonly howToStart: string;
  /** DataSource options (without logger); `extra` overrides them. */
  options(extra?: Partial<DataSourceOptions>): DataSourceOptions;
}

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MARIADB_URL = process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Temp directories of SQLite files made by this process, removed by `removeSqliteFiles()`. */
const sqliteDirs: string[] = [];

export const TEST_DATABASES: Readonly<Record<TestDatabaseKind, TestDatabase>> = {
  postgres: {
    kind: 'postgres',
    label: 'PostgreSQL',
    server: true,
    howToStart: `start it with \`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\` (or set TEST_POSTGRES_URL; now ${POSTGRES_URL})`,
    options: (extra = {}) =>
      ({ type: 'postgres', url: POSTGRES_URL, ...extra }) as DataSourceOptions,
  },
  mariadb: {
    kind: 'mariadb',
    label: 'MariaDB',
    server: true,
    howToStart: `start it with \`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd\` (or set TEST_MARIADB_URL; now ${MARIADB_URL})`,
    options: (extra = {}) => ({ type: 'mariadb', url: MARIADB_URL, ...extra }) as DataSourceOptions,
  },
  /** The same MariaDB server through TypeORM's `mysql` driver type (what MySQL users configure). */
  mysql: {
    kind: 'mysql',
    label: 'MariaDB (type mysql)',
    server: true,
    howToStart: `start it with \`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd\` (or set TEST_MARIADB_URL; now ${MARIADB_URL})`,
    options: (extra = {}) => ({ type: 'mysql', url: MARIADB_URL, ...extra }) as DataSourceOptions,
  },
  'sqlite-file': {
    kind: 'sqlite-file',
    label: 'SQLite (file)',
    server: false,
    howToStart: 'nothing to start (better-sqlite3)',
    options: (extra = {}) => {
      const dir = mkdtempSync(join(tmpdir(), 'job-scheduler-sqlite-'));
      sqliteDirs.push(dir);
      return {
        type: 'better-sqlite3',
        database: join(dir, 'test.db'),
        ...extra,
      } as DataSourceOptions;
    },
  },
  'sqlite-memory': {
    kind: 'sqlite-memory',
    label: 'SQLite (memory)',
    server: false,
    howToStart: 'nothing to start (better-sqlite3)',
    options: (extra = {}) =>
      ({ type: 'better-sqlite3', database: ':memory:', ...extra }) as DataSourceOptions,
  },
};

/** A unique table prefix for one test or suite, e.g. `t3f9a0c1b_`. */
export function uniqueTablePrefix(): string {
  return `t${randomBytes(4).toString('hex')}_`;
}

/** Records every statement a DataSource runs (a TypeORM `Logger`; TypeORM calls it for each query). */
export class QueryRecorder implements Logger {
  readonly queries: string[] = [];

  logQuery(query: string): void {
    this.queries.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}

  /** Forgets what was recorded so far. */
  reset(): void {
    this.queries.length = 0;
  }

  /** The recorded statements that are not transaction control (BEGIN, COMMIT, ...). */
  get statements(): string[] {
    return this.queries.filter(
      (query) =>
        !/^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SET TRANSACTION|SAVEPOINT|RELEASE)/i.test(
          query,
        ),
    );
  }
}

/** Creates and initialises a DataSource on a test database. */
export async function createTestDataSource(
  database: TestDatabase,
  extra: Partial<DataSourceOptions> = {},
): Promise<DataSource> {
  const dataSource = new DataSource(database.options(extra));
  await dataSource.initialize();
  return dataSource;
}

/** Drops the given tables (if they exist) through a DataSource: a test's cleanup. */
/** The three tables of a storage, in the order they can be dropped. */
export const tablesOf = (storage: TypeOrmStorage): string[] => [
  storage.runTableName,
  storage.jobTableName,
  storage.leaseTableName,
];

export async function dropTables(
  dataSource: DataSource | undefined,
  tables: readonly string[],
): Promise<void> {
  if (!dataSource?.isInitialized) return;
  const runner: QueryRunner = dataSource.createQueryRunner();
  try {
    for (const table of tables) await runner.dropTable(table, true);
  } finally {
    await runner.release();
  }
}

/** Removes the temp directories of SQLite files made by this process. */
export function removeSqliteFiles(): void {
  for (const dir of sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Why a database cannot be used (`undefined` when it can): its server is tried with a short
 * connection. SQLite needs no server.
 */
export async function unavailableReason(database: TestDatabase): Promise<string | undefined> {
  if (!database.server) return undefined;
  const timeouts =
    database.options().type === 'postgres'
      ? { connectTimeoutMS: 2_000 }
      : { connectTimeout: 2_000 };
  const dataSource = new DataSource(database.options(timeouts as Partial<DataSourceOptions>));
  try {
    await dataSource.initialize();
    await dataSource.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
  }
}

/**
 * `describe` for a suite that needs a database. It is never skipped: when its server is unreachable
 * the suite fails in `beforeAll`, naming the server and how to start it (`npm test` starts the local
 * servers first, through `scripts/start-databases.sh`).
 *
 * Call it at the top level of a test file after `await unavailableReason(database)`.
 */
export function describeWithDatabase(
  database: TestDatabase,
  reason: string | undefined,
  name: string,
  body: () => void,
): void {
  describe(name, () => {
    if (reason !== undefined) {
      beforeAll(() => {
        throw new Error(
          `${database.label} is not reachable (${reason}); its suite "${name}" needs it: ${database.howToStart}.`,
        );
      });
    }
    body();
  });
}

/** The connection URL of a server database's DataSource options. */
export function urlOf(database: TestDatabase): string {
  const url = (database.options() as { url?: unknown }).url;
  if (typeof url !== 'string') throw new Error(`${database.label} is not configured by URL`);
  return url;
}

/** A port on 127.0.0.1 nothing listens on (one the system just gave out and took back). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
