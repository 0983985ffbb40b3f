import type { SqlDialect } from './typeorm-dialect.js';

/**
 * What a column holds; each dialect maps it to a type (see `columnType`). One list of columns feeds the
 * entity schemas, the tables `TypeOrmStorage` creates, the migration and the SQL, so they cannot drift.
 */
export type ColumnKind =
  /** The auto-increment primary key: insertion order, the tie-break of equal instants. */
  | 'seq'
  /** A short string with a length limit (`length`). */
  | 'varchar'
  /** Text up to 64 KiB. */
  | 'text'
  /** Text up to 16 MiB (payloads, run output and errors). */
  | 'longText'
  /** A UTC instant with millisecond precision. */
  | 'instant'
  /** A 32-bit integer. */
  | 'int'
  /** A 64-bit integer (milliseconds). */
  | 'bigint'
  /** A double-precision float. */
  | 'double';

/** One column: its database name, its property in the entity schema, and what it holds. */
export interface ColumnSpec {
  readonly name: string;
  readonly property: string;
  readonly kind: ColumnKind;
  readonly length?: number;
  readonly nullable?: boolean;
  /**
   * Kept by the storage itself, outside the `Job` / `Run` records: in the tables (entity schemas,
   * table creation, the migration) but never written by the ordinary writes nor selected into a
   * record (e.g. the jobs table's `claimed_by`, written only by `ClusterStorage` methods).
   */
  readonly internal?: boolean;
}

/** The longest job id, run id and trace id (the `Job.id` contract: at most 64 characters). */
export const ID_LENGTH = 64;

/** The longest lease id and instance id (`ClusterStorage`: `<instanceId>#<random>`). */
export const LEASE_ID_LENGTH = 128;

/** The columns of the jobs table, in table order. */
export const JOB_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'seq', property: 'seq', kind: 'seq' },
  { name: 'id', property: 'id', kind: 'varchar', length: ID_LENGTH },
  { name: 'name', property: 'name', kind: 'text' },
  { name: 'description', property: 'description', kind: 'longText' },
  { name: 'type', property: 'type', kind: 'varchar', length: 16 },
  { name: 'cron', property: 'cron', kind: 'varchar', length: 255, nullable: true },
  { name: 'interval_ms', property: 'interval', kind: 'bigint', nullable: true },
  { name: 'timezone', property: 'timezone', kind: 'varchar', length: 64, nullable: true },
  { name: 'run_at', property: 'runAt', kind: 'instant', nullable: true },
  { name: 'status', property: 'status', kind: 'varchar', length: 16 },
  { name: 'handler_name', property: 'handlerName', kind: 'varchar', length: 255 },
  { name: 'payload', property: 'payload', kind: 'longText', nullable: true },
  { name: 'next_run_at', property: 'nextRunAt', kind: 'instant', nullable: true },
  { name: 'last_run_at', property: 'lastRunAt', kind: 'instant', nullable: true },
  { name: 'last_result', property: 'lastResult', kind: 'longText' },
  { name: 'retry_count', property: 'retryCount', kind: 'int' },
  { name: 'max_retry', property: 'maxRetry', kind: 'int' },
  { name: 'misfire_policy', property: 'misfirePolicy', kind: 'varchar', length: 16 },
  { name: 'max_misfires', property: 'maxMisfires', kind: 'int' },
  // The job's run policy. Nullable, so that a table made by an earlier version takes them as added
  // columns: NULL is the default (the scheduler's time-out and retry delay, 'fixed', no jitter).
  { name: 'timeout_ms', property: 'timeout', kind: 'bigint', nullable: true },
  { name: 'retry_delay_ms', property: 'retryDelay', kind: 'bigint', nullable: true },
  { name: 'backoff', property: 'backoff', kind: 'varchar', length: 16, nullable: true },
  { name: 'max_retry_delay_ms', property: 'maxRetryDelay', kind: 'bigint', nullable: true },
  { name: 'jitter', property: 'jitter', kind: 'double', nullable: true },
  { name: 'version', property: 'version', kind: 'int' },
  { name: 'created_at', property: 'createdAt', kind: 'instant' },
  { name: 'updated_at', property: 'updatedAt', kind: 'instant' },
  // Cluster mode: the lease id of the instance running the job (NULL: unclaimed). Not a Job field.
  {
    name: 'claimed_by',
    property: 'claimedBy',
    kind: 'varchar',
    length: LEASE_ID_LENGTH,
    nullable: true,
    internal: true,
  },
] satisfies ColumnSpec[]);

/** The columns of the run history table, in table order. */
export const RUN_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'seq', property: 'seq', kind: 'seq' },
  { name: 'id', property: 'id', kind: 'varchar', length: ID_LENGTH },
  { name: 'job_id', property: 'jobId', kind: 'varchar', length: ID_LENGTH },
  { name: 'status', property: 'status', kind: 'varchar', length: 16 },
  { name: 'start_at', property: 'startAt', kind: 'instant' },
  { name: 'end_at', property: 'endAt', kind: 'instant', nullable: true },
  { name: 'output', property: 'output', kind: 'longText' },
  { name: 'error', property: 'error', kind: 'longText' },
  { name: 'duration_ms', property: 'duration', kind: 'bigint' },
  { name: 'trace_id', property: 'traceId', kind: 'varchar', length: ID_LENGTH },
  { name: 'attempt', property: 'attempt', kind: 'int' },
  { name: 'scheduled_at', property: 'scheduledAt', kind: 'instant' },
  { name: 'created_at', property: 'createdAt', kind: 'instant' },
] satisfies ColumnSpec[]);

/**
 * The columns of the lease table (cluster mode: one row per running instance). Instants are epoch
 * milliseconds by the database's clock, compared only with that clock.
 */
export const LEASE_COLUMNS: readonly ColumnSpec[] = Object.freeze([
  { name: 'seq', property: 'seq', kind: 'seq' },
  { name: 'id', property: 'id', kind: 'varchar', length: LEASE_ID_LENGTH },
  { name: 'instance_id', property: 'instanceId', kind: 'varchar', length: LEASE_ID_LENGTH },
  { name: 'acquired_at_ms', property: 'acquiredAt', kind: 'bigint' },
  { name: 'expires_at_ms', property: 'expiresAt', kind: 'bigint' },
] satisfies ColumnSpec[]);

/** A column's type in one dialect, in TypeORM's terms. */
export interface DialectColumnType {
  type: string;
  length?: number;
  precision?: number;
  charset?: string;
  collation?: string;
}

/**
 * MySQL/MariaDB strings: 4-byte UTF-8 (emoji), compared byte for byte, so that ids differing in case
 * are different ids, as everywhere else.
 */
const MYSQL_STRING = { charset: 'utf8mb4', collation: 'utf8mb4_bin' } as const;

/**
 * The column type of a kind in a dialect:
 *
 * | kind       | postgres          | mysql / mariadb       | better-sqlite3      |
 * |------------|-------------------|-----------------------|---------------------|
 * | `seq`      | `bigserial`       | `bigint` auto-incr.   | `integer` autoincr. |
 * | `varchar`  | `varchar(n)`      | `varchar(n)` utf8mb4  | `varchar(n)`        |
 * | `text`     | `text`            | `text` utf8mb4        | `text`              |
 * | `longText` | `text`            | `mediumtext` utf8mb4  | `text`              |
 * | `instant`  | `timestamptz(3)`  | `datetime(3)` as UTC  | `bigint` epoch ms   |
 * | `int`      | `integer`         | `int`                 | `integer`           |
 * | `bigint`   | `bigint`          | `bigint`              | `bigint`            |
 * | `double`   | `double precision`| `double`              | `real`              |
 */
export function columnType(spec: ColumnSpec, dialect: SqlDialect): DialectColumnType {
  switch (spec.kind) {
    case 'seq':
      return { type: dialect === 'sqlite' ? 'integer' : 'bigint' };
    case 'varchar':
      return {
        type: 'varchar',
        length: spec.length,
        ...(dialect === 'mysql' ? MYSQL_STRING : {}),
      };
    case 'text':
      return { type: 'text', ...(dialect === 'mysql' ? MYSQL_STRING : {}) };
    case 'longText':
      return dialect === 'mysql' ? { type: 'mediumtext', ...MYSQL_STRING } : { type: 'text' };
    case 'instant':
      if (dialect === 'postgres') return { type: 'timestamptz', precision: 3 };
      if (dialect === 'mysql') return { type: 'datetime', precision: 3 };
      return { type: 'bigint' };
    case 'int':
      return { type: dialect === 'mysql' ? 'int' : 'integer' };
    case 'bigint':
      return { type: 'bigint' };
    case 'double':
      if (dialect === 'postgres') return { type: 'double precision' };
      return { type: dialect === 'mysql' ? 'double' : 'real' };
  }
}
