import type { EntitySchema } from 'typeorm';
import { resolveJobTableNames, type JobTableNameOptions } from './job-table-names.js';
import { createJobEntitySchema, type JobRow } from './job.entity-schema.js';
import { createRunEntitySchema, type RunRow } from './run.entity-schema.js';
import { createLeaseEntitySchema, type LeaseRow } from './lease.entity-schema.js';
import { entitySchemaDialect } from './entity-schema-factory.js';

/** What `createJobSchedulerEntitySchemas` takes: `TypeOrmStorage`'s table options and the DataSource type. */
export interface JobSchedulerEntitySchemasOptions extends JobTableNameOptions {
  /** The `type` of the DataSource they are registered on. */
  type: string;
  /** PostgreSQL schema, when the tables are not in the default one. */
  schema?: string;
}

/**
 * The three entity schemas (jobs, runs, cluster leases), named as `TypeOrmStorage` names the tables
 * with the same options:
 * `entities: [...createJobSchedulerEntitySchemas({ type: 'postgres', tablePrefix: 'myapp_' })]`.
 */
export function createJobSchedulerEntitySchemas(
  options: JobSchedulerEntitySchemasOptions,
): [EntitySchema<JobRow>, EntitySchema<RunRow>, EntitySchema<LeaseRow>] {
  const dialect = entitySchemaDialect(options.type);
  const { jobTable, runTable, leaseTable } = resolveJobTableNames(options, dialect);
  const common = { type: options.type, ...(options.schema ? { schema: options.schema } : {}) };
  return [
    createJobEntitySchema({ ...common, tableName: jobTable }),
    createRunEntitySchema({ ...common, tableName: runTable }),
    createLeaseEntitySchema({ ...common, tableName: leaseTable }),
  ];
}
