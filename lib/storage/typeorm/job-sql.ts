import { JOB_COLUMNS, RUN_COLUMNS, type ColumnSpec } from './job-table-columns.js';
import { jsonRows } from './json-rows.js';
import { selectInstant } from './job-row-codec.js';
import { Params, type Statement } from './sql-params.js';
import { MAX_PARAMETERS, type SqlDialect } from './typeorm-dialect.js';

/** Whether the ordinary writes and reads of records carry a column (not `seq`, not internal). */
const isRecordColumn = (c: ColumnSpec): boolean => c.kind !== 'seq' && c.internal !== true;

/**
 * The written columns: all but the auto-increment `seq` and the internal ones (the jobs table's
 * `claimed_by`, which only the `ClusterStorage` methods write: an insert leaves it NULL, an update
 * leaves it as it is).
 */
export const JOB_WRITE_COLUMNS: readonly ColumnSpec[] = JOB_COLUMNS.filter(isRecordColumn);
export const RUN_WRITE_COLUMNS: readonly ColumnSpec[] = RUN_COLUMNS.filter(isRecordColumn);

/**
 * Text bytes one batch statement may carry (estimated as 3 bytes per UTF-16 unit), beside the
 * parameter count. MySQL refuses statements larger than `max_allowed_packet` (16 MiB by default on
 * MariaDB), and mysql2 inlines parameters: 4 MiB (SQLite too). PostgreSQL binds a batch as one
 * `jsonb` parameter (`jsonRows`), so no parameter limit applies; a `jsonb` value may reach 255 MiB,
 * and the JSON text is built in memory: 64 MiB keeps any batch of ordinary rows in one statement,
 * while a batch of huge payloads or outputs still goes in several (in one transaction).
 */
export const MAX_STATEMENT_TEXT_BYTES: Readonly<Record<SqlDialect, number>> = Object.freeze({
  postgres: 64 * 1024 * 1024,
  mysql: 4 * 1024 * 1024,
  sqlite: 4 * 1024 * 1024,
});

/** Ids bound per statement by `getJobsById` on MySQL and SQLite (PostgreSQL binds one array). */
export const MAX_IDS_PER_STATEMENT = 1_000;

/**
 * Every SQL statement `TypeOrmStorage` runs, for one dialect and one pair of tables. Values are always
 * bound parameters; only identifiers (validated table names, fixed column names) are written in.
 */
export class JobSql {
  /** Escapes an identifier. */
  readonly q: (name: string) => string;
  /** The jobs table, qualified and escaped. */
  readonly jobs: string;
  /** The run history table, qualified and escaped. */
  readonly runs: string;
  /** The select list of a job record. */
  readonly jobSelect: string;
  /** The select list of a run record. */
  readonly runSelect: string;

  constructor(
    readonly dialect: SqlDialect,
    escape: (name: string) => string,
    jobTable: string,
    runTable: string,
    schema?: string,
  ) {
    this.q = escape;
    const qualify = (table: string): string =>
      schema ? `${escape(schema)}.${escape(table)}` : escape(table);
    this.jobs = qualify(jobTable);
    this.runs = qualify(runTable);
    this.jobSelect = this.selectList(JOB_COLUMNS);
    this.runSelect = this.selectList(RUN_COLUMNS);
  }

  /**
   * Rows per chunk so that one statement stays under the dialect's parameter limit. PostgreSQL binds
   * one array per column whatever the number of rows: no limit.
   */
  maxRowsPerStatement(paramsPerRow: number): number {
    if (this.dialect === 'postgres') return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.floor(MAX_PARAMETERS[this.dialect] / paramsPerRow));
  }

  /** Splits rows into chunks bounded by parameter count and text size. */
  chunk(rows: unknown[][], paramsPerRow: number): unknown[][][] {
    const maxRows = this.maxRowsPerStatement(paramsPerRow);
    const maxBytes = MAX_STATEMENT_TEXT_BYTES[this.dialect];
    const chunks: unknown[][][] = [];
    let current: unknown[][] = [];
    let bytes = 0;
    for (const row of rows) {
      let rowBytes = 0;
      for (const value of row) if (typeof value === 'string') rowBytes += value.length * 3;
      if (current.length > 0 && (current.length >= maxRows || bytes + rowBytes > maxBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(row);
      bytes += rowBytes;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  ping(): Statement {
    return { sql: 'SELECT 1', params: [] };
  }

  insertJob(values: unknown[]): Statement {
    const p = new Params(this.dialect);
    const placeholders = values.map((value) => p.add(value));
    return {
      sql: `INSERT INTO ${this.jobs} (${this.columnList(JOB_WRITE_COLUMNS)}) VALUES (${placeholders.join(', ')})`,
      params: p.values,
    };
  }

  /**
   * `insertJob` for the app's transaction: on PostgreSQL a taken id inserts nothing (`ON CONFLICT DO
   * NOTHING`, 0 rows) instead of failing, which would abort the app's transaction. MySQL and SQLite
   * undo only the failed statement, so there a taken id fails as usual.
   */
  insertJobInTransaction(values: unknown[]): Statement {
    const insert = this.insertJob(values);
    if (this.dialect !== 'postgres') return insert;
    return { sql: `${insert.sql} ON CONFLICT (${this.q('id')}) DO NOTHING`, params: insert.params };
  }

  getJob(id: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `SELECT ${this.jobSelect} FROM ${this.jobs} WHERE ${this.q('id')} = ${p.add(id)}`,
      params: p.values,
    };
  }

  jobExists(id: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `SELECT 1 AS ${this.q('found')} FROM ${this.jobs} WHERE ${this.q('id')} = ${p.add(id)}`,
      params: p.values,
    };
  }

  runExists(id: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `SELECT 1 AS ${this.q('found')} FROM ${this.runs} WHERE ${this.q('id')} = ${p.add(id)}`,
      params: p.values,
    };
  }

  /** Replaces one job's fields (never its `seq`): affects 0 rows when there is no such job. */
  updateJob(values: unknown[], p = new Params(this.dialect)): Statement {
    const sets: string[] = [];
    let id: unknown;
    JOB_WRITE_COLUMNS.forEach((column, i) => {
      if (column.name === 'id') id = values[i];
      else sets.push(`${this.q(column.name)} = ${p.add(values[i])}`);
    });
    return {
      sql: `UPDATE ${this.jobs} SET ${sets.join(', ')} WHERE ${this.q('id')} = ${p.add(id)}`,
      params: p.values,
    };
  }

  /**
   * Updates many existing jobs in one statement and inserts none: PostgreSQL `UPDATE ... FROM
   * jsonRows(...)` (one `jsonb` parameter), SQLite `WITH v AS (VALUES ...) UPDATE ... FROM
   * v`, MySQL `UPDATE ... JOIN (SELECT ... UNION ALL ...)`. Ids must be unique within `rows`.
   */
  updateJobs(rows: unknown[][]): Statement {
    const p = new Params(this.dialect);
    const columns = JOB_WRITE_COLUMNS;
    const names = columns.map((c) => this.q(c.name));
    const updated = columns.filter((c) => c.name !== 'id');
    const id = this.q('id');
    if (this.dialect === 'mysql') {
      const selects = rows.map((row, r) =>
        r === 0
          ? `SELECT ${columns.map((c, i) => `${p.add(row[i], c)} AS ${names[i]}`).join(', ')}`
          : `SELECT ${columns.map((c, i) => p.add(row[i], c)).join(', ')}`,
      );
      const sets = updated.map((c) => `t.${this.q(c.name)} = v.${this.q(c.name)}`);
      return {
        sql: `UPDATE ${this.jobs} AS t JOIN (${selects.join(' UNION ALL ')}) AS v ON t.${id} = v.${id} SET ${sets.join(', ')}`,
        params: p.values,
      };
    }
    const sets = updated.map((c) => `${this.q(c.name)} = v.${this.q(c.name)}`);
    if (this.dialect === 'postgres') {
      return {
        sql: `UPDATE ${this.jobs} AS t SET ${sets.join(', ')} FROM ${jsonRows(p, columns, rows)} AS v (${names.join(', ')}) WHERE t.${id} = v.${id}`,
        params: p.values,
      };
    }
    const tuples = rows.map((row) => `(${columns.map((c, i) => p.add(row[i], c)).join(', ')})`);
    return {
      sql: `WITH v (${names.join(', ')}) AS (VALUES ${tuples.join(', ')}) UPDATE ${this.jobs} AS t SET ${sets.join(', ')} FROM v WHERE t.${id} = v.${id}`,
      params: p.values,
    };
  }

  deleteJob(id: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `DELETE FROM ${this.jobs} WHERE ${this.q('id')} = ${p.add(id)}`,
      params: p.values,
    };
  }

  deleteRunsOfJob(jobId: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `DELETE FROM ${this.runs} WHERE ${this.q('job_id')} = ${p.add(jobId)}`,
      params: p.values,
    };
  }

  /** Every job's `id` and `version`, nothing else (the cluster poll's first read). */
  listJobVersions(): Statement {
    return {
      sql: `SELECT ${this.q('id')}, ${this.q('version')} FROM ${this.jobs}`,
      params: [],
    };
  }

  /**
   * The jobs with these ids (distinct, at least one): PostgreSQL binds them as one array parameter;
   * MySQL and SQLite as one placeholder each (the caller keeps a list under `MAX_IDS_PER_STATEMENT`).
   */
  getJobsById(ids: readonly string[]): Statement {
    const p = new Params(this.dialect);
    const id = this.q('id');
    const where =
      this.dialect === 'postgres'
        ? `${id} = ANY(${p.add(ids)}::varchar[])`
        : `${id} IN (${ids.map((value) => p.add(value)).join(', ')})`;
    return { sql: `SELECT ${this.jobSelect} FROM ${this.jobs} WHERE ${where}`, params: p.values };
  }

  /** All jobs or those with a status, oldest first (by `created_at`, then insertion). */
  listJobs(status?: string): Statement {
    const p = new Params(this.dialect);
    const where = status === undefined ? '' : ` WHERE ${this.q('status')} = ${p.add(status)}`;
    return {
      sql: `SELECT ${this.jobSelect} FROM ${this.jobs}${where} ORDER BY ${this.q('created_at')}, ${this.q('seq')}`,
      params: p.values,
    };
  }

  /**
   * Writes runs in one statement (PostgreSQL: the rows of `jsonRows`, one `jsonb` parameter): each is
   * inserted, or updated in place (keeping its `seq`) when its id exists; a run is skipped when its
   * job does not exist, or when another run (another id) already records its fire `(job_id,
   * scheduled_at, attempt)`. New runs get `seq` in `rows` order. Ids must be unique within `rows`;
   * each row is `[ordinal, ...RUN_WRITE_COLUMNS values]`.
   */
  upsertRuns(rows: unknown[][], p = new Params(this.dialect)): Statement {
    const columns = RUN_WRITE_COLUMNS;
    const names = columns.map((c) => this.q(c.name));
    const q = this.q;
    const ord = q('ord');
    const filter =
      `WHERE EXISTS (SELECT 1 FROM ${this.jobs} AS j WHERE j.${q('id')} = v.${q('job_id')})` +
      ` AND NOT EXISTS (SELECT 1 FROM ${this.runs} AS r WHERE r.${q('job_id')} = v.${q('job_id')}` +
      ` AND r.${q('scheduled_at')} = v.${q('scheduled_at')} AND r.${q('attempt')} = v.${q('attempt')}` +
      ` AND r.${q('id')} <> v.${q('id')})`;
    const selected = names.map((name) => `v.${name}`).join(', ');
    const insert = `INSERT INTO ${this.runs} (${names.join(', ')})`;
    const updated = columns.filter((c) => c.name !== 'id');
    const ordColumn: ColumnSpec = { name: 'ord', property: 'ord', kind: 'bigint' };
    const all = [ordColumn, ...columns];

    if (this.dialect === 'mysql') {
      const selects = rows.map((row, r) =>
        r === 0
          ? `SELECT ${all.map((c, i) => `${p.add(row[i], c)} AS ${q(c.name)}`).join(', ')}`
          : `SELECT ${all.map((c, i) => p.add(row[i], c)).join(', ')}`,
      );
      // ON DUPLICATE KEY fires on any unique key: only a duplicate id may update the row.
      const target = this.runs;
      const sets = updated.map((c) => {
        const col = `${target}.${q(c.name)}`;
        return `${col} = IF(${target}.${q('id')} = VALUES(${q('id')}), VALUES(${q(c.name)}), ${col})`;
      });
      return {
        sql: `${insert} SELECT ${selected} FROM (${selects.join(' UNION ALL ')}) AS v ${filter} ORDER BY v.${ord} ON DUPLICATE KEY UPDATE ${sets.join(', ')}`,
        params: p.values,
      };
    }
    const allNames = [ord, ...names].join(', ');
    const sets = updated.map((c) => `${q(c.name)} = excluded.${q(c.name)}`).join(', ');
    const conflict = `ON CONFLICT (${q('id')}) DO UPDATE SET ${sets}`;
    if (this.dialect === 'postgres') {
      return {
        sql: `${insert} SELECT ${selected} FROM ${jsonRows(p, all, rows)} AS v (${allNames}) ${filter} ORDER BY v.${ord} ${conflict}`,
        params: p.values,
      };
    }
    const tuples = rows.map((row) => `(${all.map((c, i) => p.add(row[i], c)).join(', ')})`);
    return {
      sql: `WITH v (${allNames}) AS (VALUES ${tuples.join(', ')}) ${insert} SELECT ${selected} FROM v ${filter} ORDER BY v.${ord} ${conflict}`,
      params: p.values,
    };
  }

  /**
   * PostgreSQL: a run's end and its job in one statement, `upsertRuns` of the run as a
   * data-modifying CTE, then `updateJob` (both always run, in one snapshot; the statement's count
   * is the job's). `row` is `[ordinal, ...RUN_WRITE_COLUMNS values]`.
   */
  recordRunEnd(row: unknown[], jobValues: unknown[]): Statement {
    const p = new Params(this.dialect);
    const run = this.upsertRuns([row], p);
    const job = this.updateJob(jobValues, p);
    return {
      sql: `WITH ${this.q('ended')} AS (${run.sql} RETURNING 1) ${job.sql}`,
      params: p.values,
    };
  }

  /** Up to `limit` runs of a job, newest first (by `start_at`, then insertion); no limit when null. */
  getRuns(jobId: string, limit: number | null): Statement {
    const p = new Params(this.dialect);
    const where = `${this.q('job_id')} = ${p.add(jobId)}`;
    const order = `${this.q('start_at')} DESC, ${this.q('seq')} DESC`;
    const bound = limit === null ? '' : ` LIMIT ${p.add(limit)}`;
    return {
      sql: `SELECT ${this.runSelect} FROM ${this.runs} WHERE ${where} ORDER BY ${order}${bound}`,
      params: p.values,
    };
  }

  countRuns(jobId: string): Statement {
    const p = new Params(this.dialect);
    return {
      sql: `SELECT COUNT(*) AS ${this.q('count')} FROM ${this.runs} WHERE ${this.q('job_id')} = ${p.add(jobId)}`,
      params: p.values,
    };
  }

  /**
   * Deletes at most `limit` finished runs, oldest first, that are beyond the newest `maxRunsPerJob` of
   * their job and/or started before `olderThan` (an encoded instant): one statement, the candidates
   * chosen by a bounded subquery (MySQL: a derived table joined, as it refuses LIMIT in IN).
   */
  pruneRuns(
    maxRunsPerJob: number | undefined,
    olderThan: unknown,
    limit: number | null,
  ): Statement {
    const p = new Params(this.dialect);
    const q = this.q;
    const seq = q('seq');
    const startAt = q('start_at');
    const notRunning = `${q('status')} <> ${p.add('running')}`;
    let candidates: string;
    if (maxRunsPerJob === undefined) {
      candidates = `SELECT ${seq} FROM ${this.runs} WHERE ${notRunning} AND ${startAt} < ${p.add(olderThan)}`;
    } else {
      const ranked =
        `SELECT ${seq}, ${startAt}, ${q('status')}, ROW_NUMBER() OVER (PARTITION BY ${q('job_id')}` +
        ` ORDER BY ${startAt} DESC, ${seq} DESC) AS ${q('rn')} FROM ${this.runs}`;
      const beyond = `${q('rn')} > ${p.add(maxRunsPerJob)}`;
      const rule =
        olderThan === undefined ? beyond : `(${beyond} OR ${startAt} < ${p.add(olderThan)})`;
      candidates = `SELECT ${seq} FROM (${ranked}) AS ranked WHERE ${notRunning} AND ${rule}`;
    }
    candidates += ` ORDER BY ${startAt}, ${seq}`;
    if (limit !== null) candidates += ` LIMIT ${p.add(limit)}`;
    if (this.dialect === 'mysql') {
      return {
        sql: `DELETE r FROM ${this.runs} AS r JOIN (${candidates}) AS d ON r.${seq} = d.${seq}`,
        params: p.values,
      };
    }
    return {
      sql: `DELETE FROM ${this.runs} WHERE ${seq} IN (${candidates})`,
      params: p.values,
    };
  }

  private columnList(columns: readonly ColumnSpec[]): string {
    return columns.map((c) => this.q(c.name)).join(', ');
  }

  /**
   * Selected columns (never `seq` nor the internal ones); instants as `selectInstant` reads them
   * (epoch milliseconds on PostgreSQL, UTC text on MySQL whatever mysql2's `timezone`).
   */
  private selectList(columns: readonly ColumnSpec[]): string {
    return columns
      .filter(isRecordColumn)
      .map((c) =>
        c.kind === 'instant' ? selectInstant(this.q, c.name, this.dialect) : this.q(c.name),
      )
      .join(', ');
  }
}
