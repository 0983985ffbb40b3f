import type { DataSource } from 'typeorm';

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
