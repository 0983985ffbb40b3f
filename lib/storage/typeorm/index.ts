// The `./typeorm` entry point: the only part of the library that loads TypeORM.
export { TypeOrmStorage } from './typeorm.storage.js';
export type { TypeOrmStorageOptions } from './typeorm-storage-options.interface.js';
export {
  DEFAULT_JOB_TABLE_NAME,
  DEFAULT_RUN_TABLE_NAME,
  DEFAULT_LEASE_TABLE_NAME,
  type JobTableNameOptions,
  type JobTableNames,
} from './job-table-names.js';
export { TYPEORM_MAX_PAYLOAD_BYTES } from './job-row-codec.js';
export {
  createJobEntitySchema,
  type JobEntitySchemaOptions,
  type JobRow,
} from './job.entity-schema.js';
export {
  createRunEntitySchema,
  type RunEntitySchemaOptions,
  type RunRow,
} from './run.entity-schema.js';
export {
  createLeaseEntitySchema,
  type LeaseEntitySchemaOptions,
  type LeaseRow,
} from './lease.entity-schema.js';
export {
  createJobSchedulerEntitySchemas,
  type JobSchedulerEntitySchemasOptions,
} from './job-scheduler.entity-schemas.js';
export {
  addJobHistoryIndexesMigration,
  addJobRunPolicyColumnsMigration,
  createJobTablesMigration,
  JOB_HISTORY_INDEXES_MIGRATION_TIMESTAMP,
  JOB_RUN_POLICY_MIGRATION_TIMESTAMP,
  JOB_TABLES_MIGRATION_TIMESTAMP,
  type JobTablesMigrationOptions,
} from './migrations/create-job-tables.migration.js';
