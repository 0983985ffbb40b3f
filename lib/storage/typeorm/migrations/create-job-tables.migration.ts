import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { InvalidOptionsError } from '../../../errors/invalid-options.error.js';
import {
  DEFAULT_JOB_TABLE_NAME,
  DEFAULT_RUN_TABLE_NAME,
  jobKeyNames,
  resolveJobTableNames,
  runKeyNames,
  type JobTableNameOptions,
} from '../job-table-names.js';
import { dropIndexes, dropJobTables, ensureJobTables, obsoleteRunIndexes } from '../job-tables.js';
import { dialectOf, SUPPORTED_DATA_SOURCE_TYPES_TEXT } from '../typeorm-dialect.js';

/**
 * The timestamp TypeORM orders this migration by (it reads the last 13 digits of the name):
 * 2026-01-01T00:00:00.000Z. Fixed forever: the name is how TypeORM knows the migration ran.
 */
export const JOB_TABLES_MIGRATION_TIMESTAMP = 1767225600000;

/** The timestamp of `addJobRunPolicyColumnsMigration`: 2026-12-06T00:00:00.000Z. Fixed forever. */
export const JOB_RUN_POLICY_MIGRATION_TIMESTAMP = 1796515200000;

/** What `createJobTablesMigration` takes: the same table options as `TypeOrmStorage`. */
export interface JobTablesMigrationOptions extends JobTableNameOptions {
  /** PostgreSQL schema to create the tables in (default: the DataSource's `schema`, else `public`). */
  schema?: string;
}

/**
 * A migration class creating the job scheduler's tables (jobs, runs, and the lease table of cluster
 * mode) and their indexes, for apps that run their own migrations (then give `TypeOrmStorage`
 * `createTables: false`):
 *
 * ```ts
 * new DataSource({ ..., migrations: [createJobTablesMigration({ tablePrefix: 'myapp_' })] })
 * ```
 *
 * Its name is `CreateJobSchedulerTables1767225600000` for the default tables, and
 * `CreateJobSchedulerTables_<jobTable>_<runTable>_1767225600000` otherwise, so that storages with
 * different tables on one database get one migration each (the lease table goes with its jobs table:
 * it is not in the name). `up` creates what is missing (tables made earlier by `TypeOrmStorage` are
 * kept, a column they lack is added); `down` drops the three tables.
 */
export function createJobTablesMigration(
  options: JobTablesMigrationOptions = {},
): new () => MigrationInterface {
  const { names, schema, nameFor, dialectFor } = prepare(options);
  const name = nameFor('CreateJobSchedulerTables', JOB_TABLES_MIGRATION_TIMESTAMP);
  return migrationClass(name, {
    up: async (queryRunner) =>
      ensureJobTables(queryRunner, names, dialectFor(queryRunner, name), schema),
    down: async (queryRunner) => {
      dialectFor(queryRunner, name);
      await dropJobTables(queryRunner, names, schema);
    },
  });
}

/**
 * A migration adding the columns of each job's run policy (`timeout_ms`, `retry_delay_ms`,
 * `backoff`, `max_retry_delay_ms`, `jitter`, all nullable) to a jobs table made by an earlier
 * version, for apps that ran `createJobTablesMigration` before those columns existed. List it after
 * that one (it is ordered after it); on tables that have the columns it does nothing. `down` drops
 * them. Its name is `AddJobSchedulerRunPolicy1796515200000` (with the table names, as above).
 */
export function addJobRunPolicyColumnsMigration(
  options: JobTablesMigrationOptions = {},
): new () => MigrationInterface {
  const { names, schema, nameFor, dialectFor } = prepare(options);
  const name = nameFor('AddJobSchedulerRunPolicy', JOB_RUN_POLICY_MIGRATION_TIMESTAMP);
  return migrationClass(name, {
    up: async (queryRunner) =>
      ensureJobTables(queryRunner, names, dialectFor(queryRunner, name), schema),
    down: async (queryRunner) => {
      dialectFor(queryRunner, name);
      const table = schema ? `${schema}.${names.jobTable}` : names.jobTable;
      for (const column of RUN_POLICY_COLUMNS) {
        if (await queryRunner.hasColumn(table, column)) await queryRunner.dropColumn(table, column);
      }
    },
  });
}

/** The timestamp of `addJobHistoryIndexesMigration`: 2026-12-07T00:00:00.000Z. Fixed forever. */
export const JOB_HISTORY_INDEXES_MIGRATION_TIMESTAMP = 1796601600000;

/**
 * The indexes of the history queries (`findJobs`, `findRuns`, `runStats`) on tables made by an
 * earlier version: the jobs' `(created_at, id)` and the runs' `(start_at, id)`, which replaces the
 * runs' `(start_at)` index (dropped). List it after the others; on tables that have them it does
 * nothing. `down` puts the `(start_at)` index back and drops the two. Its name is
 * `AddJobSchedulerHistoryIndexes1796601600000` (with the table names, as above).
 */
export function addJobHistoryIndexesMigration(
  options: JobTablesMigrationOptions = {},
): new () => MigrationInterface {
  const { names, schema, nameFor, dialectFor } = prepare(options);
  const name = nameFor('AddJobSchedulerHistoryIndexes', JOB_HISTORY_INDEXES_MIGRATION_TIMESTAMP);
  const qualify = (table: string): string => (schema ? `${schema}.${table}` : table);
  return migrationClass(name, {
    up: async (queryRunner) =>
      ensureJobTables(queryRunner, names, dialectFor(queryRunner, name), schema),
    down: async (queryRunner) => {
      dialectFor(queryRunner, name);
      const runTable = qualify(names.runTable);
      const [startIndex] = obsoleteRunIndexes(names.runTable);
      const runs = await queryRunner.getTable(runTable);
      if (runs && startIndex && !runs.indices.some((index) => index.name === startIndex)) {
        await queryRunner.createIndex(
          runTable,
          new TableIndex({ name: startIndex, columnNames: ['start_at'] }),
        );
      }
      await dropIndexes(queryRunner, runTable, [runKeyNames(names.runTable).recentIndex]);
      await dropIndexes(queryRunner, qualify(names.jobTable), [
        jobKeyNames(names.jobTable).createdIndex,
      ]);
    },
  });
}

/** The jobs table's columns of the run policy, added by `addJobRunPolicyColumnsMigration`. */
const RUN_POLICY_COLUMNS = [
  'timeout_ms',
  'retry_delay_ms',
  'backoff',
  'max_retry_delay_ms',
  'jitter',
];

/** What both migrations derive from their options: the tables, their name, the dialect check. */
function prepare(options: JobTablesMigrationOptions) {
  const { schema, ...tableOptions } = options;
  // Checked here against the loosest length bound, and again for the actual database when it runs.
  const names = resolveJobTableNames(tableOptions, 'mysql');
  if (schema !== undefined && (typeof schema !== 'string' || !/^[A-Za-z0-9_]+$/.test(schema))) {
    throw new InvalidOptionsError('schema', schema, 'a schema name of letters, digits and "_"');
  }
  const defaults =
    names.jobTable === DEFAULT_JOB_TABLE_NAME && names.runTable === DEFAULT_RUN_TABLE_NAME;
  const nameFor = (prefix: string, timestamp: number): string =>
    defaults
      ? `${prefix}${timestamp}`
      : `${prefix}_${names.jobTable}_${names.runTable}_${timestamp}`;
  const dialectFor = (queryRunner: QueryRunner, name: string) => {
    const type = queryRunner.dataSource.options.type;
    const dialect = dialectOf(type);
    if (!dialect) {
      throw new InvalidOptionsError(
        'dataSource',
        type,
        `${SUPPORTED_DATA_SOURCE_TYPES_TEXT} to run migration ${name}`,
      );
    }
    // Names valid for one dialect may be too long for another: check them for this one.
    resolveJobTableNames(tableOptions, dialect);
    return dialect;
  };
  return { names, schema, nameFor, dialectFor };
}

/** A migration class named `name` (TypeORM reads the class's name and its `name`). */
function migrationClass(
  name: string,
  steps: {
    up(queryRunner: QueryRunner): Promise<void>;
    down(queryRunner: QueryRunner): Promise<void>;
  },
): new () => MigrationInterface {
  const migration = class implements MigrationInterface {
    readonly name = name;
    up(queryRunner: QueryRunner): Promise<void> {
      return steps.up(queryRunner);
    }
    down(queryRunner: QueryRunner): Promise<void> {
      return steps.down(queryRunner);
    }
  };
  Object.defineProperty(migration, 'name', { value: name });
  return migration;
}
