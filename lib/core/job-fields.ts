import type { Job, JobDefinition } from '../interfaces/job.interface.js';

/**
 * How a field of a `Job` is held, which says how two values of it compare: `value` (a string, a
 * number or null: `===`), `instant` (a Date: its milliseconds), `instant?` (a Date or null), and
 * `payload` (any JSON value: its JSON text).
 */
export type JobFieldKind = 'value' | 'instant' | 'instant?' | 'payload';

/**
 * Every field of a `Job` and how it is held. A field added to `Job` but not here is a compile error,
 * and so is one left out of both `DEFINITION_FIELDS` and `STATE_FIELDS` below; the storage
 * conformance suite changes every field listed here and checks that each one is written.
 */
export const JOB_FIELDS = Object.freeze({
  id: 'value',
  name: 'value',
  description: 'value',
  type: 'value',
  cron: 'value',
  interval: 'value',
  timezone: 'value',
  runAt: 'instant?',
  status: 'value',
  handlerName: 'value',
  payload: 'payload',
  nextRunAt: 'instant?',
  lastRunAt: 'instant?',
  lastResult: 'value',
  retryCount: 'value',
  maxRetry: 'value',
  misfirePolicy: 'value',
  maxMisfires: 'value',
  timeout: 'value',
  retryDelay: 'value',
  backoff: 'value',
  maxRetryDelay: 'value',
  jitter: 'value',
  version: 'value',
  createdAt: 'instant',
  updatedAt: 'instant',
} as const satisfies { readonly [K in keyof Job]-?: JobFieldKind });

/** A field of a `Job`. */
export type JobField = keyof typeof JOB_FIELDS;

/**
 * The fields a job's definition sets (`addJob`, `@JobHandler` options): what `ensureJob` compares with
 * the stored job, and updates when they differ.
 */
export const DEFINITION_FIELDS = Object.freeze([
  'name',
  'description',
  'type',
  'cron',
  'interval',
  'timezone',
  'runAt',
  'handlerName',
  'payload',
  'maxRetry',
  'misfirePolicy',
  'maxMisfires',
  'timeout',
  'retryDelay',
  'backoff',
  'maxRetryDelay',
  'jitter',
] as const satisfies readonly JobField[]);

/** The fields the job's life sets (its id, runs and writes), which a new definition leaves alone. */
export const STATE_FIELDS = Object.freeze([
  'id',
  'status',
  'nextRunAt',
  'lastRunAt',
  'lastResult',
  'retryCount',
  'version',
  'createdAt',
  'updatedAt',
] as const satisfies readonly JobField[]);

/** Fails to compile while a field of `Job` is neither a definition field nor a state field. */
export type EveryJobFieldIsListed = [
  Exclude<JobField, (typeof DEFINITION_FIELDS)[number] | (typeof STATE_FIELDS)[number]>,
] extends [never]
  ? true
  : never;
const everyJobFieldIsListed: EveryJobFieldIsListed = true;
void everyJobFieldIsListed;

/** Fails to compile while `JobDefinition` has a key other than `id` and the definition fields. */
export type DefinitionMatchesFields = [
  Exclude<keyof JobDefinition, 'id' | (typeof DEFINITION_FIELDS)[number]>,
  Exclude<(typeof DEFINITION_FIELDS)[number], keyof JobDefinition>,
] extends [never, never]
  ? true
  : never;
const definitionMatchesFields: DefinitionMatchesFields = true;
void definitionMatchesFields;

/** Whether two values of a field of the given kind are the same. */
export function sameFieldValue(kind: JobFieldKind, a: unknown, b: unknown): boolean {
  switch (kind) {
    case 'value':
      return a === b;
    case 'instant':
    case 'instant?':
      return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
    case 'payload':
      return JSON.stringify(a) === JSON.stringify(b);
  }
}

/** Whether two jobs have the same definition (every definition field the same). */
export function sameDefinition(a: Job, b: Job): boolean {
  return DEFINITION_FIELDS.every((field) => sameFieldValue(JOB_FIELDS[field], a[field], b[field]));
}

/** Sets the definition fields of `target` to those of `source`; its state fields stay. */
export function assignDefinition(target: Job, source: Job): void {
  const into = target as unknown as Record<JobField, unknown>;
  for (const field of DEFINITION_FIELDS) into[field] = source[field];
}
