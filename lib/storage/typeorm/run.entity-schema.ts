import type { EntitySchema } from 'typeorm';
import { buildEntitySchema, entitySchemaDialect } from './entity-schema-factory.js';
import { RUN_COLUMNS } from './job-table-columns.js';
import { DEFAULT_RUN_TABLE_NAME, validateTableName, runKeyNames } from './job-table-names.js';
import { runIndexes } from './job-tables.js';

/** A row of the run history table as the entity schema maps it (see `JobRow` for instants). */
export interface RunRow {
  seq: string | number;
  id: string;
  jobId: string;
  status: string;
  startAt: Date | number;
  endAt: Date | number | null;
  output: string;
  error: string;
  duration: string | number;
  traceId: string;
  attempt: number;
  scheduledAt: Date | number;
  createdAt: Date | number;
}

/** What `createRunEntitySchema` takes. */
export interface RunEntitySchemaOptions {
  /** The run table's name, as `TypeOrmStorage` resolves it (default `job_runs`). */
  tableName?: string;
  /** The `type` of the DataSource it is registered on: column types differ per database. */
  type: string;
  /** PostgreSQL schema, when the tables are not in the default one. */
  schema?: string;
}

/**
 * The entity schema of the run history table (see `createJobEntitySchema`). The entity's name is
 * `JobSchedulerRun:<table>`.
 */
export function createRunEntitySchema(options: RunEntitySchemaOptions): EntitySchema<RunRow> {
  const dialect = entitySchemaDialect(options.type);
  const runTable = validateTableName(
    'tableName',
    options.tableName ?? DEFAULT_RUN_TABLE_NAME,
    dialect,
  );
  return buildEntitySchema<RunRow>(
    `JobSchedulerRun:${runTable}`,
    runTable,
    RUN_COLUMNS,
    runIndexes(runTable),
    runKeyNames(runTable).primaryKey,
    dialect,
    options.schema,
  );
}
