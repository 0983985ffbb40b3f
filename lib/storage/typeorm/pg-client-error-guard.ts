import type { DataSource } from 'typeorm';

/** Set on a pg pool once its clients are guarded, so that several storages guard it once. */
const GUARDED = Symbol.for('nestjs-job-scheduler.pg-client-error-guard');

/** The part of a pg `Pool` (and of its `Client`s) the guard uses. */
interface PgPoolLike {
  on(event: 'connect', listener: (client: PgClientLike) => void): unknown;
  _clients?: unknown;
  [GUARDED]?: true;
}
interface PgClientLike {
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * Gives every client of a PostgreSQL DataSource's pools a lasting 'error' listener, so that a
 * connection the server ends (a restart, `pg_terminate_backend`, a pooler or an idle timeout) can
 * never emit an 'error' nobody hears, which Node turns into an uncaught exception that ends the app.
 *
 * Why it is needed: pg-pool removes its idle listener from a client as it hands the client out, and
 * TypeORM's `PostgresQueryRunner.connect()` adds its own listener only in a promise continuation, a
 * microtask later. When the server's `FATAL: terminating connection` arrives in the same socket read
 * as the `ReadyForQuery` of a new connection, pg emits it in between, with no listener. (TypeORM's
 * MySQL driver adds such a listener to each new connection itself; its PostgreSQL driver does not.)
 *
 * The listener does nothing: whoever holds the client learns of the error from its next query
 * ("Client has encountered a connection error"), and pg-pool discards the client when it comes back.
 * Clients made later get it from the pool's 'connect' event (emitted before the client is handed
 * out); clients made already get it now. Idempotent; other dialects are left alone.
 */
export function guardPgClientErrors(dataSource: DataSource): void {
  if (dataSource.options.type !== 'postgres') return;
  const driver = dataSource.driver as unknown as { master?: unknown; slaves?: unknown };
  const pools = [driver.master, ...(Array.isArray(driver.slaves) ? driver.slaves : [])];
  for (const pool of pools) {
    if (!isPool(pool) || pool[GUARDED]) continue;
    pool[GUARDED] = true;
    pool.on('connect', (client) => client.on('error', ignoreClientError));
    // Clients connected before this storage was used (pg-pool's own list; absent in other pools).
    if (Array.isArray(pool._clients)) {
      for (const client of pool._clients as unknown[]) {
        if (isClient(client)) client.on('error', ignoreClientError);
      }
    }
  }
}

function ignoreClientError(): void {
  // Heard so that it is not thrown; the client's holder sees the error on its next query.
}

function isPool(value: unknown): value is PgPoolLike {
  return (
    typeof value === 'object' && value !== null && typeof (value as PgPoolLike).on === 'function'
  );
}

function isClient(value: unknown): value is PgClientLike {
  return (
    typeof value === 'object' && value !== null && typeof (value as PgClientLike).on === 'function'
  );
}
