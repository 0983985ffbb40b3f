import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import { MAX_IDENTIFIER_LENGTH, type SqlDialect } from './typeorm-dialect.js';

/** The default name of the jobs table (before `tablePrefix`). */
export const DEFAULT_JOB_TABLE_NAME = 'jobs';
/** The default name of the run history table (before `tablePrefix`). */
export const DEFAULT_RUN_TABLE_NAME = 'job_runs';
/** The default name of the lease table of cluster mode (before `tablePrefix`). */
export const DEFAULT_LEASE_TABLE_NAME = 'job_leases';

/** The names of the three tables, and of the keys and indexes derived from them. */
export interface JobTableNames {
  jobTable: string;
  runTable: string;
  leaseTable: string;
}

/** Which tables to use: the options that name them. */
export interface JobTableNameOptions {
  tablePrefix?: string;
  jobTableName?: string;
  runTableName?: string;
  leaseTableName?: string;
}

/**
 * Suffixes of the key and index names derived from a table name (PostgreSQL keeps index names in one
 * namespace per schema, so they carry the table's name). The longest one bounds the table name.
 */
export const KEY_SUFFIXES = Object.freeze({
  primaryKey: '_pkey',
  idKey: '_id_key',
  dueIndex: '_due_idx',
  fireKey: '_fire_key',
  jobStartIndex: '_job_start_idx',
  recentIndex: '_recent_idx',
  createdIndex: '_created_idx',
  claimIndex: '_claim_idx',
});

/**
 * Index suffixes of earlier versions, dropped where found: the runs' `(start_at)` index, which
 * `(start_at, id)` (`recentIndex`) replaced.
 */
export const OBSOLETE_INDEX_SUFFIXES = Object.freeze({ runs: ['_start_idx'] as const });

const LONGEST_SUFFIX = Math.max(...Object.values(KEY_SUFFIXES).map((suffix) => suffix.length));

const NAME_PATTERN = /^[A-Za-z0-9_]+$/;

/** The longest table name a dialect takes, leaving room for the derived index names. */
export function maxTableNameLength(dialect: SqlDialect): number {
  return MAX_IDENTIFIER_LENGTH[dialect] - LONGEST_SUFFIX;
}

/**
 * Resolves and validates the table names: the prefix goes before the defaults only; a name given
 * explicitly is used as is. Throws `InvalidOptionsError` naming the option for a name that is empty,
 * not made of `[A-Za-z0-9_]`, or too long for `dialect` (or, without one, for every dialect).
 */
export function resolveJobTableNames(
  options: JobTableNameOptions = {},
  dialect?: SqlDialect,
): JobTableNames {
  const [max, where] = lengthBound(dialect);
  const prefix = options.tablePrefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && !NAME_PATTERN.test(prefix))) {
    throw new InvalidOptionsError(
      'tablePrefix',
      prefix,
      'a string of letters, digits and "_" (or "" for none), e.g. "myapp_"',
    );
  }
  const name = (option: keyof JobTableNameOptions, fallback: string): string => {
    const given = options[option];
    return given === undefined
      ? checkName('tablePrefix', `${prefix}${fallback}`, prefix, max, where)
      : checkName(option, given, undefined, max, where);
  };
  const jobTable = name('jobTableName', DEFAULT_JOB_TABLE_NAME);
  const runTable = name('runTableName', DEFAULT_RUN_TABLE_NAME);
  const leaseTable = name('leaseTableName', DEFAULT_LEASE_TABLE_NAME);
  if (jobTable.toLowerCase() === runTable.toLowerCase()) {
    throw new InvalidOptionsError(
      options.runTableName === undefined ? 'jobTableName' : 'runTableName',
      runTable,
      `a run table name other than the job table name ("${jobTable}"), ignoring case`,
    );
  }
  for (const [other, otherName, otherOption] of [
    ['job', jobTable, 'jobTableName'],
    ['run', runTable, 'runTableName'],
  ] as const) {
    if (leaseTable.toLowerCase() === otherName.toLowerCase()) {
      // A default lease name can only clash with a name given explicitly: report that one.
      throw new InvalidOptionsError(
        options.leaseTableName === undefined ? otherOption : 'leaseTableName',
        leaseTable,
        `a lease table name other than the ${other} table name ("${otherName}"), ignoring case`,
      );
    }
  }
  return { jobTable, runTable, leaseTable };
}

/**
 * Validates one table name given as is (e.g. to an entity schema factory): `InvalidOptionsError` naming
 * `option` when it is empty, not made of `[A-Za-z0-9_]`, or too long for `dialect` (or for any).
 */
export function validateTableName(option: string, name: unknown, dialect?: SqlDialect): string {
  const [max, where] = lengthBound(dialect);
  return checkName(option, name, undefined, max, where);
}

function lengthBound(dialect: SqlDialect | undefined): [number, string] {
  return dialect
    ? [maxTableNameLength(dialect), `on ${dialect}`]
    : [
        Math.min(maxTableNameLength('postgres'), maxTableNameLength('mysql')),
        'on every supported database',
      ];
}

/** Checks one table name; `prefix` is what to report when the name came from the prefix. */
function checkName(
  option: string,
  name: unknown,
  prefix: string | undefined,
  max: number,
  where: string,
): string {
  const reported = prefix ?? name;
  if (typeof name !== 'string' || name === '' || !NAME_PATTERN.test(name)) {
    throw new InvalidOptionsError(
      option,
      reported,
      'a non-empty table name of letters, digits and "_" only',
    );
  }
  if (name.length > max) {
    throw new InvalidOptionsError(
      option,
      reported,
      `a table name of at most ${max} characters ${where} (got "${name}", ${name.length} characters; index names add up to ${LONGEST_SUFFIX} more)`,
    );
  }
  return name;
}

/** The key and index names of the jobs table. */
export function jobKeyNames(jobTable: string) {
  return {
    primaryKey: `${jobTable}${KEY_SUFFIXES.primaryKey}`,
    idKey: `${jobTable}${KEY_SUFFIXES.idKey}`,
    dueIndex: `${jobTable}${KEY_SUFFIXES.dueIndex}`,
    createdIndex: `${jobTable}${KEY_SUFFIXES.createdIndex}`,
    claimIndex: `${jobTable}${KEY_SUFFIXES.claimIndex}`,
  };
}

/** The key and index names of the run history table. */
export function runKeyNames(runTable: string) {
  return {
    primaryKey: `${runTable}${KEY_SUFFIXES.primaryKey}`,
    idKey: `${runTable}${KEY_SUFFIXES.idKey}`,
    fireKey: `${runTable}${KEY_SUFFIXES.fireKey}`,
    jobStartIndex: `${runTable}${KEY_SUFFIXES.jobStartIndex}`,
    recentIndex: `${runTable}${KEY_SUFFIXES.recentIndex}`,
  };
}

/** The key names of the lease table. */
export function leaseKeyNames(leaseTable: string) {
  return {
    primaryKey: `${leaseTable}${KEY_SUFFIXES.primaryKey}`,
    idKey: `${leaseTable}${KEY_SUFFIXES.idKey}`,
  };
}
