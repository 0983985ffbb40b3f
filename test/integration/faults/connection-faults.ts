/**
 * Ways to break a database connection under a running scheduler: kill a DataSource's own server
 * connections from an admin connection, or put a TCP proxy in front of the server and close it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { createTestDataSource, type TestDatabase } from '../../utils/databases.js';

/** A DataSource under test whose server connections (and only those) `kill()` ends. */
export interface ConnectionKiller {
  readonly target: DataSource;
  /** Ends every server connection of `target` from the admin connection; resolves to how many. */
  kill(): Promise<number>;
  /** How many server connections of `target` wait for a lock (a statement in flight, blocked). */
  blocked(): Promise<number>;
  /** Destroys `target` and drops what was made for it (a database user on MariaDB). */
  dispose(): Promise<void>;
}

/**
 * PostgreSQL: `target` connects with a unique `application_name`, and `kill()` runs
 * `pg_terminate_backend` on the backends that carry it. MariaDB: `target` connects as a database user
 * made for it, and `kill()` runs `KILL <id>` on that user's connections in `information_schema.PROCESSLIST`.
 */
export async function openConnectionKiller(
  database: TestDatabase,
  admin: DataSource,
  extra: Partial<DataSourceOptions> = {},
): Promise<ConnectionKiller> {
  const name = `jobfault_${randomBytes(4).toString('hex')}`;
  if (database.kind === 'postgres') {
    const target = await createTestDataSource(database, {
      applicationName: name,
      ...extra,
    } as Partial<DataSourceOptions>);
    return {
      target,
      async kill() {
        const rows = (await admin.query(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
          [name],
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
      async dispose() {
        if (target.isInitialized) await target.destroy();
      },
    };
  }
  if (database.kind === 'mariadb' || database.kind === 'mysql') {
    const [{ db }] = (await admin.query('SELECT DATABASE() AS db')) as { db: string }[];
    await admin.query(`CREATE USER '${name}'@'%'`);
    await admin.query(`GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${name}'@'%'`);
    const url = new URL(urlOf(database));
    url.username = name;
    url.password = '';
    let target: DataSource;
    try {
      target = await createTestDataSource(database, {
        url: url.toString(),
        ...extra,
      } as Partial<DataSourceOptions>);
    } catch (error) {
      await admin.query(`DROP USER IF EXISTS '${name}'@'%'`);
      throw error;
    }
    return {
      target,
      async kill() {
        const rows = (await admin.query(
          'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()',
          [name],
        )) as { id: number | string }[];
        let killed = 0;
        for (const { id } of rows) {
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
          if (target.isInitialized) await target.destroy();
        } finally {
          await admin.query(`DROP USER IF EXISTS '${name}'@'%'`);
        }
      },
    };
  }
  throw new Error(`no way to kill the connections of ${database.label}`);
}

/**
 * Locks a table from a connection of `admin` so that every other session's reads and writes of it
 * wait (PostgreSQL: `LOCK TABLE ... IN ACCESS EXCLUSIVE MODE` in a transaction; MariaDB:
 * `LOCK TABLES ... WRITE`). Resolves to the function that releases it.
 */
export async function lockTable(admin: DataSource, table: string): Promise<() => Promise<void>> {
  const runner = admin.createQueryRunner();
  const name = admin.driver.escape(table);
  await runner.connect();
  if (admin.options.type === 'postgres') {
    await runner.startTransaction();
    await runner.query(`LOCK TABLE ${name} IN ACCESS EXCLUSIVE MODE`);
    return async () => {
      try {
        await runner.rollbackTransaction();
      } finally {
        await runner.release();
      }
    };
  }
  await runner.query(`LOCK TABLES ${name} WRITE`);
  return async () => {
    try {
      await runner.query('UNLOCK TABLES');
    } finally {
      await runner.release();
    }
  };
}

/** The connection URL of a server database's DataSource options. */
export function urlOf(database: TestDatabase): string {
  const url = (database.options() as { url?: unknown }).url;
  if (typeof url !== 'string') throw new Error(`${database.label} is not configured by URL`);
  return url;
}

/** The URL with its host and port replaced by 127.0.0.1:`port`. */
export function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString();
}

/** A port nothing listens on (one the system just gave out and took back). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a database server: `down()` closes the port and cuts every
 * connection through it (the server is gone, as far as clients can tell); `up()` listens again on
 * the same port.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  private constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy to the server of `url`, listening. */
  static async to(url: string): Promise<TcpProxy> {
    const parsed = new URL(url);
    const proxy = new TcpProxy(parsed.hostname, Number(parsed.port));
    await proxy.up();
    return proxy;
  }

  async up(): Promise<void> {
    if (this.server !== null) return;
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        // A cut connection errors on both sides; the database client sees its own side close.
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
