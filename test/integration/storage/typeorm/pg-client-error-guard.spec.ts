import { afterEach, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { TypeOrmStorage } from '../../../../lib/storage/typeorm/index.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
} from '../../../utils/databases.js';

/** The part of pg's Pool and Client these tests use. */
interface PgClient {
  listenerCount(event: string): number;
  emit(event: string, ...args: unknown[]): boolean;
}
interface PgPool {
  connect(
    callback: (err: unknown, client: PgClient, release: (err?: unknown) => void) => void,
  ): void;
}

const postgres = TEST_DATABASES.postgres;

/**
 * A FATAL message that arrives in the same socket read as a new connection's ReadyForQuery is
 * emitted between pg-pool handing the client out (its idle listener removed) and TypeORM adding its
 * own listener (a microtask later): without a listener Node throws it, and the app exits. The
 * storage gives every client of the pool a lasting listener.
 */
describeWithDatabase(
  postgres,
  await unavailableReason(postgres),
  'TypeOrmStorage on PostgreSQL: no client of the pool is ever without an error listener',
  () => {
    let dataSource: DataSource | undefined;
    let tables: string[] = [];

    afterEach(async () => {
      await dropTables(dataSource, tables.splice(0));
      if (dataSource?.isInitialized) await dataSource.destroy();
      dataSource = undefined;
    });

    /** Checks a client out (a new one when the pool has no idle client) and reports its listeners at hand-out. */
    function listenersAtHandOut(
      pool: PgPool,
    ): Promise<{ client: PgClient; count: number; threw: unknown }> {
      return new Promise((resolve, reject) => {
        pool.connect((err, client, release) => {
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          // Synchronously, as pg does when the FATAL follows ReadyForQuery in one read.
          const count = client.listenerCount('error');
          let threw: unknown;
          try {
            client.emit('error', new Error('terminating connection due to administrator command'));
          } catch (error) {
            threw = error;
          }
          release(new Error('discard the client'));
          resolve({ client, count, threw });
        });
      });
    }

    it('a client handed out by the pool has no listener until the storage guards the pool (the cause)', async () => {
      dataSource = await createTestDataSource(postgres);
      const pool = (dataSource.driver as unknown as { master: PgPool }).master;
      const { count, threw } = await listenersAtHandOut(pool);
      expect(count).toBe(0);
      expect(String(threw)).toMatch(/terminating connection/);
    });

    it('after the storage is first used, new and existing clients of the pool hear errors', async () => {
      dataSource = await createTestDataSource(postgres);
      const pool = (dataSource.driver as unknown as { master: PgPool }).master;
      // A client connected before the storage is used (idle in the pool now).
      await dataSource.query('SELECT 1');
      const storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
      tables = tablesOf(storage);
      await storage.ping();
      const second = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
      tables.push(...tablesOf(second));
      await second.ping(); // a second storage on the DataSource adds no second listener

      const existing = await listenersAtHandOut(pool);
      expect(existing).toMatchObject({ count: 1, threw: undefined });
      // That client was discarded: the pool connects a new one now.
      const fresh = await listenersAtHandOut(pool);
      expect(fresh.client).not.toBe(existing.client);
      expect(fresh).toMatchObject({ count: 1, threw: undefined });
    });
  },
);
