import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidJobError } from '../../../lib/errors/invalid-job.error.js';
import type { JobDefinition } from '../../../lib/interfaces/job.interface.js';
import { makeScheduler } from '../../utils/scheduler-harness.js';

/** Each bad definition, the field its error must name, and a fragment of the value it must quote. */
const REJECTIONS: [string, Record<string, unknown>, string, string][] = [
  ['not an object', null as never, 'job', 'null'],
  ['an unknown field', { cron: '* * * * * *', Cron: 'x' }, 'Cron', '"x"'],
  ['an empty cron', { type: 'cron', cron: '' }, 'cron', '""'],
  ['a blank cron', { cron: '   ' }, 'cron', '"   "'],
  ['a cron with 4 fields', { cron: '* * * *' }, 'cron', '"* * * *"'],
  ['a cron with 7 fields', { cron: '0 0 0 1 1 * 2030' }, 'cron', '2030'],
  ['a Jenkins H field', { cron: 'H * * * *' }, 'cron', '"H * * * *"'],
  ['an impossible date (Feb 30)', { cron: '0 0 0 30 2 *' }, 'cron', '30 2'],
  ['an impossible date (Apr 31)', { cron: '0 0 0 31 4 *' }, 'cron', '31 4'],
  ['garbage in a cron field', { cron: '*/x * * * * *' }, 'cron', '*/x'],
  [
    'an unknown timezone',
    { cron: '* * * * * *', timezone: 'Mars/Olympus' },
    'timezone',
    'Mars/Olympus',
  ],
  ['an empty timezone', { cron: '* * * * * *', timezone: '' }, 'timezone', '""'],
  ['a zero interval', { interval: 0 }, 'interval', '0'],
  ['a negative interval', { interval: -5 }, 'interval', '-5'],
  ['a NaN interval', { interval: NaN }, 'interval', 'NaN'],
  ['an infinite interval', { interval: Infinity }, 'interval', 'Infinity'],
  ['an unparsable interval', { interval: 'soon' }, 'interval', '"soon"'],
  ['a zero interval string', { interval: '0s' }, 'interval', '"0s"'],
  ['an invalid runAt', { runAt: 'not a date' }, 'runAt', '"not a date"'],
  ['an Invalid Date runAt', { runAt: new Date(NaN) }, 'runAt', 'Invalid Date'],
  ['a missing schedule', {}, 'type', 'undefined'],
  ['two schedules', { cron: '* * * * * *', interval: '1s' }, 'type', 'undefined'],
  ['an unknown type', { type: 'weekly', cron: '* * * * * *' }, 'type', '"weekly"'],
  [
    'cron with an interval',
    { type: 'cron', cron: '* * * * * *', interval: '1s' },
    'interval',
    '"1s"',
  ],
  ['interval with a timezone', { interval: '1s', timezone: 'UTC' }, 'timezone', '"UTC"'],
  [
    'once with a cron',
    { type: 'once', runAt: Date.now(), cron: '* * * * * *' },
    'cron',
    '* * * * * *',
  ],
  ['a cron type without cron', { type: 'cron' }, 'cron', 'undefined'],
  ['an interval type without interval', { type: 'interval' }, 'interval', 'undefined'],
  ['an id over 64 characters', { id: 'x'.repeat(65), interval: '1s' }, 'id', 'xxxx'],
  ['a blank id', { id: '  ', interval: '1s' }, 'id', '"  "'],
  ['a numeric id', { id: 42, interval: '1s' }, 'id', '42'],
  ['a blank handler name', { interval: '1s', handlerName: ' ' }, 'handlerName', '" "'],
  [
    'a missing handler name',
    { interval: '1s', handlerName: undefined },
    'handlerName',
    'undefined',
  ],
  ['a negative maxRetry', { interval: '1s', maxRetry: -1 }, 'maxRetry', '-1'],
  ['a fractional maxRetry', { interval: '1s', maxRetry: 1.5 }, 'maxRetry', '1.5'],
  ['a non-string description', { interval: '1s', description: 5 }, 'description', '5'],
  ['a BigInt payload', { interval: '1s', payload: { n: 1n } }, 'payload', '1n'],
  ['a circular payload', { interval: '1s', payload: circular() }, 'payload', 'Circular'],
  ['a function payload', { interval: '1s', payload: () => 1 }, 'payload', 'Function'],
  ['a NaN payload', { interval: '1s', payload: NaN }, 'payload', 'NaN'],
  ['a negative timeout', { interval: '1s', timeout: -5 }, 'timeout', '-5'],
  ['a timeout of 0', { interval: '1s', timeout: 0 }, 'timeout', '0'],
  ['a non-numeric timeout', { interval: '1s', timeout: 'soon' }, 'timeout', '"soon"'],
  ['a negative retryDelay', { interval: '1s', retryDelay: -1 }, 'retryDelay', '-1'],
  ['an unknown backoff', { interval: '1s', backoff: 'linear' }, 'backoff', '"linear"'],
  [
    'a maxRetryDelay of the wrong type',
    { interval: '1s', maxRetryDelay: true },
    'maxRetryDelay',
    'true',
  ],
  ['a jitter of 2', { interval: '1s', jitter: 2 }, 'jitter', '2'],
  ['a negative jitter', { interval: '1s', jitter: -0.1 }, 'jitter', '-0.1'],
  ['a jitter that is not a number', { interval: '1s', jitter: '0.5' }, 'jitter', '"0.5"'],
];

function circular(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

describe('addJob rejects bad input', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-05-01T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(REJECTIONS)('%s', async (_title, fields, field, quoted) => {
    const { scheduler, storage } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    const definition = fields === null ? null : { handlerName: 'h', ...fields };
    const error = await scheduler
      .addJob(definition as unknown as JobDefinition)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJobError);
    const invalid = error as InvalidJobError;
    expect(invalid.code).toBe('INVALID_JOB');
    expect(invalid.field).toBe(field);
    expect(invalid.message).toContain(`"${field}"`);
    expect(invalid.message).toContain(quoted);
    expect(await storage.listJobs()).toEqual([]);
    expect(scheduler.metrics().scheduledJobs).toBe(0);
  });

  it('checks the timezone before the expression', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    const error = await scheduler
      .addJob({ cron: 'not a cron', timezone: 'Nowhere/Land', handlerName: 'h' })
      .catch((e: unknown) => e);
    expect((error as InvalidJobError).field).toBe('timezone');
  });

  it('rejects an id that is taken, and keeps the first job', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    await scheduler.addJob({ id: 'daily', cron: '0 0 0 * * *', handlerName: 'h' });
    const error = await scheduler
      .addJob({ id: 'daily', interval: '1s', handlerName: 'h' })
      .catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe('JOB_ALREADY_EXISTS');
    expect((error as Error).message).toContain('"daily"');
    const jobs = await scheduler.listJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.cron).toBe('0 0 0 * * *');
  });
});

describe('addJob accepts', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-05-01T12:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fills the defaults of a minimal definition', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('report', () => 'ok');
    const job = await scheduler.addJob({ cron: '0 0 9 * * 1', handlerName: 'report' });
    expect(job).toMatchObject({
      name: 'report',
      description: '',
      type: 'cron',
      cron: '0 0 9 * * 1',
      interval: null,
      timezone: null,
      runAt: null,
      status: 'pending',
      handlerName: 'report',
      payload: null,
      lastRunAt: null,
      lastResult: '',
      retryCount: 0,
      maxRetry: 0,
    });
    expect(job.createdAt.getTime()).toBe(Date.now());
  });

  it('takes durations as strings or milliseconds, and runAt in any form', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    expect((await scheduler.addJob({ interval: '1h30m', handlerName: 'h' })).interval).toBe(
      5_400_000,
    );
    expect((await scheduler.addJob({ interval: 250, handlerName: 'h' })).interval).toBe(250);
    const at = Date.now() + 60_000;
    for (const runAt of [new Date(at), new Date(at).toISOString(), at]) {
      expect((await scheduler.addJob({ runAt, handlerName: 'h' })).runAt?.getTime()).toBe(at);
    }
  });

  it('stores a copy of the payload: changing the caller’s object later changes nothing', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    const payload = { list: [1, 2], nested: { ok: true } };
    const job = await scheduler.addJob({ interval: '1s', handlerName: 'h', payload });
    payload.list.push(3);
    payload.nested.ok = false;
    expect((await scheduler.getJob(job.id)).payload).toEqual({
      list: [1, 2],
      nested: { ok: true },
    });
  });
});
