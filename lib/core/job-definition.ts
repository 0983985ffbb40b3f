import { InvalidJobError } from '../errors/invalid-job.error.js';
import type { Job, JobDefinition, JobType, MisfirePolicy } from '../interfaces/job.interface.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import type { CronScheduleCache } from './schedule/cron-schedule.js';
import type { Schedule } from './schedule/schedule.js';
import { IntervalSchedule } from './schedule/interval-schedule.js';
import { deepFreeze } from './deep-freeze.js';
import { DEFINITION_FIELDS } from './job-fields.js';
import { validateRunPolicy, type RunPolicy } from './run-policy.js';

/** The most characters a job id may have (the storages' key width). */
export const MAX_JOB_ID_LENGTH = 64;
/** The most characters of `name` and `handlerName`. */
export const MAX_NAME_LENGTH = 255;

const JOB_TYPES: readonly JobType[] = ['cron', 'once', 'interval'];
const MISFIRE_POLICIES: readonly MisfirePolicy[] = ['fire-once', 'skip', 'fire-all'];
/** The keys a definition may have: its id and the fields it sets on the job. */
const DEFINITION_KEYS: ReadonlySet<string> = new Set(['id', ...DEFINITION_FIELDS]);

/** A definition checked field by field, with its schedule compiled. */
export interface ValidatedDefinition extends RunPolicy {
  id: string | undefined;
  name: string;
  description: string;
  type: JobType;
  cron: string | null;
  interval: number | null;
  timezone: string | null;
  /** Epoch ms of a `once` job's run time, else NaN. */
  runAt: number;
  handlerName: string;
  payload: unknown;
  maxRetry: number;
  misfirePolicy: MisfirePolicy;
  maxMisfires: number;
  /** How to find the fire after a given instant; null for `once`. */
  schedule: Schedule | null;
}

/**
 * Checks a job definition and compiles its schedule. Throws `InvalidJobError` naming the first bad
 * field and its value; never touches storage, so bad input changes nothing.
 */
export function validateJobDefinition(
  input: JobDefinition,
  crons: CronScheduleCache,
): ValidatedDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidJobError(
      'job',
      input,
      'must be an object with at least handlerName and a schedule',
    );
  }
  for (const key of Object.keys(input)) {
    if (!DEFINITION_KEYS.has(key)) {
      throw new InvalidJobError(
        key,
        (input as unknown as Record<string, unknown>)[key],
        `is not a field of a job definition (known: ${[...DEFINITION_KEYS].join(', ')})`,
      );
    }
  }
  const id = optionalId(input.id);
  const ref = id === undefined ? '' : `"${id}"`;
  const handlerName = requiredName(input.handlerName, 'handlerName', ref);
  const name = input.name === undefined ? handlerName : requiredName(input.name, 'name', ref);
  const description = optionalString(input.description, 'description', ref);
  const type = resolveType(input, ref);
  const maxRetry = input.maxRetry ?? 0;
  if (typeof maxRetry !== 'number' || !Number.isSafeInteger(maxRetry) || maxRetry < 0) {
    throw new InvalidJobError('maxRetry', input.maxRetry, 'must be an integer >= 0', ref);
  }
  const payload = toFrozenJson(input.payload, ref);

  const misfirePolicy = input.misfirePolicy ?? 'fire-once';
  if (!MISFIRE_POLICIES.includes(misfirePolicy)) {
    throw new InvalidJobError(
      'misfirePolicy',
      input.misfirePolicy,
      `must be one of ${MISFIRE_POLICIES.map((p) => `'${p}'`).join(', ')}`,
      ref,
    );
  }
  const maxMisfires = input.maxMisfires ?? 10;
  if (typeof maxMisfires !== 'number' || !Number.isSafeInteger(maxMisfires) || maxMisfires < 1) {
    throw new InvalidJobError('maxMisfires', input.maxMisfires, 'must be an integer >= 1', ref);
  }
  const base = {
    ...validateRunPolicy(input, ref),
    id,
    name,
    description,
    type,
    handlerName,
    payload,
    maxRetry,
    misfirePolicy,
    maxMisfires,
  };
  switch (type) {
    case 'cron': {
      mustBeAbsent(input, ['interval', 'runAt'], type, ref);
      const schedule = crons.get(input.cron as string, input.timezone ?? null);
      return {
        ...base,
        cron: (input.cron as string).trim(),
        interval: null,
        timezone: schedule.timezone,
        runAt: NaN,
        schedule,
      };
    }
    case 'interval': {
      mustBeAbsent(input, ['cron', 'runAt', 'timezone'], type, ref);
      const ms = parseDuration(input.interval);
      if (ms === null || ms <= 0 || ms > 2 ** 53 / 1000) {
        throw new InvalidJobError(
          'interval',
          input.interval,
          `must be a duration greater than 0: ${DURATION_HINT}`,
          ref,
        );
      }
      return {
        ...base,
        cron: null,
        interval: ms,
        timezone: null,
        runAt: NaN,
        schedule: new IntervalSchedule(ms),
      };
    }
    case 'once': {
      mustBeAbsent(input, ['cron', 'interval', 'timezone'], type, ref);
      return {
        ...base,
        cron: null,
        interval: null,
        timezone: null,
        runAt: toInstant(input.runAt, ref),
        schedule: null,
      };
    }
  }
}

/** A new job row from a validated definition; `nextRunAt` is the first fire after `now`. */
export function newJob(def: ValidatedDefinition, id: string, now: number): Job {
  const at = new Date(now);
  return {
    id,
    name: def.name,
    description: def.description,
    type: def.type,
    cron: def.cron,
    interval: def.interval,
    timezone: def.timezone,
    runAt: def.type === 'once' ? new Date(def.runAt) : null,
    status: 'pending',
    handlerName: def.handlerName,
    payload: def.payload,
    nextRunAt: dateOrNull(firstFire(def, now)),
    lastRunAt: null,
    lastResult: '',
    retryCount: 0,
    maxRetry: def.maxRetry,
    misfirePolicy: def.misfirePolicy,
    maxMisfires: def.maxMisfires,
    timeout: def.timeout,
    retryDelay: def.retryDelay,
    backoff: def.backoff,
    maxRetryDelay: def.maxRetryDelay,
    jitter: def.jitter,
    version: 0,
    createdAt: at,
    updatedAt: new Date(now),
  };
}

/** The first fire of a job defined now (or resumed now): a past `runAt` is due at once. */
export function firstFire(
  def: Pick<ValidatedDefinition, 'runAt' | 'schedule'>,
  now: number,
): number {
  if (def.schedule === null) return Math.max(def.runAt, now);
  return def.schedule.next(now) ?? NaN;
}

function dateOrNull(ms: number): Date | null {
  return Number.isFinite(ms) ? new Date(ms) : null;
}

function optionalId(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_JOB_ID_LENGTH) {
    throw new InvalidJobError(
      'id',
      value,
      `must be a non-blank string of at most ${MAX_JOB_ID_LENGTH} characters (or left out for a generated UUID)`,
    );
  }
  return value;
}

function requiredName(value: unknown, field: string, ref: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH) {
    throw new InvalidJobError(
      field,
      value,
      `must be a non-blank string of at most ${MAX_NAME_LENGTH} characters`,
      ref,
    );
  }
  return value;
}

function optionalString(value: unknown, field: string, ref: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw new InvalidJobError(field, value, 'must be a string', ref);
  return value;
}

function resolveType(input: JobDefinition, ref: string): JobType {
  if (input.type !== undefined) {
    if (!JOB_TYPES.includes(input.type)) {
      throw new InvalidJobError(
        'type',
        input.type,
        `must be one of ${JOB_TYPES.map((t) => `'${t}'`).join(', ')}`,
        ref,
      );
    }
    return input.type;
  }
  const given = (['cron', 'interval', 'runAt'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    throw new InvalidJobError(
      'type',
      input.type,
      given.length === 0
        ? "is missing and cannot be inferred: give cron (type 'cron'), interval (type 'interval') or runAt (type 'once')"
        : `is missing and ambiguous: ${given.join(' and ')} are both set; give exactly one, or set type`,
      ref,
    );
  }
  return given[0] === 'cron' ? 'cron' : given[0] === 'interval' ? 'interval' : 'once';
}

function mustBeAbsent(
  input: JobDefinition,
  fields: (keyof JobDefinition)[],
  type: JobType,
  ref: string,
): void {
  for (const field of fields) {
    if (input[field] !== undefined && input[field] !== null) {
      throw new InvalidJobError(
        field,
        input[field],
        `must not be set on a job of type '${type}'`,
        ref,
      );
    }
  }
}

function toInstant(value: unknown, ref: string): number {
  let ms = NaN;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.trim() !== '') ms = Date.parse(value);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
    throw new InvalidJobError(
      'runAt',
      value,
      "must be a valid instant for a 'once' job: a Date, an ISO-8601 string or epoch milliseconds",
      ref,
    );
  }
  return ms;
}

function toFrozenJson(value: unknown, ref: string): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidJobError('payload', value, 'must be a JSON value (a finite number)', ref);
    return value;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new InvalidJobError(
      'payload',
      value,
      `must be a JSON value: ${(err as Error).message}`,
      ref,
    );
  }
  if (text === undefined) throw new InvalidJobError('payload', value, 'must be a JSON value', ref);
  return deepFreeze(JSON.parse(text));
}
