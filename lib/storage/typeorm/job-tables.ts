import { Table, TableIndex, type QueryRunner } from 'typeorm';
import {
  JOB_COLUMNS,
  LEASE_COLUMNS,
  RUN_COLUMNS,
  columnType,
  type ColumnSpec,
} from './job-table-columns.js';
import {
  jobKeyNames,
  leaseKeyNames,
  OBSOLETE_INDEX_SUFFIXES,
  runKeyNames,
  type JobTableNames,
} from './job-table-names.js';
import type { SqlDialect } from './typeorm-dialect.js';

/** An index of one of the tables, by database column names. */
export interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

/**
 * The indexes of the jobs table: the unique job id (the primary key is the insertion sequence), the
 * due-jobs query `WHERE status = ? ORDER BY next_run_at`, the pages of `findJobs` (`(created_at,
 * id)`), and the claimed jobs (cluster mode's search for jobs claimed by dead instances, `WHERE
 * claimed_by IS NOT NULL`).
 */
export function jobIndexes(jobTable: string): IndexSpec[] {
  const keys = jobKeyNames(jobTable);
  return [
    { name: keys.idKey, columns: ['id'], unique: true },
    { name: keys.dueIndex, columns: ['status', 'next_run_at'], unique: false },
    { name: keys.createdIndex, columns: ['created_at', 'id'], unique: false },
    { name: keys.claimIndex, columns: ['claimed_by'], unique: false },
  ];
}

/**
 * The indexes of the run history table: the unique run id; the unique fire `(job_id, scheduled_at,
 * attempt)`, so one fire is recorded once only; a job's runs newest first (`getRuns`, `findRuns` by
 * job, `runStats` of a job); and `(start_at, id)`: the pages of `findRuns` across jobs, a time range,
 * `runStats`, and retention by age.
 */
export function runIndexes(runTable: string): IndexSpec[] {
  const keys = runKeyNames(runTable);
  return [
    { name: keys.idKey, columns: ['id'], unique: true },
    { name: keys.fireKey, columns: ['job_id', 'scheduled_at', 'attempt'], unique: true },
    { name: keys.jobStartIndex, columns: ['job_id', 'start_at', 'seq'], unique: false },
    { name: keys.recentIndex, columns: ['start_at', 'id'], unique: false },
  ];
}

/** The index of the lease table (cluster mode): the unique lease id. */
export function leaseIndexes(leaseTable: string): IndexSpec[] {
  return [{ name: leaseKeyNames(leaseTable).idKey, columns: ['id'], unique: true }];
}

/** The jobs table as TypeORM's schema API describes it. */
export function buildJobTable(names: JobTableNames, dialect: SqlDialect, schema?: string): Table {
  return buildTable(
    names.jobTable,
    JOB_COLUMNS,
    jobIndexes(names.jobTable),
    jobKeyNames(names.jobTable).primaryKey,
    dialect,
    schema,
  );
}

/** The run history table as TypeORM's schema API describes it. */
export function buildRunTable(names: JobTableNames, dialect: SqlDialect, schema?: string): Table {
  return buildTable(
    names.runTable,
    RUN_COLUMNS,
    runIndexes(names.runTable),
    runKeyNames(names.runTable).primaryKey,
    dialect,
    schema,
  );
}

/** The lease table (cluster mode) as TypeORM's schema API describes it. */
export function buildLeaseTable(names: JobTableNames, dialect: SqlDialect, schema?: string): Table {
  return buildTable(
    names.leaseTable,
    LEASE_COLUMNS,
    leaseIndexes(names.leaseTable),
    leaseKeyNames(names.leaseTable).primaryKey,
    dialect,
    schema,
  );
}

function buildTable(
  name: string,
  columns: readonly ColumnSpec[],
  indexes: readonly IndexSpec[],
  primaryKeyName: string,
  dialect: SqlDialect,
  schema: string | undefined,
): Table {
  return new Table({
    name: schema ? `${schema}.${name}` : name,
    columns: columns.map((spec) => {
      const { type, length, precision, charset, collation } = columnType(spec, dialect);
      const seq = spec.kind === 'seq';
      return {
        name: spec.name,
        type,
        ...(length === undefined ? {} : { length: String(length) }),
        ...(precision === undefined ? {} : { precision }),
        ...(charset === undefined ? {} : { charset }),
        ...(collation === undefined ? {} : { collation }),
        isNullable: spec.nullable === true,
        ...(seq
          ? {
              isPrimary: true,
              isGenerated: true,
              generationStrategy: 'increment' as const,
              primaryKeyConstraintName: primaryKeyName,
            }
          : {}),
      };
    }),
    indices: indexes.map(
      (index) =>
        new TableIndex({
          name: index.name,
          columnNames: [...index.columns],
          isUnique: index.unique,
        }),
    ),
  });
}

/**
 * Creates the tables, their columns and their indexes where missing, through the QueryRunner schema
 * API (never `synchronize`). Idempotent, and safe when several processes race: a table, column or
 * index that another process created meanwhile ("already exists") is accepted. A column missing from
 * an existing table (one added by a later version, e.g. `claimed_by`) is added.
 */
export async function ensureJobTables(
  queryRunner: QueryRunner,
  names: JobTableNames,
  dialect: SqlDialect,
  schema?: string,
): Promise<void> {
  await ensureTable(queryRunner, buildJobTable(names, dialect, schema));
  await ensureTable(
    queryRunner,
    buildRunTable(names, dialect, schema),
    obsoleteRunIndexes(names.runTable),
  );
  await ensureTable(queryRunner, buildLeaseTable(names, dialect, schema));
}

/** The names of the run table's indexes that earlier versions made and this one replaced. */
export function obsoleteRunIndexes(runTable: string): string[] {
  return OBSOLETE_INDEX_SUFFIXES.runs.map((suffix) => `${runTable}${suffix}`);
}

/** Drops those of the named indexes the table has (one dropped by another process meanwhile is fine). */
export async function dropIndexes(
  queryRunner: QueryRunner,
  tableName: string,
  indexNames: readonly string[],
  loaded?: Table,
): Promise<void> {
  const table = loaded ?? (await loadTable(queryRunner, tableName));
  for (const name of indexNames) {
    if (!table?.indices.some((index) => index.name === name)) continue;
    try {
      await queryRunner.dropIndex(table, name);
    } catch (error) {
      const again = await loadTable(queryRunner, tableName);
      if (again?.indices.some((index) => index.name === name)) throw error;
    }
  }
}

/** Drops the three tables (and so their indexes) when they exist. */
export async function dropJobTables(
  queryRunner: QueryRunner,
  names: JobTableNames,
  schema?: string,
): Promise<void> {
  const qualify = (name: string): string => (schema ? `${schema}.${name}` : name);
  await queryRunner.dropTable(qualify(names.runTable), true);
  await queryRunner.dropTable(qualify(names.jobTable), true);
  await queryRunner.dropTable(qualify(names.leaseTable), true);
}

async function ensureTable(
  queryRunner: QueryRunner,
  table: Table,
  obsoleteIndexes: readonly string[] = [],
): Promise<void> {
  if (!(await queryRunner.hasTable(table))) {
    try {
      await queryRunner.createTable(table, false, false, true);
      return;
    } catch (error) {
      // Another process may have created it between the check and the CREATE: then go on.
      if (!(await queryRunner.hasTable(table))) throw error;
    }
  }
  // The table exists: add any column it lacks (a table made by an earlier version), then any index
  // it lacks (one left out by a crash, or still being created by another process).
  let existing = await loadTable(queryRunner, table.name);
  for (const column of table.columns) {
    if (!existing || existing.findColumnByName(column.name)) continue;
    try {
      await queryRunner.addColumn(existing, column.clone());
    } catch (error) {
      const again = await loadTable(queryRunner, table.name);
      if (!again?.findColumnByName(column.name)) throw error;
    }
    existing = await loadTable(queryRunner, table.name);
  }
  // A copy: `createIndex` appends the index it made to `table.indices`.
  for (const index of table.indices.slice()) {
    if (existing?.indices.some((found) => found.name === index.name)) continue;
    try {
      await queryRunner.createIndex(table, index);
    } catch (error) {
      const again = await loadTable(queryRunner, table.name);
      if (!again?.indices.some((found) => found.name === index.name)) throw error;
    }
  }
  // Then the indexes an earlier version made that a new one replaced.
  if (existing && obsoleteIndexes.length > 0) {
    await dropIndexes(queryRunner, table.name, obsoleteIndexes, existing);
  }
}

/**
 * `queryRunner.getTable`, read again when it fails: TypeORM's SQLite reader lists a table's indexes
 * in two queries, and throws (reading an index's SQL) when another storage on the connection created
 * an index between them.
 */
async function loadTable(queryRunner: QueryRunner, name: string): Promise<Table | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await queryRunner.getTable(name);
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}
