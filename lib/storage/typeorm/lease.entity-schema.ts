import type { EntitySchema } from 'typeorm';
import { buildEntitySchema, entitySchemaDialect } from './entity-schema-factory.js';
import { LEASE_COLUMNS } from './job-table-columns.js';
import { DEFAULT_LEASE_TABLE_NAME, leaseKeyNames, validateTableName } from './job-table-names.js';
import { leaseIndexes } from './job-tables.js';

/**
 * A row of the lease table (cluster mode: one per running instance) as the entity schema maps it.
 * `acquiredAt` / `expiresAt` are epoch milliseconds by the database's clock (`bigint`: strings on
 * PostgreSQL).
 */
export interface LeaseRow {
  seq: string | number;
  id: string;
  instanceId: string;
  acquiredAt: string | number;
  expiresAt: string | number;
}

/** What `createLeaseEntitySchema` takes. */
export interface LeaseEntitySchemaOptions {
  /** The lease table's name, as `TypeOrmStorage` resolves it (default `job_leases`). */
  tableName?: string;
  /** The `type` of the DataSource it is registered on: column types differ per database. */
  type: string;
  /** PostgreSQL schema, when the tables are not in the default one. */
  schema?: string;
}

/**
 * The entity schema of the lease table of cluster mode (see `createJobEntitySchema`). The entity's
 * name is `JobSchedulerLease:<table>`.
 */
export function createLeaseEntitySchema(options: LeaseEntitySchemaOptions): EntitySchema<LeaseRow> {
  const dialect = entitySchemaDialect(options.type);
  const leaseTable = validateTableName(
    'tableName',
    options.tableName ?? DEFAULT_LEASE_TABLE_NAME,
    dialect,
  );
  return buildEntitySchema<LeaseRow>(
    `JobSchedulerLease:${leaseTable}`,
    leaseTable,
    LEASE_COLUMNS,
    leaseIndexes(leaseTable),
    leaseKeyNames(leaseTable).primaryKey,
    dialect,
    options.schema,
  );
}
