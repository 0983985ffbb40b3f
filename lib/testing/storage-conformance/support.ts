import {
  type BatchStorage,
  type JobStorage,
  isBatchStorage,
} from '../../interfaces/job-storage.js';
import type { Job, JobStatus, JsonValue } from '../../interfaces/job.interface.js';
import type { Run } from '../../interfaces/run.interface.js';
import type { ExpectFn, TestApi } from '../test-api.js';

/** What the sections of the `JobStorage` conformance suite share. */
export interface StorageSuite {
  readonly api: TestApi;
  /** The storage of the test running (a fresh one per test). */
  readonly storage: JobStorage;
  /** Whether the storage is held to the `BatchStorage` contract. */
  readonly batch: boolean;
  /** A fresh id, unique across tests and runs (and at most 64 characters). */
  uid(prefix?: string): string;
  /** Creates and stores a job with a fresh id; returns what was given. */
  addJob(overrides?: Partial<Job>): Promise<Job>;
  /** Creates and stores a run of `jobId`; returns what was given. */
  addRun(jobId: string, overrides?: Partial<Run>): Promise<Run>;
  /** The jobs of `list` whose id is in `ids`, in the order of `list`. */
  only(list: Job[], ids: readonly string[]): Job[];
}

export const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
];

/** One payload of every JSON kind, plus the strings storages tend to get wrong. */
export const PAYLOADS: ReadonlyArray<readonly [string, JsonValue]> = [
  ['an object', { a: 1, b: 'two', c: true, d: null }],
  ['an empty object', {}],
  ['an array', [1, 'two', false, null, { three: 3 }]],
  ['an empty array', []],
  ['a string', 'hello'],
  ['an empty string', ''],
  ['an integer', 42],
  ['zero', 0],
  ['a negative decimal', -12.5],
  ['the largest safe integer', Number.MAX_SAFE_INTEGER],
  ['true', true],
  ['false', false],
  ['null', null],
  [
    'a nested value',
    {
      level1: { level2: { level3: [1, [2, [3, { deep: 'yes' }]]] } },
      list: [{ a: [] }, { b: {} }, [[]]],
    },
  ],
  [
    'unicode and emoji',
    { text: 'héllo wörld — 日本語 中文 한국어 العربية 🎉🚀👩‍💻', 'key 😀': 'ñ', arr: ['🐈', 'é'] },
  ],
  [
    'quotes and escapes',
    {
      text: `it's "quoted" \\ back\\slash /slash\n\ttab\r`,
      sql: "'; DROP TABLE jobs; --",
      'key\'with"quotes': `"'\``,
    },
  ],
  ['a string of quotes', `"'\` \\" \\'`],
  ['a unicode string', 'ünïcödé 🎉 "quoted"'],
];

/** A `Date` from an ISO-8601 string. */
export const at = (iso: string): Date => new Date(iso);

/** Past 2038-01-19 (32-bit `TIMESTAMP`), on a leap day, at the last millisecond of the day. */
export const DATE_2040 = '2040-02-29T23:59:59.999Z';

/** Checks an error's class and `code`, and that its message names `mention`. */
export function expectError(
  expect: ExpectFn,
  error: unknown,
  errorClass: abstract new (...args: never[]) => Error,
  code: string,
  mention: string,
  context?: string,
): void {
  withContext(context, () => {
    expect(error).toBeInstanceOf(errorClass);
    expect((error as { code?: unknown }).code).toBe(code);
    expect((error as Error).message).toContain(mention);
  });
}

/** The storage as a `BatchStorage`; fails the test when it is not one. */
export function batchOf(storage: JobStorage): JobStorage & BatchStorage {
  if (!isBatchStorage(storage))
    throw new Error('this storage was declared batch-capable but lacks BatchStorage methods');
  return storage;
}

/** Changes every mutable part of a job in place: fields, dates and nested payload. */
export function mutateJob(job: Job): void {
  job.name = 'mutated';
  job.status = 'failed';
  job.version += 100;
  job.createdAt.setTime(0);
  job.updatedAt.setTime(0);
  job.nextRunAt?.setTime(0);
  const payload = job.payload as { nested?: { list?: number[] }; added?: boolean } | null;
  if (payload && typeof payload === 'object') {
    payload.nested?.list?.push(99);
    payload.added = true;
  }
}

/** Changes every mutable part of a run in place: fields and dates. */
export function mutateRun(run: Run): void {
  run.status = 'failed';
  run.output = 'mutated';
  run.attempt += 100;
  run.startAt.setTime(0);
  run.scheduledAt.setTime(0);
  run.createdAt.setTime(0);
  run.endAt?.setTime(0);
}

/** Runs `check`; a failure's message starts with `context` (when given), so a loop's case shows. */
export function withContext(context: string | undefined, check: () => void): void {
  if (context === undefined) return check();
  try {
    check();
  } catch (err) {
    if (err instanceof Error) err.message = `${context}: ${err.message}`;
    throw err;
  }
}
