/**
 * Ends the server connections of an app's DataSources from an admin connection, as a database
 * restart, a failover, a pooler recycle or an idle-session timeout does.
 */
import { randomBytes } from 'node:crypto';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { createTestDataSource, urlOf, type TestDatabase } from '../databases.js';
import type { FaultProxy } from './fault-proxy.js';

/** DataSources whose server connections (and only those) `kill()` ends. */
export interface ConnectionKiller {
  /** A new initialised DataSource marked as this killer's (through `via` when given). */
  newDataSource(options?: {
    via?: FaultProxy;
    extra?: Partial<DataSourceOptions>;
  }): Promise<DataSource>;
  /** Ends `limit` (default all) of the marked server connections, picked at random; resolves to how many. */
  kill(limit?: number): Promise<number>;
  /** How many marked server connections wait for a lock (a statement in flight, blocked). */
  blocked(): Promise<number>;
  /** Destroys the DataSources made and drops what was made for them (a database user on MariaDB). */
  dispose(): Promise<void>;
}

/**
 * PostgreSQL: the DataSources connect with a unique `application_name`, and `kill()` runs
 * `pg_terminate_backend` on the backends that carry it. MariaDB: they connect as a database user
 * made for them, and `kill()` runs `KILL CONNECTION <id>` on that user's connections.
 */
export async function openConnectionKiller(
  database: TestDatabase,
  admin: DataSource,
): Promise<ConnectionKiller> {
  const name = `jobfault_${randomBytes(4).toString('hex')}`;
  const made: DataSource[] = [];
  const make = async (options: Partial<DataSourceOptions>): Promise<DataSource> => {
    const dataSource = await createTestDataSource(database, options);
    made.push(dataSource);
    return dataSource;
  };
  const destroyAll = async (): Promise<void> => {
    for (const dataSource of made.splice(0)) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
    }
  };
  if (database.kind === 'postgres') {
    return {
      newDataSource: ({ via, extra = {} } = {}) =>
        make({
          applicationName: name,
          ...(via ? { url: via.urlFor(urlOf(database)) } : {}),
          ...extra,
        } as Partial<DataSourceOptions>),
      async kill(limit) {
        const rows = (await admin.query(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1
            ORDER BY random() LIMIT $2`,
          [name, limit ?? null],
        )) as { killed: boolean }[];
        return rows.filter((row) => row.killed).length;
      },
      async blocked() {
        const [row] = (await admin.query(
          `SELECT COUNT(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
          [name],
        )) as { n: string }[];
        return Number(row?.n ?? 0);
      },
      dispose: destroyAll,
    };
  }
  if (database.kind === 'mariadb' || database.kind === 'mysql') {
    const [{ db }] = (await admin.query('SELECT DATABASE() AS db')) as { db: string }[];
    await admin.query(`CREATE USER '${name}'@'%'`);
    await admin.query(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${name}'@'%'`);
    return {
      newDataSource({ via, extra = {} } = {}) {
        const url = new URL(via ? via.urlFor(urlOf(database)) : urlOf(database));
        url.username = name;
        url.password = '';
        return make({ url: url.toString(), ...extra } as Partial<DataSourceOptions>);
      },
      async kill(limit) {
        const rows = (await admin.query(
          'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID() ORDER BY RAND()',
          [name],
        )) as { id: number | string }[];
        let killed = 0;
        for (const { id } of rows.slice(0, limit ?? rows.length)) {
          try {
            await admin.query(`KILL CONNECTION ${Number(id)}`);
            killed++;
          } catch {
            // It ended meanwhile.
          }
        }
        return killed;
      },
      async blocked() {
        const [row] = (await admin.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ? AND STATE LIKE 'Waiting for%lock%'",
          [name],
        )) as { n: number | string }[];
        return Number(row?.n ?? 0);
      },
      async dispose() {
        try {
          await destroyAll();
        } finally {
          await admin.query(`DROP USER IF EXISTS '${name}'@'%'`);
        }
      },
    };
  }
  throw new Error(`no way to kill the connections of ${database.label}`);
}
