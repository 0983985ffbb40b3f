import type {
  JobWriteCondition,
  LeaseRecord,
  OrphanedJob,
} from '../../interfaces/cluster-storage.js';
import type { DbRow } from './job-row-codec.js';
import { JOB_COLUMNS, LEASE_COLUMNS, type ColumnSpec } from './job-table-columns.js';
import { JOB_WRITE_COLUMNS, RUN_WRITE_COLUMNS } from './job-sql.js';
import { Params, type Statement } from './sql-params.js';
import type { SqlDialect } from './typeorm-dialect.js';

/** Why cluster mode cannot run on SQLite (`TypeOrmStorage.clusterUnsupportedReason()`). */
export const SQLITE_CLUSTER_REASON =
  "SQLite (better-sqlite3) is one process's file: cluster mode needs PostgreSQL, MySQL or MariaDB, which several scheduler instances can share";

/** The dialects cluster mode runs on. */
export type ClusterDialect = Exclude<SqlDialect, 'sqlite'>;

/**
 * The database's clock as epoch milliseconds, one expression per dialect, whatever the session's
 * time zone. PostgreSQL: `clock_timestamp()`, the time of the evaluation (not of the transaction's
 * start). MySQL/MariaDB: `UTC_TIMESTAMP(6)`, the statement's start, counted from the epoch in UTC.
 */
export const DATABASE_NOW_MS: Readonly<Record<ClusterDialect, string>> = Object.freeze({
  postgres: 'floor(extract(epoch from clock_timestamp()) * 1000)::bigint',
  mysql: "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000",
});

/** The run columns `finishRun` writes: a run's end. */
export const RUN_END_COLUMNS: ReadonlySet<string> = new Set([
  'status',
  'end_at',
  'output',
  'error',
  'duration_ms',
  'trace_id',
]);

const column = (columns: readonly ColumnSpec[], name: string): ColumnSpec =>
  columns.find((c) => c.name === name) as ColumnSpec;

const LEASE_ID = column(LEASE_COLUMNS, 'id');
const LAST_RUN_AT = column(JOB_COLUMNS, 'last_run_at');
const LEASE_INSTANCE_ID = column(LEASE_COLUMNS, 'instance_id');
const LEASE_MS = column(LEASE_COLUMNS, 'expires_at_ms');

/**
 * The statements of `ClusterStorage` on `TypeOrmStorage` (PostgreSQL, MySQL/MariaDB): each one
 * atomic by itself, every lease instant by the database's clock. Values are always bound parameters;
 * only identifiers (validated table names, fixed column names) are written in.
 *
 * The conditional writes are read by their affected rows. On MySQL that is the rows matched with
 * mysql2's default `FOUND_ROWS` flag, the rows changed without it: the same here, as each write
 * changes the row it matches (a new job version, a later lease expiry, a run's end).
 */
export class ClusterSql {
  /** Escapes an identifier. */
  readonly q: (name: string) => string;
  /** The tables, qualified and escaped. */
  readonly jobs: string;
  readonly runs: string;
  readonly leases: string;
  /** The database's clock in epoch milliseconds, as an expression. */
  readonly now: string;

  constructor(
    readonly dialect: ClusterDialect,
    escape: (name: string) => string,
    tables: { jobTable: string; runTable: string; leaseTable: string },
    schema?: string,
  ) {
    this.q = escape;
    const qualify = (table: string): string =>
      schema ? `${escape(schema)}.${escape(table)}` : escape(table);
    this.jobs = qualify(tables.jobTable);
    this.runs = qualify(tables.runTable);
    this.leases = qualify(tables.leaseTable);
    this.now = DATABASE_NOW_MS[dialect];
  }

  /** The database's clock, as the column `now`. */
  clusterNow(): Statement {
    return { sql: `SELECT ${this.now} AS ${this.q('now')}`, params: [] };
  }

  /** A new lease, acquired now and expiring `ttlMs` later (one reading of the clock for both). */
  acquireLease(leaseId: string, instanceId: string, ttlMs: number): Statement {
    const p = new Params(this.dialect);
    const q = this.q;
    const t = q('t');
    const columns = ['id', 'instance_id', 'acquired_at_ms', 'expires_at_ms'].map(q).join(', ');
    const values = `${p.add(leaseId, LEASE_ID)}, ${p.add(instanceId, LEASE_INSTANCE_ID)}, n.${t}, n.${t} + ${p.add(ttlMs, LEASE_MS)}`;
    return {
      sql: `INSERT INTO ${this.leases} (${columns}) SELECT ${values} FROM (SELECT ${this.now} AS ${t}) AS n`,
      params: p.values,
    };
  }

  /** Moves a live lease's expiry to `ttlMs` from now: affects 0 rows when it expired or is gone. */
  renewLease(leaseId: string, ttlMs: number): Statement {
    const p = new Params(this.dialect);
    const expires = this.q('expires_at_ms');
    return {
      sql: `UPDATE ${this.leases} SET ${expires} = ${this.now} + ${p.add(ttlMs, LEASE_MS)} WHERE ${this.q('id')} = ${p.add(leaseId)} AND ${expires} > ${this.now}`,
      params: p.values,
    };
  }

  releaseLease(leaseId: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `DELETE FROM ${this.leases} WHERE ${this.q('id')} = ${p.add(leaseId)}`,
      params: p.values,
    };
  }

  /** Every lease row, oldest first (by acquisition, then insertion). */
  listLeases(): Statement {
    const q = this.q;
    const columns = ['id', 'instance_id', 'acquired_at_ms', 'expires_at_ms'].map(q).join(', ');
    return {
      sql: `SELECT ${columns} FROM ${this.leases} ORDER BY ${q('acquired_at_ms')}, ${q('seq')}`,
      params: [],
    };
  }

  /** Removes the leases expired by the database's clock. */
  deleteExpiredLeases(): Statement {
    return {
      sql: `DELETE FROM ${this.leases} WHERE ${this.q('expires_at_ms')} <= ${this.now}`,
      params: [],
    };
  }

  /**
   * The jobs claimed by no live lease (`id`, `claimed_by`), and the jobs `running` with no claim, in
   * insertion order. A lease expired but not removed yet counts as gone.
   */
  orphanedJobs(): Statement {
    const p = new Params(this.dialect);
    const q = this.q;
    const claimedBy = `j.${q('claimed_by')}`;
    const live = `SELECT 1 FROM ${this.leases} AS l WHERE l.${q('id')} = ${claimedBy} AND l.${q('expires_at_ms')} > ${this.now}`;
    return {
      sql:
        `SELECT j.${q('id')}, ${claimedBy} FROM ${this.jobs} AS j` +
        ` WHERE (${claimedBy} IS NOT NULL AND NOT EXISTS (${live}))` +
        ` OR (j.${q('status')} = ${p.add('running')} AND ${claimedBy} IS NULL)` +
        ` ORDER BY j.${q('seq')}`,
      params: p.values,
    };
  }

  /**
   * Writes every field of a job (`values`: `JOB_WRITE_COLUMNS`), and its claim when `condition.claim`
   * is given, if the stored row meets `condition`: affects 1 row when written, 0 otherwise.
   */
  writeJobIf(
    values: readonly unknown[],
    condition: JobWriteCondition,
    p = new Params(this.dialect),
    lastRunAt?: unknown,
  ): Statement {
    const q = this.q;
    const sets: string[] = [];
    let id: unknown;
    JOB_WRITE_COLUMNS.forEach((c, i) => {
      if (c.name === 'id') id = values[i];
      else sets.push(`${q(c.name)} = ${p.add(values[i])}`);
    });
    if (condition.claim !== undefined) sets.push(`${q('claimed_by')} = ${p.add(condition.claim)}`);
    const where = [`${q('id')} = ${p.add(id)}`, `${q('version')} = ${p.add(condition.version)}`];
    if (condition.claimedBy === null) where.push(`${q('claimed_by')} IS NULL`);
    else if (condition.claimedBy !== undefined) {
      where.push(`${q('claimed_by')} = ${p.add(condition.claimedBy)}`);
    }
    if (condition.lease !== undefined) where.push(this.leaseLive(p.add(condition.lease)));
    // `lastRunAt`: the condition's instant, encoded as the column is written.
    if (condition.lastRunAt === null) where.push(`${q('last_run_at')} IS NULL`);
    else if (condition.lastRunAt !== undefined) {
      where.push(`${q('last_run_at')} = ${p.add(lastRunAt, LAST_RUN_AT)}`);
    }
    return {
      sql: `UPDATE ${this.jobs} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`,
      params: p.values,
    };
  }

  /** The condition that the lease `placeholder` names exists and has not expired (database clock). */
  leaseLive(placeholder: string): string {
    const q = this.q;
    return `EXISTS (SELECT 1 FROM ${this.leases} AS l WHERE l.${q('id')} = ${placeholder} AND l.${q('expires_at_ms')} > ${this.now})`;
  }

  /**
   * Inserts a run (`values`: `RUN_WRITE_COLUMNS`) if its job is claimed by `claimedBy`: affects 1 row
   * when inserted, 0 otherwise; a recorded fire or run id fails on a unique key.
   */
  insertClaimedRun(values: readonly unknown[], jobId: string, claimedBy: string): Statement {
    const p = new Params(this.dialect);
    const q = this.q;
    const names = RUN_WRITE_COLUMNS.map((c) => q(c.name)).join(', ');
    const selected = RUN_WRITE_COLUMNS.map((c, i) => p.add(values[i], c)).join(', ');
    const claimed = `SELECT 1 FROM ${this.jobs} AS j WHERE j.${q('id')} = ${p.add(jobId)} AND j.${q('claimed_by')} = ${p.add(claimedBy)}`;
    // MySQL takes WHERE after a FROM only.
    const from = this.dialect === 'mysql' ? ' FROM DUAL' : '';
    return {
      sql: `INSERT INTO ${this.runs} (${names}) SELECT ${selected}${from} WHERE EXISTS (${claimed})`,
      params: p.values,
    };
  }

  /**
   * Writes a run's end (`values`: `RUN_WRITE_COLUMNS`) while the stored run is `running`: affects 1
   * row when written, 0 otherwise.
   */
  finishRun(values: readonly unknown[], p = new Params(this.dialect)): Statement {
    const q = this.q;
    const sets: string[] = [];
    let id: unknown;
    RUN_WRITE_COLUMNS.forEach((c, i) => {
      if (c.name === 'id') id = values[i];
      else if (RUN_END_COLUMNS.has(c.name)) sets.push(`${q(c.name)} = ${p.add(values[i])}`);
    });
    return {
      sql: `UPDATE ${this.runs} SET ${sets.join(', ')} WHERE ${q('id')} = ${p.add(id)} AND ${q('status')} = ${p.add('running')}`,
      params: p.values,
    };
  }
}

/**
 * PostgreSQL: `finishRun` and then, if it wrote, `writeJobIf`, as two data-modifying CTEs of one
 * statement; it selects how many rows each wrote (`finished`, `released`).
 */
export function finishRunAndWriteJob(
  sql: ClusterSql,
  runValues: readonly unknown[],
  jobValues: readonly unknown[],
  condition: JobWriteCondition,
  lastRunAt?: unknown,
): Statement {
  const p = new Params(sql.dialect);
  const finish = sql.finishRun(runValues, p);
  const write = sql.writeJobIf(jobValues, condition, p, lastRunAt);
  const q = sql.q;
  return {
    sql:
      `WITH ${q('fin')} AS (${finish.sql} RETURNING 1),` +
      ` ${q('rel')} AS (${write.sql} AND EXISTS (SELECT 1 FROM ${q('fin')}) RETURNING 1)` +
      ` SELECT (SELECT COUNT(*) FROM ${q('fin')}) AS ${q('finished')},` +
      ` (SELECT COUNT(*) FROM ${q('rel')}) AS ${q('released')}`,
    params: p.values,
  };
}

/** A row of `listLeases()` as a `LeaseRecord` (PostgreSQL reads `bigint` as text). */
export function toLeaseRecord(row: DbRow): LeaseRecord {
  return {
    id: String(row.id),
    instanceId: String(row.instance_id),
    acquiredAt: Number(row.acquired_at_ms),
    expiresAt: Number(row.expires_at_ms),
  };
}

/** A row of `orphanedJobs()` as an `OrphanedJob`. */
export function toOrphanedJob(row: DbRow): OrphanedJob {
  return {
    jobId: String(row.id),
    claimedBy:
      row.claimed_by === null || row.claimed_by === undefined ? null : String(row.claimed_by),
  };
}
