import type { ColumnSpec } from './job-table-columns.js';
import { postgresCast } from './job-row-codec.js';
import type { SqlDialect } from './typeorm-dialect.js';

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** Collects parameters and writes their placeholders (`$n` on PostgreSQL, `?` elsewhere). */
export class Params {
  readonly values: unknown[] = [];

  constructor(private readonly dialect: SqlDialect) {}

  /** The placeholder of a new parameter, cast to its column's type where the dialect needs it. */
  add(value: unknown, column?: ColumnSpec): string {
    this.values.push(value);
    if (this.dialect === 'postgres') {
      const cast = column ? `::${postgresCast(column.kind)}` : '';
      return `$${this.values.length}${cast}`;
    }
    if (this.dialect === 'mysql' && column) {
      // Derived tables of literals take the connection's collation; compare and store as the columns.
      if (column.kind === 'varchar' || column.kind === 'text' || column.kind === 'longText') {
        return 'CONVERT(? USING utf8mb4) COLLATE utf8mb4_bin';
      }
      if (column.kind === 'instant') return 'CAST(? AS DATETIME(3))';
    }
    return '?';
  }
}
