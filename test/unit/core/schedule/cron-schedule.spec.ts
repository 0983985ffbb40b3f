import { CronDate, CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import {
  CronSchedule,
  CronScheduleCache,
  normalizeCronExpression,
  parseCronSchedule,
  validateTimezone,
} from '../../../../lib/core/schedule/cron-schedule.js';
import * as scheduleIndex from '../../../../lib/core/schedule/index.js';
import { InvalidJobError } from '../../../../lib/errors/invalid-job.error.js';
import { JobSchedulerError } from '../../../../lib/errors/job-scheduler.error.js';

const ms = (iso: string): number => Date.parse(iso);
const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());

/** Every fire in (fromIso, toIso], by chaining next(). */
function fires(schedule: CronSchedule, fromIso: string, toIso: string): string[] {
  const out: string[] = [];
  const end = ms(toIso);
  let at = ms(fromIso);
  for (;;) {
    const next = schedule.next(at);
    if (next === null || next > end) return out;
    if (next <= at) throw new Error(`next(${iso(at)}) = ${iso(next)} is not after it`);
    out.push(iso(next)!);
    at = next;
  }
}

/** Runs `fn`, expecting an InvalidJobError naming `field` and quoting `value`. */
function expectInvalid(fn: () => unknown, field: string, value: unknown): InvalidJobError {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InvalidJobError);
  const err = error as InvalidJobError;
  expect(err).toBeInstanceOf(JobSchedulerError);
  expect(err.code).toBe('INVALID_JOB');
  expect(err.field).toBe(field);
  expect(err.value).toBe(value);
  expect(err.message).toContain(`field "${field}"`);
  expect(err.message).toContain(typeof value === 'string' ? JSON.stringify(value) : String(value));
  return err;
}

describe('normalizeCronExpression', () => {
  it.each([
    ['*/5 * * * * *', '*/5 * * * * *'],
    ['*/5 * * * *', '0 */5 * * * *'],
    ['  0  30\t9 * *   1-5 ', '0 30 9 * * 1-5'],
    [' 30\t9  * *\n1-5 ', '0 30 9 * * 1-5'],
    ['0 0 0 * * THU', '0 0 0 * * THU'],
    ['0 0 * JAN-MAR mon-fri', '0 0 0 * JAN-MAR mon-fri'],
    ['0 0 0 * * thu#2', '0 0 0 * * thu#2'],
    ['0 0 0 L * *', '0 0 0 L * *'],
    ['@daily', '0 0 0 * * *'],
    ['  @Hourly ', '0 0 * * * *'],
    ['@yearly', '0 0 0 1 1 *'],
    ['@annually', '0 0 0 1 1 *'],
    ['@monthly', '0 0 0 1 * *'],
    ['@weekly', '0 0 0 * * 0'],
    ['@minutely', '0 * * * * *'],
    ['@secondly', '* * * * * *'],
    ['@weekdays', '0 0 0 * * 1-5'],
    ['@weekends', '0 0 0 * * 0,6'],
  ])('reads %j as %j', (input, expected) => {
    expect(normalizeCronExpression(input)).toBe(expected);
  });
});

describe('validateTimezone', () => {
  it('reads null and undefined as UTC (null)', () => {
    expect(validateTimezone(null)).toBeNull();
    expect(validateTimezone(undefined)).toBeNull();
  });

  it.each(['UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5', 'US/Eastern'])(
    'accepts %s',
    (zone) => {
      expect(validateTimezone(zone)).toBe(zone);
    },
  );
});

describe('parseCronSchedule: rejections', () => {
  describe('timezone', () => {
    it.each(['Not/AZone', 'Mars/Olympus_Mons', ' UTC', 'local', '+05:00', 'Z'])(
      'rejects the unknown zone %j',
      (zone) => {
        expectInvalid(() => parseCronSchedule('* * * * * *', zone), 'timezone', zone);
      },
    );

    it.each(['+05:00', '-03:00', '+0530', '-05'])(
      'rejects the UTC offset %j on every Node version, naming the Etc zone to use',
      (zone) => {
        expect(() => parseCronSchedule('* * * * * *', zone)).toThrow(
          /"timezone".*is a UTC offset, not a time zone.*"Etc\/GMT-5"/,
        );
      },
    );

    it.each(['', '   '])('rejects the blank zone %j', (zone) => {
      expectInvalid(() => parseCronSchedule('* * * * * *', zone), 'timezone', zone);
    });

    it.each([5, true, {}])('rejects the non-string zone %s', (zone) => {
      expect(() => parseCronSchedule('* * * * * *', zone)).toThrow(InvalidJobError);
      try {
        parseCronSchedule('* * * * * *', zone);
      } catch (err) {
        expect((err as InvalidJobError).field).toBe('timezone');
        expect((err as InvalidJobError).value).toBe(zone);
      }
    });

    it('checks the zone before the expression', () => {
      expectInvalid(() => parseCronSchedule('not a cron', 'Not/AZone'), 'timezone', 'Not/AZone');
      expectInvalid(() => parseCronSchedule(42, ''), 'timezone', '');
    });
  });

  describe('expression type and shape', () => {
    it.each([42, null, undefined, true])('rejects the non-string %s', (value) => {
      const err = expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
      expect(err.message).toContain('5 or 6 fields');
    });

    it('rejects an object', () => {
      const value = { cron: '* * * * *' };
      expect(() => parseCronSchedule(value, null)).toThrow(InvalidJobError);
    });

    it.each(['', '   ', '\t\n'])('rejects the blank %j', (value) => {
      expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
    });

    it.each(['*', '* *', '* * *', '* * * *'])('rejects %j (too few fields)', (value) => {
      const err = expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
      expect(err.message).toContain(
        'must be a cron expression with 5 or 6 fields (seconds optional), such as "*/5 * * * * *"',
      );
    });

    it('rejects a 7-field (year) expression', () => {
      const err = expectInvalid(
        () => parseCronSchedule('0 0 0 1 1 * 2030', null),
        'cron',
        '0 0 0 1 1 * 2030',
      );
      expect(err.message).toContain('year');
    });

    it('rejects 8 fields', () => {
      expectInvalid(() => parseCronSchedule('* * * * * * * *', null), 'cron', '* * * * * * * *');
    });

    it.each(['@reboot', '@daily 5', '@', '@every 5m'])('rejects the unknown alias %j', (value) => {
      const err = expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
      expect(err.message).toContain('@daily');
    });
  });

  describe('Jenkins H hashes', () => {
    it.each([
      'H * * * *',
      'H H * * * *',
      '0 H * * * *',
      'H/5 * * * * *',
      'H(0-5) * * * * *',
      '0 0 H * * *',
      '0 0 0 H * *',
      '0 0 0 * H *',
      '0 0 0 * * H',
      '0 0 0 * * 1,H',
      '0 0 0 * * THU,H',
      '0 0 0 * * HTHU',
      '0 0 0 * * THUH',
      'h * * * * *',
    ])('rejects %j', (value) => {
      const err = expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
      expect(err.message).toContain('"H"');
    });

    it.each(['0 0 0 * * THU', '0 0 0 * * thu', '0 0 0 * * TUE-THU', '0 0 0 * MAR,AUG THU#1'])(
      'accepts the names in %j (THU holds an H)',
      (value) => {
        expect(parseCronSchedule(value, null)).toBeInstanceOf(CronSchedule);
      },
    );
  });

  describe('values cron-parser refuses', () => {
    it.each([
      ['60 * * * * *', 'Constraint error'],
      ['0 60 * * * *', 'Constraint error'],
      ['0 0 25 * * *', 'Constraint error'],
      ['0 0 0 0 * *', 'Constraint error'],
      ['0 0 0 32 * *', 'Constraint error'],
      ['0 0 0 * 13 *', 'Constraint error'],
      ['0 0 0 * * 8', 'Constraint error'],
      ['a b c d e f', 'Invalid characters'],
      ['*/0 * * * * *', 'cannot repeat'],
      ['0 0 0 15W * *', 'Invalid characters'],
      ['0 0 0 * * 1#6', 'occurrence'],
      ['0 0 0 * FOO *', 'alias'],
      ['0 0 0 30 2 *', 'Invalid explicit day of month definition'],
      ['0 0 0 31 4 *', 'Invalid explicit day of month definition'],
      ['0 0 0 31 2,4 *', 'Invalid explicit day of month definition'],
      ['0 0 0 30-31 2 *', 'Invalid explicit day of month definition'],
      ['0 0 30 2 *', 'Invalid explicit day of month definition'],
    ])('rejects %j with cron-parser\'s reason ("%s")', (value, reason) => {
      const err = expectInvalid(() => parseCronSchedule(value, null), 'cron', value);
      expect(err.message).toContain(reason);
    });

    it('quotes the expression as given, not as normalised', () => {
      const err = expectInvalid(
        () => parseCronSchedule('  0 0 30 2 * ', null),
        'cron',
        '  0 0 30 2 * ',
      );
      expect(err.message).not.toContain('0 0 0 30 2 *');
    });
  });
});

describe('CronSchedule', () => {
  it('exposes the canonical expression and the zone', () => {
    const utc = parseCronSchedule('*/5 * * * *', undefined);
    expect(utc.expression).toBe('0 */5 * * * *');
    expect(utc.timezone).toBeNull();
    const london = parseCronSchedule('@daily', 'Europe/London');
    expect(london.expression).toBe('0 0 0 * * *');
    expect(london.timezone).toBe('Europe/London');
  });

  it('is exported from the schedule index', () => {
    expect(scheduleIndex.CronSchedule).toBe(CronSchedule);
    expect(scheduleIndex.CronScheduleCache).toBe(CronScheduleCache);
    expect(scheduleIndex.parseCronSchedule).toBe(parseCronSchedule);
    expect(typeof scheduleIndex.IntervalSchedule).toBe('function');
  });

  describe('next()', () => {
    it('fires on seconds with 6 fields', () => {
      const schedule = parseCronSchedule('*/5 * * * * *', null);
      expect(iso(schedule.next(ms('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:00:05.000Z');
      expect(iso(schedule.next(ms('2026-01-01T00:00:03.500Z')))).toBe('2026-01-01T00:00:05.000Z');
      expect(fires(schedule, '2026-01-01T00:00:00Z', '2026-01-01T00:00:20Z')).toEqual([
        '2026-01-01T00:00:05.000Z',
        '2026-01-01T00:00:10.000Z',
        '2026-01-01T00:00:15.000Z',
        '2026-01-01T00:00:20.000Z',
      ]);
    });

    it('fires at second 0 with 5 fields', () => {
      const schedule = parseCronSchedule('*/5 * * * *', null);
      expect(fires(schedule, '2026-01-01T00:00:01Z', '2026-01-01T00:15:00Z')).toEqual([
        '2026-01-01T00:05:00.000Z',
        '2026-01-01T00:10:00.000Z',
        '2026-01-01T00:15:00.000Z',
      ]);
    });

    it('fires strictly after the instant given', () => {
      const schedule = parseCronSchedule('0 0 12 * * *', null);
      const noon = ms('2026-06-15T12:00:00Z');
      expect(iso(schedule.next(noon - 1))).toBe('2026-06-15T12:00:00.000Z');
      expect(iso(schedule.next(noon))).toBe('2026-06-16T12:00:00.000Z');
      expect(iso(schedule.next(noon + 1))).toBe('2026-06-16T12:00:00.000Z');
      const everySecond = parseCronSchedule('* * * * * *', null);
      expect(everySecond.next(noon)).toBe(noon + 1000);
      expect(everySecond.next(noon + 999)).toBe(noon + 1000);
    });

    it('reads the expression in the zone (Asia/Kolkata, +05:30)', () => {
      const schedule = parseCronSchedule('0 30 9 * * *', 'Asia/Kolkata');
      expect(fires(schedule, '2026-01-01T00:00:00Z', '2026-01-03T00:00:00Z')).toEqual([
        '2026-01-01T04:00:00.000Z',
        '2026-01-02T04:00:00.000Z',
      ]);
      const hourly = parseCronSchedule('0 0 * * * *', 'Asia/Kolkata');
      expect(iso(hourly.next(ms('2026-01-01T00:00:00Z')))).toBe('2026-01-01T00:30:00.000Z');
    });

    it('follows Europe/London between GMT and BST', () => {
      const schedule = parseCronSchedule('0 0 9 * * 1-5', 'Europe/London');
      // Friday 2026-01-09 in GMT, then Monday 2026-01-12.
      expect(fires(schedule, '2026-01-09T00:00:00Z', '2026-01-12T23:00:00Z')).toEqual([
        '2026-01-09T09:00:00.000Z',
        '2026-01-12T09:00:00.000Z',
      ]);
      // Wednesday 2026-07-01 in BST (UTC+1).
      expect(iso(schedule.next(ms('2026-07-01T00:00:00Z')))).toBe('2026-07-01T08:00:00.000Z');
    });

    it('reads UTC when the zone is null', () => {
      expect(iso(parseCronSchedule('0 0 9 * * *', null).next(ms('2026-07-01T00:00:00Z')))).toBe(
        '2026-07-01T09:00:00.000Z',
      );
    });

    it('reaches far dates (2040)', () => {
      const leap = parseCronSchedule('0 0 12 29 2 *', null);
      expect(iso(leap.next(ms('2036-03-01T00:00:00Z')))).toBe('2040-02-29T12:00:00.000Z');
      const daily = parseCronSchedule('0 15 10 * * *', 'America/New_York');
      expect(iso(daily.next(ms('2040-07-04T00:00:00Z')))).toBe('2040-07-04T14:15:00.000Z');
      expect(iso(daily.next(ms('2040-12-24T00:00:00Z')))).toBe('2040-12-24T15:15:00.000Z');
    });

    it('handles day-of-month and day-of-week names, L and #', () => {
      expect(iso(parseCronSchedule('0 0 0 L * *', null).next(ms('2026-02-01T00:00:00Z')))).toBe(
        '2026-02-28T00:00:00.000Z',
      );
      expect(iso(parseCronSchedule('0 0 0 * * THU#2', null).next(ms('2026-01-01T00:00:00Z')))).toBe(
        '2026-01-08T00:00:00.000Z',
      );
      expect(iso(parseCronSchedule('0 0 8 * * mon', null).next(ms('2026-01-01T00:00:00Z')))).toBe(
        '2026-01-05T08:00:00.000Z',
      );
    });

    it('returns null for an instant that is not a valid date', () => {
      const schedule = parseCronSchedule('* * * * * *', null);
      expect(schedule.next(Number.NaN)).toBeNull();
      expect(schedule.next(Infinity)).toBeNull();
      expect(schedule.next(8.64e15 + 1)).toBeNull();
      // ...and still answers afterwards.
      expect(schedule.next(0)).toBe(1000);
    });

    it('remembers its last answer, and answers alike when asked again', () => {
      const schedule = parseCronSchedule('0 30 1 * * *', 'America/New_York');
      const a = ms('2026-05-01T00:00:00Z');
      const b = ms('2026-05-10T00:00:00Z');
      const first = schedule.next(a);
      expect(iso(first)).toBe('2026-05-01T05:30:00.000Z');
      for (let i = 0; i < 10_000; i++) expect(schedule.next(a)).toBe(first);
      expect(iso(schedule.next(b))).toBe('2026-05-10T05:30:00.000Z');
      expect(schedule.next(a)).toBe(first);
      expect(schedule.next(first!)).toBe(ms('2026-05-02T05:30:00Z'));
    });

    it('gives every one of 10,000 jobs sharing a schedule the same next fire', () => {
      const cache = new CronScheduleCache();
      const fire = ms('2026-05-01T12:00:00Z');
      const answers = new Set<number | null>();
      for (let i = 0; i < 10_000; i++) {
        answers.add(cache.get('*/5 * * * * *', 'Europe/London').next(fire));
      }
      expect([...answers]).toEqual([fire + 5000]);
      expect(cache.size).toBe(1);
    });
  });

  describe('daylight saving in America/New_York', () => {
    it('fires a daily 02:30 once on the spring-forward day, at 03:30 EDT', () => {
      const schedule = parseCronSchedule('0 30 2 * * *', 'America/New_York');
      expect(fires(schedule, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
        '2026-03-07T07:30:00.000Z', // 02:30 EST
        '2026-03-08T07:30:00.000Z', // 02:30 does not exist: 03:30 EDT
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
      ]);
    });

    it('fires a daily 01:30 once on the fall-back day', () => {
      const schedule = parseCronSchedule('0 30 1 * * *', 'America/New_York');
      expect(fires(schedule, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
        '2026-10-31T05:30:00.000Z', // 01:30 EDT
        '2026-11-01T05:30:00.000Z', // first 01:30 (EDT); not again at 01:30 EST (06:30Z)
        '2026-11-02T06:30:00.000Z', // 01:30 EST
      ]);
    });

    it('skips the second 01:30 even when asked from inside the repeated hour', () => {
      const schedule = parseCronSchedule('0 30 1 * * *', 'America/New_York');
      // 01:00 EST, the second 01:00: the 01:30 ahead repeats the 01:30 EDT already shown.
      expect(iso(schedule.next(ms('2026-11-01T06:00:00Z')))).toBe('2026-11-02T06:30:00.000Z');
      expect(iso(schedule.next(ms('2026-11-01T05:29:59Z')))).toBe('2026-11-01T05:30:00.000Z');
      expect(iso(schedule.next(ms('2026-11-01T05:30:00Z')))).toBe('2026-11-02T06:30:00.000Z');
    });

    it('fires a fixed-hour, every-20-minutes job only in the first 01:00 hour', () => {
      const schedule = parseCronSchedule('0 */20 1 * * *', 'America/New_York');
      expect(fires(schedule, '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z')).toEqual([
        '2026-11-01T05:00:00.000Z',
        '2026-11-01T05:20:00.000Z',
        '2026-11-01T05:40:00.000Z',
      ]);
    });

    it('fires an hourly job in both 01:00 hours', () => {
      const schedule = parseCronSchedule('0 0 * * * *', 'America/New_York');
      expect(fires(schedule, '2026-11-01T03:30:00Z', '2026-11-01T08:00:00Z')).toEqual([
        '2026-11-01T04:00:00.000Z', // 00:00 EDT
        '2026-11-01T05:00:00.000Z', // 01:00 EDT
        '2026-11-01T06:00:00.000Z', // 01:00 EST
        '2026-11-01T07:00:00.000Z', // 02:00 EST
        '2026-11-01T08:00:00.000Z', // 03:00 EST
      ]);
    });

    it('fires */5 seconds through both repeated hours, every 5 s of real time', () => {
      const schedule = parseCronSchedule('*/5 * * * * *', 'America/New_York');
      const all = fires(schedule, '2026-11-01T04:59:00Z', '2026-11-01T07:00:00Z').map(ms);
      expect(all).toHaveLength((121 * 60) / 5);
      expect(all[0]).toBe(ms('2026-11-01T04:59:05Z'));
      expect(all.at(-1)).toBe(ms('2026-11-01T07:00:00Z'));
      for (let i = 1; i < all.length; i++) expect(all[i]! - all[i - 1]!).toBe(5000);
    });

    it('documents a limit: of two fires in the skipped hour, only the first is kept', () => {
      const schedule = parseCronSchedule('0 0,30 2 * * *', 'America/New_York');
      expect(fires(schedule, '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z')).toEqual([
        '2026-03-08T07:00:00.000Z', // 02:00 → 03:00 EDT; 02:30 → 03:30 EDT is lost
      ]);
    });
  });

  describe('daylight saving elsewhere', () => {
    it('fires a midnight job once when America/Havana falls back at 01:00 to 00:00', () => {
      const schedule = parseCronSchedule('0 0 0 * * *', 'America/Havana');
      expect(fires(schedule, '2026-10-30T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
        '2026-10-31T04:00:00.000Z', // 00:00 CDT
        '2026-11-01T04:00:00.000Z', // first 00:00 (CDT); cron-parser alone skips it
        '2026-11-02T05:00:00.000Z', // 00:00 CST
      ]);
    });

    it('fires in Europe/London across both transitions', () => {
      const schedule = parseCronSchedule('0 30 1 * * *', 'Europe/London');
      expect(fires(schedule, '2026-03-28T00:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
        '2026-03-28T01:30:00.000Z', // GMT
        '2026-03-29T01:30:00.000Z', // 01:30 does not exist: 02:30 BST
        '2026-03-30T00:30:00.000Z', // BST
      ]);
      expect(fires(schedule, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
        '2026-10-25T00:30:00.000Z', // first 01:30 (BST); not at 01:30 GMT
        '2026-10-26T01:30:00.000Z',
      ]);
    });

    // cron-parser throws "loop limit exceeded" here; the wall-clock fallback answers instead.
    it('fires across the 30-minute fall-back of Australia/Lord_Howe', () => {
      const hourly = parseCronSchedule('0 0 * * * *', 'Australia/Lord_Howe');
      expect(fires(hourly, '2026-04-04T12:30:00Z', '2026-04-04T18:00:00Z')).toEqual([
        '2026-04-04T13:00:00.000Z', // 00:00 +11
        '2026-04-04T14:00:00.000Z', // 01:00 +11
        '2026-04-04T15:30:00.000Z', // 02:00 +10:30 (01:30-02:00 repeats; :00 is not in it)
        '2026-04-04T16:30:00.000Z',
        '2026-04-04T17:30:00.000Z',
      ]);
      const at2 = parseCronSchedule('0 0 2 * * *', 'Australia/Lord_Howe');
      expect(fires(at2, '2026-04-03T12:00:00Z', '2026-04-06T00:00:00Z')).toEqual([
        '2026-04-03T15:00:00.000Z', // 02:00 +11
        '2026-04-04T15:30:00.000Z', // 02:00 +10:30
        '2026-04-05T15:30:00.000Z',
      ]);
      const at145 = parseCronSchedule('0 45 1 * * *', 'Australia/Lord_Howe');
      expect(fires(at145, '2026-04-04T12:00:00Z', '2026-04-06T00:00:00Z')).toEqual([
        '2026-04-04T14:45:00.000Z', // first 01:45 (+11); not again at 15:15Z (+10:30)
        '2026-04-05T15:15:00.000Z',
      ]);
    });

    // cron-parser answers an instant not after the one asked about here.
    it('fires across the 03:45 fall-back of Pacific/Chatham', () => {
      const hourly = parseCronSchedule('0 0 * * * *', 'Pacific/Chatham');
      expect(fires(hourly, '2026-04-04T12:00:00Z', '2026-04-04T16:00:00Z')).toEqual([
        '2026-04-04T12:15:00.000Z', // 02:00 +13:45
        '2026-04-04T13:15:00.000Z', // 03:00 +13:45
        '2026-04-04T14:15:00.000Z', // 03:00 +12:45 (02:45-03:45 repeats; hourly fires again)
        '2026-04-04T15:15:00.000Z', // 04:00 +12:45
      ]);
    });

    it('agrees with a minute-by-minute reading of the wall clock around fall-back days', () => {
      const cases: [string, string][] = [
        ['America/New_York', '2026-11-01T06:00:00Z'],
        ['Europe/London', '2026-10-25T01:00:00Z'],
        ['Australia/Sydney', '2026-04-04T16:00:00Z'],
        ['America/Havana', '2026-11-01T05:00:00Z'],
        ['America/Santiago', '2026-04-05T03:00:00Z'],
      ];
      const expressions = [
        '0 0 * * * *',
        '0 15,45 * * * *',
        '0 30 1 * * *',
        '0 0 0 * * *',
        '0 */20 0-3 * * *',
        '0 0 1-3 * * *',
      ];
      for (const [zone, transition] of cases) {
        const from = ms(transition) - 26 * 3_600_000;
        const to = ms(transition) + 26 * 3_600_000;
        for (const expression of expressions) {
          const ours = fires(parseCronSchedule(expression, zone), iso(from)!, iso(to)!);
          expect(ours, `${expression} in ${zone}`).toEqual(
            wallClockFires(expression, zone, from, to),
          );
        }
      }
    });
  });
});

describe('CronScheduleCache', () => {
  it('shares one schedule per canonical expression and zone', () => {
    const cache = new CronScheduleCache();
    const a = cache.get('0 */5 * * * *', 'Europe/London');
    expect(cache.get('0 */5 * * * *', 'Europe/London') === a).toBe(true);
    expect(cache.get('*/5 * * * *', 'Europe/London') === a).toBe(true);
    expect(cache.get('  0   */5 * * * * ', 'Europe/London') === a).toBe(true);
    expect(cache.get('0 */5 * * * *', 'America/New_York') === a).toBe(false);
    expect(cache.get('0 */5 * * * *', null) === a).toBe(false);
    expect(cache.get('@daily', null) === cache.get('0 0 * * *', null)).toBe(true);
    expect(cache.size).toBe(4);
  });

  it('keeps null (UTC) and "UTC" apart, as given', () => {
    const cache = new CronScheduleCache();
    expect(cache.get('* * * * * *', null).timezone).toBeNull();
    expect(cache.get('* * * * * *', 'UTC').timezone).toBe('UTC');
  });

  it('validates like parseCronSchedule, zone first', () => {
    const cache = new CronScheduleCache();
    expectInvalid(() => cache.get('0 0 0 30 2 *', null), 'cron', '0 0 0 30 2 *');
    expectInvalid(() => cache.get('H * * * *', 'UTC'), 'cron', 'H * * * *');
    expectInvalid(() => cache.get('* * * * *', 'Not/AZone'), 'timezone', 'Not/AZone');
    expectInvalid(() => cache.get('bad', 'Not/AZone'), 'timezone', 'Not/AZone');
    expectInvalid(() => cache.get('* * * * *', ''), 'timezone', '');
    expect(cache.size).toBe(0);
  });

  it('rejects a bad zone after a good one was cached for the same expression', () => {
    const cache = new CronScheduleCache();
    cache.get('* * * * *', null);
    expectInvalid(() => cache.get('* * * * *', ''), 'timezone', '');
    const zone = 5 as unknown as string;
    expect(() => cache.get('* * * * *', zone)).toThrow(InvalidJobError);
    const nonString = expect(() => cache.get(42 as unknown as string, null));
    nonString.toThrow(InvalidJobError);
  });

  it('drops the least recently used schedule when full', () => {
    const cache = new CronScheduleCache(3);
    const one = cache.get('1 * * * * *', null);
    const two = cache.get('2 * * * * *', null);
    cache.get('3 * * * * *', null);
    expect(cache.get('1 * * * * *', null) === one).toBe(true); // now the most recent
    cache.get('4 * * * * *', null); // drops "2"
    expect(cache.size).toBe(3);
    expect(cache.get('1 * * * * *', null) === one).toBe(true);
    expect(cache.get('2 * * * * *', null) === two).toBe(false);
    expect(cache.size).toBe(3);
  });

  it('stays bounded at its default capacity of 1000', () => {
    const cache = new CronScheduleCache();
    expect(cache.capacity).toBe(1000);
    for (let i = 0; i < 1100; i++) {
      cache.get(`${i % 60} ${Math.floor(i / 60) % 60} * * * *`, null);
    }
    expect(cache.size).toBe(1000);
  });

  it('stores nothing with capacity 0, yet answers', () => {
    const cache = new CronScheduleCache(0);
    expect(cache.get('* * * * * *', null)).toBeInstanceOf(CronSchedule);
    expect(cache.size).toBe(0);
  });

  it('clear() empties it', () => {
    const cache = new CronScheduleCache();
    const a = cache.get('* * * * * *', null);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('* * * * * *', null) === a).toBe(false);
  });

  it('keeps two caches apart', () => {
    const a = new CronScheduleCache();
    const b = new CronScheduleCache();
    expect(a.get('* * * * * *', null) === b.get('* * * * * *', null)).toBe(false);
  });
});

/**
 * A brute-force reading of the rules, minute by minute (second-0 expressions only): an instant
 * fires when its wall-clock time matches; in a repeated span, only the first showing fires unless
 * the hour field covers every hour; a wall-clock time skipped by a spring forward fires at the
 * instant the old offset gives it.
 */
function wallClockFires(expression: string, zone: string, from: number, to: number): string[] {
  const utc = CronExpressionParser.parse(normalizeCronExpression(expression), { tz: 'UTC' });
  const everyHour = utc.fields.hour.values.length === 24;
  const offset = (at: number): number => new CronDate(at, zone).getUTCOffset() * 60_000;
  const matches = (wall: number): boolean => utc.includesDate(new Date(wall));
  const out: string[] = [];
  for (let at = from - (from % 60_000) + 60_000; at <= to; at += 60_000) {
    const now = offset(at);
    const before = offset(at - 3 * 3_600_000);
    let fire = matches(at + now);
    const repeat = before > now && offset(at - (before - now)) === before;
    if (fire && repeat && !everyHour) fire = false;
    if (!fire && before < now) {
      const wall = at + before;
      const skipped = offset(wall - before) !== before && offset(wall - now) !== now;
      fire = skipped && matches(wall);
    }
    if (fire) out.push(new Date(at).toISOString());
  }
  return out;
}
