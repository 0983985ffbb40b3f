import { CronDate, CronExpressionParser, type CronExpression } from 'cron-parser';
import { InvalidJobError } from '../../errors/invalid-job.error.js';
import type { Schedule } from './schedule.js';

const FIELDS_PROBLEM =
  'must be a cron expression with 5 or 6 fields (seconds optional), such as "*/5 * * * * *"';
const TIMEZONE_PROBLEM =
  'must be an IANA time zone name such as "Europe/London" or "America/New_York" (or left out for UTC)';

/** The aliases `cron-parser` knows, as the six-field expressions they stand for. */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
  '@minutely': '0 * * * * *',
  '@secondly': '* * * * * *',
  '@weekdays': '0 0 0 * * 1-5',
  '@weekends': '0 0 0 * * 0,6',
});

/** Month and weekday names, removed before looking for a Jenkins `H` (`THU` holds an H). */
const NAMES = /jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat/gi;

/** How far back to look for a fall-back transition: more than any real DST shift (2h at most). */
const FALL_BACK_LOOKBACK_MS = 3 * 3_600_000;

/**
 * Checks a cron time zone: `null`/`undefined` mean UTC (returns `null`); otherwise it must be a
 * non-empty IANA zone name that `Intl` knows. Throws `InvalidJobError` on field `timezone`.
 */
export function validateTimezone(timezone: unknown): string | null {
  if (timezone === null || timezone === undefined) return null;
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    throw new InvalidJobError('timezone', timezone, TIMEZONE_PROBLEM);
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new InvalidJobError(
      'timezone',
      timezone,
      `is not a known time zone: it ${TIMEZONE_PROBLEM}`,
    );
  }
  return timezone;
}

/**
 * Checks the shape of a cron expression and returns its canonical six-field form: trimmed, fields
 * joined by single spaces, a 5-field expression given a leading `0` seconds field, an alias
 * (`@daily`, case-insensitive, any alias `cron-parser` knows) replaced by its expansion.
 * Throws `InvalidJobError` on field `cron` for a non-string, a blank string, a field count other
 * than 5 or 6 (a 7th, year, field included), an unknown alias or a Jenkins `H` hash field.
 * Values are not checked here; `CronSchedule` does that.
 */
export function normalizeCronExpression(expression: unknown): string {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new InvalidJobError('cron', expression, FIELDS_PROBLEM);
  }
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) {
    const expanded = ALIASES[trimmed.toLowerCase()];
    if (expanded === undefined) {
      throw new InvalidJobError(
        'cron',
        expression,
        `uses an unknown alias: use one of ${Object.keys(ALIASES).join(', ')}, or 5 or 6 fields`,
      );
    }
    return expanded;
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    const year = fields.length === 7 ? ' (a year field is not supported)' : '';
    throw new InvalidJobError('cron', expression, `${FIELDS_PROBLEM}${year}`);
  }
  if (fields.length === 5) fields.unshift('0');
  for (const field of fields) {
    if (/h/i.test(field.replace(NAMES, ''))) {
      throw new InvalidJobError(
        'cron',
        expression,
        'uses a Jenkins-style hash field "H", which is not supported: give explicit values',
      );
    }
  }
  return fields.join(' ');
}

/**
 * A cron schedule (seconds field included) read in a time zone. Parsed once; `next()` reuses the
 * parsed expression and remembers its last answer, so many jobs sharing one instance (see
 * `CronScheduleCache`) and asking about the same instant cost one computation.
 *
 * Daylight saving, as `cron-parser` does it plus one rule of ours:
 * - Spring forward: a fire in the skipped hour moves to the same minute of the hour after it
 *   (New York, 2026-03-08: `0 30 2 * * *` fires at 03:30 EDT). Only the first such fire of the day
 *   is kept when several fall in the skipped hour (`0 0,30 2 * * *` fires at 03:00 EDT, not 03:30).
 * - Fall back: when the hour field does not cover all 24 hours (a job at fixed wall-clock times),
 *   a wall-clock time that repeats fires only at its first occurrence (`0 30 1 * * *` fires once
 *   on 2026-11-01). When it covers every hour (`*\/5 * * * * *`, `0 0 * * * *`), the job is
 *   periodic in real time and fires through both occurrences of the repeated hour.
 */
export class CronSchedule implements Schedule {
  /** The canonical six-field expression (see `normalizeCronExpression`). */
  readonly expression: string;
  /** The IANA zone the expression is read in; `null` means UTC. */
  readonly timezone: string | null;
  private readonly cron: CronExpression;
  private readonly zone: string;
  /** Whether a repeated (fall-back) wall-clock time fires only once. */
  private readonly onceInRepeatedHour: boolean;
  private lastAfter = Number.NaN;
  private lastNext: number | null = null;

  /**
   * Checks the time zone (first), then the expression; throws `InvalidJobError` (field
   * `timezone` or `cron`, `cron-parser`'s message appended) when either is bad or the expression
   * has no next fire (such as `0 0 0 30 2 *`, February 30th).
   */
  constructor(expression: unknown, timezone: unknown = null) {
    this.timezone = validateTimezone(timezone);
    this.expression = normalizeCronExpression(expression);
    this.zone = this.timezone ?? 'UTC';
    try {
      this.cron = CronExpressionParser.parse(this.expression, { tz: this.zone });
    } catch (err) {
      throw new InvalidJobError('cron', expression, `is not a valid cron expression: ${text(err)}`);
    }
    this.onceInRepeatedHour = this.timezone !== null && this.cron.fields.hour.values.length < 24;
    const now = Date.now();
    let first: number;
    try {
      first = this.compute(now);
    } catch (err) {
      throw new InvalidJobError('cron', expression, `never fires: ${text(err)}`);
    }
    this.lastAfter = now;
    this.lastNext = first;
  }

  /**
   * The first fire strictly after `afterMs`, or `null` when there is none (or `afterMs` is not a
   * valid date). Calling it again with the same `afterMs` returns the remembered answer.
   */
  next(afterMs: number): number | null {
    if (afterMs === this.lastAfter) return this.lastNext;
    let result: number | null;
    try {
      result = this.compute(afterMs);
    } catch {
      result = null;
    }
    this.lastAfter = afterMs;
    this.lastNext = result;
    return result;
  }

  /** The next fire after `afterMs`, past a repeated hour when that applies; throws on failure. */
  private compute(afterMs: number): number {
    const fire = this.nextFire(afterMs);
    if (!this.onceInRepeatedHour) return fire.getTime();
    const repeatedUntil = this.repeatedWindowEnd(fire);
    return repeatedUntil === null ? fire.getTime() : this.nextFire(repeatedUntil - 1).getTime();
  }

  private nextFire(afterMs: number): CronDate {
    this.cron.reset(new Date(afterMs));
    return this.cron.next();
  }

  /**
   * When `fire`'s wall-clock time already occurred earlier (it lies in the second pass of an hour
   * the clocks were set back over), the end of that second pass (exclusive); else `null`.
   */
  private repeatedWindowEnd(fire: CronDate): number | null {
    const at = fire.getTime();
    const offset = fire.getUTCOffset();
    const before = this.offsetAt(at - FALL_BACK_LOOKBACK_MS);
    if (before <= offset) return null;
    const shiftMs = (before - offset) * 60_000;
    // Same wall-clock time `shiftMs` earlier, still on the old offset: `fire` repeats it.
    if (this.offsetAt(at - shiftMs) !== before) return null;
    // Bisect for the transition: lo on the old offset, hi on the new one.
    let lo = at - shiftMs;
    let hi = at;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi + shiftMs;
  }

  /** The zone's UTC offset (minutes) at an instant. */
  private offsetAt(ms: number): number {
    return new CronDate(ms, this.zone).getUTCOffset();
  }
}

/**
 * Builds a `CronSchedule`, checking `timezone` first (`null`/`undefined` mean UTC), then
 * `expression`; throws `InvalidJobError` naming the bad field.
 */
export function parseCronSchedule(expression: unknown, timezone: unknown): CronSchedule {
  return new CronSchedule(expression, timezone);
}

/**
 * Shares one `CronSchedule` per (canonical expression, time zone) pair, so jobs with the same
 * schedule share its parse and its remembered next fire. Holds at most `capacity` schedules,
 * dropping the least recently used one when full. One cache per scheduler.
 */
export class CronScheduleCache {
  private readonly schedules = new Map<string, CronSchedule>();

  /** @param capacity Most schedules kept (default 1000). */
  constructor(readonly capacity = 1000) {}

  /** How many schedules are held. */
  get size(): number {
    return this.schedules.size;
  }

  /**
   * The shared schedule of `expression` read in `timezone` (`null` means UTC); validates like
   * `parseCronSchedule` (time zone first) and throws its `InvalidJobError`.
   */
  get(expression: string, timezone: string | null): CronSchedule {
    let canonical: string;
    try {
      canonical = normalizeCronExpression(expression);
    } catch (err) {
      validateTimezone(timezone); // a bad time zone is reported before a bad expression
      throw err;
    }
    // Only a string or null/undefined zone can have been stored (anything else is invalid).
    const zone: unknown = timezone;
    const key =
      zone === null || zone === undefined
        ? canonical
        : typeof zone === 'string'
          ? `${canonical}\n${zone}`
          : undefined;
    if (key === undefined) return new CronSchedule(expression, timezone);
    const schedules = this.schedules;
    const hit = schedules.get(key);
    if (hit !== undefined) {
      // Re-insert: a Map iterates in insertion order, so its first key is the least recently used.
      schedules.delete(key);
      schedules.set(key, hit);
      return hit;
    }
    const schedule = new CronSchedule(expression, timezone);
    if (this.capacity >= 1) {
      if (schedules.size >= this.capacity) {
        const oldest = schedules.keys().next();
        if (!oldest.done) schedules.delete(oldest.value);
      }
      schedules.set(key, schedule);
    }
    return schedule;
  }

  /** Drops every schedule. */
  clear(): void {
    this.schedules.clear();
  }
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
