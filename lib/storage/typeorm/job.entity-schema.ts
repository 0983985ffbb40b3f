import type { EntitySchema } from 'typeorm';
import { buildEntitySchema, entitySchemaDialect } from './entity-schema-factory.js';
import { JOB_COLUMNS } from './job-table-columns.js';
import { jobKeyNames, DEFAULT_JOB_TABLE_NAME, validateTableName } from './job-table-names.js';
import { jobIndexes } from './job-tables.js';

/**
 * A row of the jobs table as the entity schema maps it. Instants are `Date`s on PostgreSQL and
 * MySQL/MariaDB (MySQL `datetime(3)` holds UTC: read it through a DataSource with `timezone: 'Z'`),
 * epoch milliseconds on SQLite; `payload` is JSON text. `TypeOrmStorage` itself does not go through
 * the entity: this schema is for registering the table (migrations, `migration:generate`, drift checks).
 */
export interface JobRow {
  seq: string | number;
  id: string;
  name: string;
  description: string;
  type: string;
  cron: string | null;
  interval: string | number | null;
  timezone: string | null;
  runAt: Date | number | null;
  status: string;
  handlerName: string;
  payload: string | null;
  nextRunAt: Date | number | null;
  lastRunAt: Date | number | null;
  lastResult: string;
  retryCount: number;
  maxRetry: number;
  misfirePolicy: string;
  maxMisfires: number;
  timeout: string | number | null;
  retryDelay: string | number | null;
  backoff: string | null;
  maxRetryDelay: string | number | null;
  jitter: number | null;
  version: number;
  createdAt: Date | number;
  updatedAt: Date | number;
  /** Cluster mode: the lease id of the instance running the job; `null` when unclaimed. */
  claimedBy: string | null;
}

/** What `createJobEntitySchema` takes. */
export interface JobEntitySchemaOptions {
  /** The jobs table's name, as `TypeOrmStorage` resolves it (default `jobs`). */
  tableName?: string;
  /** The `type` of the DataSource it is registered on: column types differ per database. */
  type: string;
  /** PostgreSQL schema, when the tables are not in the default one. */
  schema?: string;
}

/**
 * The entity schema of the jobs table, for apps that register it on their DataSource (`entities`):
 * then `migration:generate` and the schema builder see the table exactly as `TypeOrmStorage` and
 * `createJobTablesMigration` create it. The entity's name is `JobSchedulerJob:<table>`.
 */
export function createJobEntitySchema(options: JobEntitySchemaOptions): EntitySchema<JobRow> {
  const dialect = entitySchemaDialect(options.type);
  const jobTable = validateTableName(
    'tableName',
    options.tableName ?? DEFAULT_JOB_TABLE_NAME,
    dialect,
  );
  return buildEntitySchema<JobRow>(
    `JobSchedulerJob:${jobTable}`,
    jobTable,
    JOB_COLUMNS,
    jobIndexes(jobTable),
    jobKeyNames(jobTable).primaryKey,
    dialect,
    options.schema,
  );
}
