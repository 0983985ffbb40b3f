import type { ColumnSpec } from './job-table-columns.js';
import { postgresCast } from './job-row-codec.js';
import type { Params } from './sql-params.js';

/**
 * PostgreSQL: the rows of a batch as a derived table, to be named with its columns (`AS v (...)`).
 * One `jsonb` parameter holds every row as an array of its values, in order, and each column is read
 * back with its own type, so a batch of any size binds one parameter. JSON text is what Node writes
 * fastest (`JSON.stringify` is native: about a sixth of the time node-postgres takes to quote one
 * array literal per column). Instants come as epoch milliseconds (`JobRowCodec`'s `asRow` values),
 * made `timestamptz` exactly by interval arithmetic (`to_timestamp` of a float can be 1 us off).
 */
export function jsonRows(
  p: Params,
  columns: readonly ColumnSpec[],
  rows: readonly unknown[][],
): string {
  const reads = columns.map((column, i) =>
    column.kind === 'instant'
      ? `(TIMESTAMPTZ 'epoch' + (e->>${i})::bigint * INTERVAL '1 millisecond')`
      : `(e->>${i})::${postgresCast(column.kind)}`,
  );
  // The planner takes a set-returning function for 100 rows: LIMIT tells it how many come (up to
  // 100), so that a single row is looked up through the indexes, as a single row should be.
  return `(SELECT ${reads.join(', ')} FROM jsonb_array_elements(${p.add(rowsJson(rows))}::jsonb) AS e LIMIT ${rows.length})`;
}

/** JSON escapes a lone UTF-16 surrogate as `\udxxx`, which PostgreSQL refuses (a false hit is only slower). */
const SURROGATE_ESCAPE = /\\ud[89a-f]/;

/**
 * The rows as JSON text. A lone surrogate in a string is written as U+FFFD, as it would be in any
 * UTF-8 text sent to the server, instead of failing the whole batch.
 */
function rowsJson(rows: readonly unknown[][]): string {
  const json = JSON.stringify(rows);
  if (!SURROGATE_ESCAPE.test(json)) return json;
  return JSON.stringify(rows, (_key, value: unknown) =>
    typeof value === 'string' ? Buffer.from(value, 'utf8').toString('utf8') : value,
  );
}
