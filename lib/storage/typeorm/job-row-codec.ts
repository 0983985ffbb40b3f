import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';
import { InvalidJobError } from '../../errors/invalid-job.error.js';
import type {
  Job,
  JobBackoff,
  JobStatus,
  JobType,
  MisfirePolicy,
} from '../../interfaces/job.interface.js';
import type { Run, RunStatus } from '../../interfaces/run.interface.js';
import { ID_LENGTH, type ColumnKind, type ColumnSpec } from './job-table-columns.js';
import type { SqlDialect } from './typeorm-dialect.js';

/** The largest job payload `TypeOrmStorage` stores: 1 MiB of UTF-8 JSON text. */
export const TYPEORM_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** What replaces a NUL character in run output, run error and `lastResult` (PostgreSQL text has no NUL). */
export const NUL_REPLACEMENT = '\uFFFD';

/** A row as the database returns it, by column name. */
export type DbRow = Record<string, unknown>;

/**
 * Converts jobs and runs to query parameters and rows back to jobs and runs, for one dialect.
 *
 * Instants are written as UTC whatever the connection's time zone: ISO-8601 text cast to
 * `timestamptz` on PostgreSQL, `'YYYY-MM-DD HH:MM:SS.mmm'` UTC text on MySQL (read back with
 * `CAST(... AS CHAR)`, so mysql2's `timezone` option never applies), epoch milliseconds on SQLite.
 */
export class JobRowCodec {
  constructor(readonly dialect: SqlDialect) {}

  /**
   * A job as the values of `columns` (the jobs table's, without `seq`), checked first. `asRow`: as a
   * row of a batch statement (`jsonRows`), where PostgreSQL takes instants as epoch milliseconds.
   */
  jobValues(job: Job, columns: readonly ColumnSpec[], asRow = false): unknown[] {
    if (typeof job !== 'object' || job === null) {
      throw new InvalidJobError('job', job, 'must be a Job object');
    }
    const epoch = asRow && this.dialect === 'postgres';
    const fields: Record<string, unknown> = {
      id: this.key(job.id, 'id', job),
      name: this.userText(job.name, 'name', job),
      description: this.userText(job.description, 'description', job),
      type: this.userText(job.type, 'type', job),
      cron: job.cron === null ? null : this.userText(job.cron, 'cron', job),
      interval_ms: this.number(job.interval, 'interval', job, true),
      timezone: job.timezone === null ? null : this.userText(job.timezone, 'timezone', job),
      run_at: this.instant(job.runAt, 'runAt', job, epoch, true),
      status: this.userText(job.status, 'status', job),
      handler_name: this.userText(job.handlerName, 'handlerName', job),
      payload: this.payload(job.payload, job),
      next_run_at: this.instant(job.nextRunAt, 'nextRunAt', job, epoch, true),
      last_run_at: this.instant(job.lastRunAt, 'lastRunAt', job, epoch, true),
      last_result: this.machineText(job.lastResult, 'lastResult', job),
      retry_count: this.number(job.retryCount, 'retryCount', job),
      max_retry: this.number(job.maxRetry, 'maxRetry', job),
      misfire_policy: this.userText(job.misfirePolicy, 'misfirePolicy', job),
      max_misfires: this.number(job.maxMisfires, 'maxMisfires', job),
      timeout_ms: this.number(job.timeout, 'timeout', job, true),
      retry_delay_ms: this.number(job.retryDelay, 'retryDelay', job, true),
      backoff: this.userText(job.backoff, 'backoff', job),
      max_retry_delay_ms: this.number(job.maxRetryDelay, 'maxRetryDelay', job, true),
      jitter: this.fraction(job.jitter, 'jitter', job),
      version: this.number(job.version, 'version', job),
      created_at: this.instant(job.createdAt, 'createdAt', job, epoch),
      updated_at: this.instant(job.updatedAt, 'updatedAt', job, epoch),
    };
    return columns.map((column) => fields[column.name]);
  }

  /**
   * A run as the values of `columns` (the run table's, without `seq`), checked first. `asRow`: as a
   * row of a batch statement (`jsonRows`), where PostgreSQL takes instants as epoch milliseconds.
   */
  runValues(run: Run, columns: readonly ColumnSpec[], asRow = false): unknown[] {
    if (typeof run !== 'object' || run === null) {
      throw new InvalidArgumentError('run', run, 'a Run object');
    }
    const epoch = asRow && this.dialect === 'postgres';
    const fields: Record<string, unknown> = {
      id: this.runKey(run.id, 'run.id'),
      job_id: this.runKey(run.jobId, 'run.jobId'),
      status: this.runText(run.status, 'run.status'),
      start_at: this.runInstant(run.startAt, 'run.startAt', epoch),
      end_at: run.endAt === null ? null : this.runInstant(run.endAt, 'run.endAt', epoch),
      output: this.runMachineText(run.output, 'run.output'),
      error: this.runMachineText(run.error, 'run.error'),
      // A fractional duration (a clock with sub-millisecond precision) is rounded to whole milliseconds.
      duration_ms: this.runNumber(run.duration, 'run.duration', true),
      trace_id: this.runText(run.traceId, 'run.traceId'),
      attempt: this.runNumber(run.attempt, 'run.attempt'),
      scheduled_at: this.runInstant(run.scheduledAt, 'run.scheduledAt', epoch),
      created_at: this.runInstant(run.createdAt, 'run.createdAt', epoch),
    };
    return columns.map((column) => fields[column.name]);
  }

  /** A query parameter for an instant (`null` stays `null`). */
  encodeInstant(date: Date | null): unknown {
    if (date === null) return null;
    const ms = date.getTime();
    if (this.dialect === 'sqlite') return ms;
    const iso = date.toISOString();
    // MySQL DATETIME takes no zone: write the UTC wall clock.
    return this.dialect === 'mysql' ? `${iso.slice(0, 10)} ${iso.slice(11, 23)}` : iso;
  }

  /**
   * An instant read back: epoch milliseconds on PostgreSQL (selected so, as text of an integer, or a
   * number or bigint under an app's own type parser) and SQLite; UTC text on MySQL (see
   * `selectInstant`); a `Date` where a driver gives one.
   */
  decodeInstant(value: unknown): Date | null {
    if (value === null || value === undefined) return null;
    if (value instanceof Date) return new Date(value.getTime());
    if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
    const text = String(value);
    if (this.dialect !== 'mysql') {
      const ms = Number(text);
      if (Number.isSafeInteger(ms)) return new Date(ms);
    }
    // MySQL: 'YYYY-MM-DD HH:MM:SS[.fff]', UTC. PostgreSQL (a custom type parser): with an offset.
    const mysql = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?$/.exec(text);
    if (mysql) {
      const [, y, mo, d, h, mi, s, fraction = '0'] = mysql;
      return new Date(
        Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.round(Number(`0.${fraction}`) * 1000)),
      );
    }
    return new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  }

  /** The instant column `name` of a row selected with `selectInstant`. */
  private instantOf(row: DbRow, name: string): Date | null {
    return this.decodeInstant(row[this.dialect === 'sqlite' ? name : `${name}${INSTANT_SUFFIX}`]);
  }

  /** A job from a row selected with the jobs table's columns. */
  toJob(row: DbRow): Job {
    return {
      id: String(row.id),
      name: String(row.name),
      description: String(row.description),
      type: String(row.type) as JobType,
      cron: row.cron === null ? null : String(row.cron),
      interval: numberOrNull(row.interval_ms),
      timezone: row.timezone === null ? null : String(row.timezone),
      runAt: this.instantOf(row, 'run_at'),
      status: String(row.status) as JobStatus,
      handlerName: String(row.handler_name),
      payload:
        row.payload === null || row.payload === undefined
          ? undefined
          : JSON.parse(String(row.payload)),
      nextRunAt: this.instantOf(row, 'next_run_at'),
      lastRunAt: this.instantOf(row, 'last_run_at'),
      lastResult: String(row.last_result),
      retryCount: Number(row.retry_count),
      maxRetry: Number(row.max_retry),
      misfirePolicy: String(row.misfire_policy) as MisfirePolicy,
      maxMisfires: Number(row.max_misfires),
      timeout: numberOrNull(row.timeout_ms),
      retryDelay: numberOrNull(row.retry_delay_ms),
      backoff:
        row.backoff === null || row.backoff === undefined
          ? 'fixed'
          : (String(row.backoff) as JobBackoff),
      maxRetryDelay: numberOrNull(row.max_retry_delay_ms),
      jitter: row.jitter === null || row.jitter === undefined ? 0 : Number(row.jitter),
      version: Number(row.version),
      createdAt: this.instantOf(row, 'created_at') as Date,
      updatedAt: this.instantOf(row, 'updated_at') as Date,
    };
  }

  /** A run from a row selected with the run table's columns. */
  toRun(row: DbRow): Run {
    return {
      id: String(row.id),
      jobId: String(row.job_id),
      status: String(row.status) as RunStatus,
      startAt: this.instantOf(row, 'start_at') as Date,
      endAt: this.instantOf(row, 'end_at'),
      output: String(row.output),
      error: String(row.error),
      duration: Number(row.duration_ms),
      traceId: String(row.trace_id),
      attempt: Number(row.attempt),
      scheduledAt: this.instantOf(row, 'scheduled_at') as Date,
      createdAt: this.instantOf(row, 'created_at') as Date,
    };
  }

  private payload(payload: unknown, job: Job): string | null {
    if (payload === undefined) return null;
    let json: string | undefined;
    try {
      json = JSON.stringify(payload);
    } catch (error) {
      throw new InvalidJobError(
        'payload',
        payload,
        `cannot be stored as JSON (${(error as Error).message})`,
        refOf(job),
      );
    }
    if (json === undefined) {
      throw new InvalidJobError('payload', payload, 'is not a JSON value', refOf(job));
    }
    // Cheap bound first: a UTF-16 code unit is at most 3 bytes of UTF-8.
    if (json.length * 3 > TYPEORM_MAX_PAYLOAD_BYTES) {
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > TYPEORM_MAX_PAYLOAD_BYTES) {
        throw new InvalidJobError(
          'payload',
          `${bytes} bytes of JSON`,
          `is ${bytes} bytes of JSON, over TypeOrmStorage's cap of ${TYPEORM_MAX_PAYLOAD_BYTES} bytes (1 MiB): keep large data elsewhere and put a reference to it in the payload`,
          refOf(job),
        );
      }
    }
    return json;
  }

  private key(value: unknown, field: string, job: Job): string {
    const text = this.userText(value, field, job);
    if (text === '' || text.length > ID_LENGTH) {
      throw new InvalidJobError(
        field,
        value,
        `must be a non-empty string of at most ${ID_LENGTH} characters`,
        refOf(job),
      );
    }
    return text;
  }

  /** Text the caller chose: NUL is refused rather than altered. */
  private userText(value: unknown, field: string, job: Job): string {
    if (typeof value !== 'string') {
      throw new InvalidJobError(field, value, 'must be a string', refOf(job));
    }
    if (value.includes('\u0000')) {
      throw new InvalidJobError(
        field,
        value,
        'contains a NUL character (\\u0000), which TypeOrmStorage does not store (PostgreSQL text cannot hold it): remove it',
        refOf(job),
      );
    }
    return value;
  }

  /** Text a handler produced: NUL becomes U+FFFD, so that a run's record is never lost to it. */
  private machineText(value: unknown, field: string, job: Job): string {
    if (typeof value !== 'string') {
      throw new InvalidJobError(field, value, 'must be a string', refOf(job));
    }
    return value.replaceAll('\u0000', NUL_REPLACEMENT);
  }

  private number(value: unknown, field: string, job: Job, nullable = false): number | null {
    if (nullable && value === null) return null;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new InvalidJobError(field, value, 'must be an integer', refOf(job));
    }
    return value;
  }

  private fraction(value: unknown, field: string, job: Job): number {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new InvalidJobError(field, value, 'must be a number from 0 to 1', refOf(job));
    }
    return value;
  }

  private instant(
    value: unknown,
    field: string,
    job: Job,
    epoch: boolean,
    nullable = false,
  ): unknown {
    if (nullable && value === null) return null;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new InvalidJobError(
        field,
        value,
        `must be a valid Date${nullable ? ' or null' : ''}`,
        refOf(job),
      );
    }
    return epoch ? value.getTime() : this.encodeInstant(value);
  }

  private runKey(value: unknown, argument: string): string {
    const text = this.runText(value, argument);
    if (text === '' || text.length > ID_LENGTH) {
      throw new InvalidArgumentError(
        argument,
        value,
        `a non-empty string of at most ${ID_LENGTH} characters`,
      );
    }
    return text;
  }

  private runText(value: unknown, argument: string): string {
    if (typeof value !== 'string' || value.includes('\u0000')) {
      throw new InvalidArgumentError(argument, value, 'a string without NUL characters');
    }
    return value;
  }

  private runMachineText(value: unknown, argument: string): string {
    if (typeof value !== 'string') throw new InvalidArgumentError(argument, value, 'a string');
    return value.replaceAll('\u0000', NUL_REPLACEMENT);
  }

  private runNumber(value: unknown, argument: string, round = false): number {
    const number = round && typeof value === 'number' ? Math.round(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
      throw new InvalidArgumentError(argument, value, round ? 'a finite number' : 'an integer');
    }
    return number;
  }

  private runInstant(value: unknown, argument: string, epoch: boolean): unknown {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new InvalidArgumentError(argument, value, 'a valid Date');
    }
    return epoch ? value.getTime() : this.encodeInstant(value);
  }
}

/** How an error names the job it is about (its id, quoted, when it has a string one). */
function refOf(job: Job): string {
  return typeof job.id === 'string' ? `"${job.id.replaceAll('\u0000', '\\u0000')}"` : '';
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** The suffix of the name an instant column is selected under, where it is selected as an expression. */
const INSTANT_SUFFIX = '__v';

/**
 * How a select list reads an instant column `name` (escaped by `q`): as epoch milliseconds on
 * PostgreSQL (an integer is read far faster than node-postgres parses a timestamp), as UTC text on
 * MySQL (so that mysql2's `timezone` option never applies), as stored on SQLite (epoch ms). An
 * expression is selected under another name (`<name>__v`): an `ORDER BY` of the column then still
 * means the column, and its index, not the expression, which would be sorted in full.
 */
export function selectInstant(
  q: (name: string) => string,
  name: string,
  dialect: SqlDialect,
): string {
  switch (dialect) {
    case 'postgres':
      return `(EXTRACT(EPOCH FROM ${q(name)}) * 1000)::bigint AS ${q(name + INSTANT_SUFFIX)}`;
    case 'mysql':
      return `CAST(${q(name)} AS CHAR) AS ${q(name + INSTANT_SUFFIX)}`;
    case 'sqlite':
      return q(name);
  }
}

/** The PostgreSQL cast of a parameter of a column kind (needed inside `VALUES` lists). */
export function postgresCast(kind: ColumnKind): string {
  switch (kind) {
    case 'seq':
    case 'bigint':
      return 'bigint';
    case 'int':
      return 'integer';
    case 'double':
      return 'double precision';
    case 'instant':
      return 'timestamptz';
    case 'varchar':
      return 'varchar';
    case 'text':
    case 'longText':
      return 'text';
  }
}
