import type { ColumnSpec } from './job-table-columns.js';
import { RUN_END_COLUMNS, type ClusterSql } from './cluster-sql.js';
import { JOB_WRITE_COLUMNS, RUN_WRITE_COLUMNS } from './job-sql.js';
import { jsonRows } from './json-rows.js';
import { Params, type Statement } from './sql-params.js';

/**
 * The batched statements of cluster mode on PostgreSQL: each does the work of many single
 * conditional statements of `ClusterSql` in one, with the same condition on every row. The rows
 * come as one `jsonb` parameter (`jsonRows`), so a batch of any size binds the same parameters. The
 * claims and the runs' ends also name their rows' ids in one `= ANY(array)`, so that the planner
 * knows how many rows it reaches by the id index (without it, the runs were read by a sequential
 * scan); the jobs' releases do not (see `finishRunsAndReleaseJobs`).
 */

/** Where the id is in a row of job values and of run values. */
const JOB_ID_INDEX = JOB_WRITE_COLUMNS.findIndex((c) => c.name === 'id');
const RUN_ID_INDEX = RUN_WRITE_COLUMNS.findIndex((c) => c.name === 'id');

const int: ColumnSpec = { name: 'expected', property: 'expected', kind: 'int' };
const claimedColumn: ColumnSpec = { name: 'claimed', property: 'claimed', kind: 'varchar' };
const runIdColumn: ColumnSpec = { name: 'run_id', property: 'runId', kind: 'varchar' };

/** Assignments of every job column but `id` from the same column of `from`. */
function jobSets(sql: ClusterSql, from: string): string[] {
  return JOB_WRITE_COLUMNS.filter((c) => c.name !== 'id').map(
    (c) => `${sql.q(c.name)} = ${from}.${sql.q(c.name)}`,
  );
}

/**
 * Claims jobs: each row (`JOB_WRITE_COLUMNS` values, then the version expected) is written, claimed
 * by `lease`, if the stored job is at that version, claimed by nobody, and the lease is live. A row
 * another transaction holds locked is skipped, not waited for (`SKIP LOCKED`): two instances
 * claiming the same batch never wait on each other, and never deadlock. Selects the ids claimed.
 */
export function claimJobs(sql: ClusterSql, rows: unknown[][], lease: string): Statement {
  const p = new Params('postgres');
  const q = sql.q;
  const columns = [...JOB_WRITE_COLUMNS, int];
  const names = columns.map((c) => q(c.name)).join(', ');
  const id = q('id');
  const source = jsonRows(p, columns, rows);
  const leasePlaceholder = p.add(lease);
  const sets = [...jobSets(sql, 'v'), `${q('claimed_by')} = ${leasePlaceholder}`];
  return {
    sql:
      `WITH ${q('v')} AS (SELECT * FROM ${source} AS v (${names}))` +
      `, ${q('k')} AS (SELECT j.${id} FROM ${sql.jobs} AS j JOIN ${q('v')} AS v ON j.${id} = v.${id}` +
      ` WHERE j.${id} = ANY(${p.add(rows.map((row) => row[JOB_ID_INDEX]))}::varchar[]) AND j.${q('version')} = v.${q('expected')} AND j.${q('claimed_by')} IS NULL` +
      ` AND ${sql.leaseLive(leasePlaceholder)} ORDER BY j.${id} FOR UPDATE OF j SKIP LOCKED)` +
      ` UPDATE ${sql.jobs} AS j SET ${sets.join(', ')} FROM ${q('v')} AS v, ${q('k')} AS k` +
      ` WHERE j.${id} = k.${id} AND v.${id} = k.${id} RETURNING j.${id}`,
    params: p.values,
  };
}

/**
 * Inserts runs (`RUN_WRITE_COLUMNS` values each) whose job is claimed by `claimedBy`; a run whose
 * fire or id is recorded already is left out (`ON CONFLICT DO NOTHING`), as is a run whose job is
 * not claimed so. Selects the ids inserted.
 */
export function insertClaimedRuns(
  sql: ClusterSql,
  rows: unknown[][],
  claimedBy: string,
): Statement {
  const p = new Params('postgres');
  const q = sql.q;
  const names = RUN_WRITE_COLUMNS.map((c) => q(c.name)).join(', ');
  const selected = RUN_WRITE_COLUMNS.map((c) => `v.${q(c.name)}`).join(', ');
  const source = jsonRows(p, RUN_WRITE_COLUMNS, rows);
  // The claim as COALESCE: no index condition, so each run's job is found by its id, not by
  // reading every job of the lease (thousands, in a backlog) for each statement.
  const claimed =
    `SELECT 1 FROM ${sql.jobs} AS j WHERE j.${q('id')} = v.${q('job_id')}` +
    ` AND COALESCE(j.${q('claimed_by')}, '') = ${p.add(claimedBy)}`;
  return {
    sql:
      `INSERT INTO ${sql.runs} (${names}) SELECT ${selected} FROM ${source} AS v (${names})` +
      ` WHERE EXISTS (${claimed}) ON CONFLICT DO NOTHING RETURNING ${q('id')}`,
    params: p.values,
  };
}

/**
 * Ends runs and releases their jobs: each run's end is written while the run is `running`; then,
 * only for the runs so ended, the job (`JOB_WRITE_COLUMNS` values, the version expected, the claim
 * expected, the run id) is written unclaimed if it is at that version and so claimed. Both data-
 * modifying CTEs are one statement: a run's end and its job's release land both or neither (the
 * job may be refused alone). Selects `(kind, id)`: `'f'` and a run id per run ended, `'r'` and a
 * job id per job released.
 */
export function finishRunsAndReleaseJobs(
  sql: ClusterSql,
  runRows: unknown[][],
  jobRows: unknown[][],
): Statement {
  const runIds = runRows.map((row) => row[RUN_ID_INDEX]);
  const p = new Params('postgres');
  const q = sql.q;
  const id = q('id');
  const runNames = RUN_WRITE_COLUMNS.map((c) => q(c.name)).join(', ');
  const runSets = RUN_WRITE_COLUMNS.filter((c) => RUN_END_COLUMNS.has(c.name)).map(
    (c) => `${q(c.name)} = r.${q(c.name)}`,
  );
  const jobColumns = [...JOB_WRITE_COLUMNS, int, claimedColumn, runIdColumn];
  const jobNames = jobColumns.map((c) => q(c.name)).join(', ');
  const sets = [...jobSets(sql, 'v'), `${q('claimed_by')} = NULL`];
  const running = p.add('running');
  return {
    sql:
      // The rows are read once each (MATERIALIZED): on a nested loop (the planner's pick when the
      // run table's statistics are older than its rows), each probe would read the JSON again.
      `WITH ${q('r')} (${runNames}) AS MATERIALIZED (SELECT * FROM ${jsonRows(p, RUN_WRITE_COLUMNS, runRows)} AS r)` +
      `, ${q('v')} (${jobNames}) AS MATERIALIZED (SELECT * FROM ${jsonRows(p, jobColumns, jobRows)} AS v)` +
      `, ${q('fin')} AS (UPDATE ${sql.runs} AS t SET ${runSets.join(', ')}` +
      ` FROM ${q('r')} AS r` +
      ` WHERE t.${id} = r.${id} AND t.${id} = ANY(${p.add(runIds)}::varchar[])` +
      ` AND t.${q('status')} = ${running} RETURNING t.${id})` +
      `, ${q('rel')} AS (UPDATE ${sql.jobs} AS j SET ${sets.join(', ')}` +
      ` FROM ${q('v')} AS v` +
      // By the id index alone: the claim written as COALESCE is no index condition. With the ids
      // also as \`= ANY(array)\`, or the claim as \`claimed_by = v.claimed\`, the planner walked the
      // whole created-at index or every job of the lease once per row (81 ms for 185 ends).
      ` WHERE j.${id} = v.${id}` +
      ` AND j.${q('version')} = v.${q('expected')} AND COALESCE(j.${q('claimed_by')}, '') = v.${q('claimed')}` +
      ` AND v.${q('run_id')} IN (SELECT ${id} FROM ${q('fin')}) RETURNING j.${id})` +
      ` SELECT 'f' AS ${q('kind')}, ${id} FROM ${q('fin')}` +
      ` UNION ALL SELECT 'r' AS ${q('kind')}, ${id} FROM ${q('rel')}`,
    params: p.values,
  };
}
