import type {
  CheckedJobQuery,
  CheckedRunQuery,
  CheckedRunStatsQuery,
} from '../history/history-arguments.js';
import type { PageKey } from '../history/history-cursor.js';
import type { ColumnSpec } from './job-table-columns.js';
import type { JobSql } from './job-sql.js';
import { Params, type Statement } from './sql-params.js';

const INSTANT: ColumnSpec = { name: 'instant', property: 'instant', kind: 'instant' };
const ID: ColumnSpec = { name: 'id', property: 'id', kind: 'varchar' };
const BIGINT: ColumnSpec = { name: 'ms', property: 'ms', kind: 'bigint' };

/** The escape character of the `LIKE` patterns (not `\`, which MySQL string literals treat apart). */
const LIKE_ESCAPE = '!';

/**
 * The statements of the history queries (`findJobs`, `findRuns`, `getRun`, `runStats`), over the
 * tables of a `JobSql`. Pages are read by key (`(created_at, id) > cursor`, `(start_at, id) < cursor`),
 * `limit + 1` rows to know whether a next page exists; no OFFSET, no COUNT. The indexes that serve
 * them: the jobs' `(created_at, id)`, the runs' `(start_at, id)` and `(job_id, start_at, seq)`.
 */
export class HistorySql {
  constructor(
    private readonly sql: JobSql,
    /** A query parameter for an instant in epoch ms (the codec's encoding). */
    private readonly instant: (ms: number) => unknown,
  ) {}

  findJobs(query: CheckedJobQuery): Statement {
    const { q } = this.sql;
    const p = new Params(this.sql.dialect);
    const where: string[] = [];
    if (query.status !== null) where.push(`${q('status')} = ${p.add(query.status)}`);
    if (query.handlerName !== null) {
      where.push(`${q('handler_name')} = ${p.add(query.handlerName)}`);
    }
    if (query.search !== null) where.push(this.contains(p, query.search, 'id', 'name'));
    if (query.after !== null) where.push(this.keyset(p, 'created_at', '>', query.after));
    return {
      sql:
        `SELECT ${this.sql.jobSelect} FROM ${this.sql.jobs}${clause(where)}` +
        ` ORDER BY ${q('created_at')}, ${q('id')} LIMIT ${p.add(query.limit + 1)}`,
      params: p.values,
    };
  }

  findRuns(query: CheckedRunQuery): Statement {
    const { q } = this.sql;
    const p = new Params(this.sql.dialect);
    const where: string[] = [];
    if (query.jobId !== null) where.push(`${q('job_id')} = ${p.add(query.jobId)}`);
    if (query.status !== null) where.push(`${q('status')} = ${p.add(query.status)}`);
    if (query.from !== null) {
      where.push(`${q('start_at')} >= ${p.add(this.instant(query.from), INSTANT)}`);
    }
    if (query.to !== null) {
      where.push(`${q('start_at')} < ${p.add(this.instant(query.to), INSTANT)}`);
    }
    if (query.before !== null) where.push(this.keyset(p, 'start_at', '<', query.before));
    if (query.search !== null) where.push(this.contains(p, query.search, 'error', 'output'));
    return {
      sql:
        `SELECT ${this.sql.runSelect} FROM ${this.sql.runs}${clause(where)}` +
        ` ORDER BY ${q('start_at')} DESC, ${q('id')} DESC LIMIT ${p.add(query.limit + 1)}`,
      params: p.values,
    };
  }

  getRun(runId: string): Statement {
    const p = new Params(this.sql.dialect);
    return {
      sql: `SELECT ${this.sql.runSelect} FROM ${this.sql.runs} WHERE ${this.sql.q('id')} = ${p.add(runId)}`,
      params: p.values,
    };
  }

  /**
   * The finished runs in `[from, to)` grouped by bucket (its index from `from`): counts by status,
   * average and longest duration. Rows: `bucket, succeeded, failed, avg_ms, max_ms`.
   */
  runStats(query: CheckedRunStatsQuery): Statement {
    const { q, dialect } = this.sql;
    const p = new Params(dialect);
    const startAt = q('start_at');
    let bucket: string;
    if (dialect === 'postgres') {
      // date_part is double precision (EXTRACT is numeric since PostgreSQL 14: twice as slow per
      // row); the offset is rounded to whole ms before the division, so a bucket's edge stays exact.
      const from = p.add(this.instant(query.from), INSTANT);
      bucket = `FLOOR(ROUND(date_part('epoch', ${startAt} - ${from}) * 1000) / ${p.add(query.bucketMs, BIGINT)})`;
    } else if (dialect === 'mysql') {
      const from = p.add(this.instant(query.from), INSTANT);
      bucket = `FLOOR(TIMESTAMPDIFF(MICROSECOND, ${from}, ${startAt}) / ${p.add(query.bucketMs * 1000)})`;
    } else {
      bucket = `CAST((${startAt} - ${p.add(query.from)}) / ${p.add(query.bucketMs)} AS INTEGER)`;
    }
    const status = q('status');
    const duration = q('duration_ms');
    const select =
      `${bucket} AS ${q('bucket')},` +
      ` SUM(CASE WHEN ${status} = ${p.add('success')} THEN 1 ELSE 0 END) AS ${q('succeeded')},` +
      ` SUM(CASE WHEN ${status} = ${p.add('failed')} THEN 1 ELSE 0 END) AS ${q('failed')},` +
      ` AVG(${duration}) AS ${q('avg_ms')}, MAX(${duration}) AS ${q('max_ms')}`;
    const where = [
      `${startAt} >= ${p.add(this.instant(query.from), INSTANT)}`,
      `${startAt} < ${p.add(this.instant(query.to), INSTANT)}`,
      `${status} <> ${p.add('running')}`,
    ];
    if (query.jobId !== null) where.push(`${q('job_id')} = ${p.add(query.jobId)}`);
    return {
      sql: `SELECT ${select} FROM ${this.sql.runs}${clause(where)} GROUP BY 1`,
      params: p.values,
    };
  }

  /**
   * Rows after (`>`) or before (`<`) a page's last key in `(column, id)` order: a row comparison on
   * PostgreSQL (one index range), the expanded form elsewhere.
   */
  private keyset(p: Params, column: string, op: '<' | '>', key: PageKey): string {
    const { q, dialect } = this.sql;
    const at = this.instant(key.at);
    if (dialect === 'postgres') {
      return `(${q(column)}, ${q('id')}) ${op} (${p.add(at, INSTANT)}, ${p.add(key.id, ID)})`;
    }
    return (
      `(${q(column)} ${op} ${p.add(at, INSTANT)}` +
      ` OR (${q(column)} = ${p.add(at, INSTANT)} AND ${q('id')} ${op} ${p.add(key.id, ID)}))`
    );
  }

  /** A case-insensitive substring match in any of the columns (`search` is lowercased already). */
  private contains(p: Params, search: string, ...columns: string[]): string {
    const escaped = search.replace(/[!%_]/g, (c) => `${LIKE_ESCAPE}${c}`);
    const tests = columns.map(
      (column) =>
        `LOWER(${this.sql.q(column)}) LIKE ${p.add(`%${escaped}%`)} ESCAPE '${LIKE_ESCAPE}'`,
    );
    return `(${tests.join(' OR ')})`;
  }
}

function clause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
}
