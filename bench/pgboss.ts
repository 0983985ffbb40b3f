/**
 * What the pg-boss scenarios share: a pg-boss instance in a schema of its own on the benchmarks'
 * PostgreSQL, a count of the statements it sends, and the schema's removal.
 *
 * pg-boss 10 settings (https://github.com/timgit/pg-boss/blob/10.4.0/docs/api/constructor.md):
 * `max` is its connection pool (default 10).
 */
import { randomBytes } from 'node:crypto';
import PgBoss from 'pg-boss';
import type { DataSource } from 'typeorm';
import { onceCleanUp } from './common.js';
import { POSTGRES_URL } from './postgres.js';

/** A pg-boss schema of its own for one measurement. */
export function pgBossSchema(): string {
  return `bench_pgboss_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** A pg-boss instance, its statements counted as they are sent. */
export interface CountedBoss {
  boss: PgBoss;
  /** Statements sent so far through its pool. */
  statements(): number;
}

/** Starts pg-boss in `schema` (created by its own migration) with `options` besides. */
export async function startPgBoss(
  schema: string,
  options: PgBoss.ConstructorOptions = {},
): Promise<CountedBoss> {
  const boss = new PgBoss({ connectionString: POSTGRES_URL, schema, ...options });
  boss.on('error', (error) => process.stderr.write(`pg-boss error: ${error.message}\n`));
  // Every statement goes through its Db's executeSql; count them there.
  const db = boss.getDb();
  const execute = db.executeSql.bind(db);
  let statements = 0;
  db.executeSql = (text, values) => {
    statements++;
    return execute(text, values);
  };
  await boss.start();
  return { boss, statements: () => statements };
}

/** Drops a pg-boss schema and everything in it. */
export async function dropPgBossSchema(admin: DataSource, schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/**
 * A pg-boss scenario's own schema, and its clean-up (once, at the end or on Ctrl-C): the instance
 * `boss()` gives stopped, the schema dropped, `admin` closed.
 */
export function pgBossScene(
  admin: DataSource,
  boss: () => PgBoss | undefined,
): { schema: string; cleanUp: () => Promise<void> } {
  const schema = pgBossSchema();
  const cleanUp = onceCleanUp(async () => {
    await boss()
      ?.stop({ graceful: false, wait: true })
      .catch(() => {});
    await dropPgBossSchema(admin, schema);
    await admin.destroy();
  });
  return { schema, cleanUp };
}
