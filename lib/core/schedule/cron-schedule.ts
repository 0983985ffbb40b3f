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

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far to look for a fall-back transition: more than any real DST shift (2h at most). */
const FALL_BACK_LOOKBACK_MS = 3 * 3_600_000;
/** Most wall-clock times the fallback walks (a repeated hour of a once-a-second job is 3600). */
const WALL_CLOCK_STEP_LIMIT = 20_000;

/**
 * Checks a cron time zone: `null`/`undefined` mean UTC (returns `null`); otherwise it must be a
 * non-empty IANA zone name that `Intl` knows. Throws `InvalidJobError` on field `timezone`.
 */
export function validateTimezone(timezone: unknown): string | null {
  if (timezone === null || timezone === undefined) return null;
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    throw new InvalidJobError('timezone', timezone, TIMEZONE_PROBLEM);
  }
  // Node 24's Intl takes UTC offsets ("+05:00") as zones, Node 20's does not: refused on every
  // version, so that all instances read a stored job the same way (an offset has no DST anyway).
  if (/^[+-]/.test(timezone)) {
    throw new InvalidJobError(
      'timezone',
      timezone,
      `is a UTC offset, not a time zone: it ${TIMEZONE_PROBLEM}; for a fixed offset use "Etc/GMT-5" (= +05:00; the Etc sign is reversed)`,
    );
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
 * Daylight saving, as `cron-parser` does it plus rules of ours:
 * - Spring forward: a fire in the skipped hour moves to the same minute of the hour after it
 *   (New York, 2026-03-08: `0 30 2 * * *` fires at 03:30 EDT). Only the first such fire of the day
 *   is kept when several fall in the skipped hour (`0 0,30 2 * * *` fires at 03:00 EDT, not 03:30).
 * - Fall back: when the hour field does not cover all 24 hours (a job at fixed wall-clock times),
 *   a wall-clock time that repeats fires only at its first occurrence (`0 30 1 * * *` fires once
 *   on 2026-11-01). When it covers every hour (`*\/5 * * * * *`, `0 0 * * * *`), the job is
 *   periodic in real time and fires through both occurrences of the repeated hour.
 * - Where `cron-parser` fails near a transition (it throws, or answers an instant not after the one
 *   asked about: seen at the 30-minute fall-back of `Australia/Lord_Howe` and the 03:45 one of
 *   `Pacific/Chatham`), the fire is found by walking wall-clock matches instead, with the same rules.
 */
export class CronSchedule implements Schedule {
  /** The canonical six-field expression (see `normalizeCronExpression`). */
  readonly expression: string;
  /** The IANA zone the expression is read in; `null` means UTC. */
  readonly timezone: string | null;
  private readonly cron: CronExpression;
  private readonly zone: string;
  /** Whether the hour field covers all 24 hours. */
  private readonly everyHour: boolean;
  /** The expression read in UTC, matched against wall-clock times: the fallback's, made on first use. */
  private wallCron: CronExpression | undefined;
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
    this.everyHour = this.cron.fields.hour.values.length === 24;
    const now = Date.now();
    let first: number | null;
    try {
      first = this.compute(now);
    } catch (err) {
      throw new InvalidJobError('cron', expression, `never fires: ${text(err)}`);
    }
    if (first === null) {
      let reason = 'no date matches it';
      try {
        this.cron.reset(new Date(now));
        this.cron.next();
      } catch (err) {
        reason = text(err);
      }
      throw new InvalidJobError('cron', expression, `never fires: ${reason}`);
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

  /** The next fire after `afterMs`, or `null`; throws on an invalid `afterMs`. */
  private compute(afterMs: number): number | null {
    const fire = this.parserNext(afterMs);
    if (fire === undefined) return this.wallClockNext(afterMs);
    if (this.everyHour || this.timezone === null) return fire.getTime();
    const at = fire.getTime();
    const shift = this.repeatShift(at, fire.getUTCOffset() * MINUTE_MS);
    if (shift === 0) return at;
    // `fire` shows again a wall-clock time first shown `shift` earlier. That first showing is the
    // fire when it is still ahead (cron-parser can skip it: midnight in America/Havana); else the
    // whole second pass is skipped.
    if (at - shift > afterMs) return at - shift;
    const after = this.secondPassEnd(at, shift) - 1;
    return this.parserNext(after)?.getTime() ?? this.wallClockNext(after);
  }

  /** `cron-parser`'s next fire, or `undefined` where it fails (throws, or is not after `afterMs`). */
  private parserNext(afterMs: number): CronDate | undefined {
    const cron = this.cron;
    cron.reset(new Date(afterMs)); // throws on an invalid date
    let fire: CronDate;
    try {
      fire = cron.next();
    } catch {
      return undefined;
    }
    return fire.getTime() > afterMs ? fire : undefined;
  }

  /**
   * When the wall-clock time at `at` (UTC offset `offset`) was already shown earlier (`at` lies in
   * the second pass of a time span the clocks were set back over), how much earlier; else 0.
   */
  private repeatShift(at: number, offset: number): number {
    const before = this.offsetAt(at - FALL_BACK_LOOKBACK_MS);
    if (before <= offset) return 0;
    const shift = before - offset;
    return this.offsetAt(at - shift) === before ? shift : 0;
  }

  /** The end (exclusive) of the second pass that `at` lies in, `shift` being its length. */
  private secondPassEnd(at: number, shift: number): number {
    // Bisect for the transition: lo on the old offset, hi on the new one.
    const old = this.offsetAt(at - shift);
    let lo = at - shift;
    let hi = at;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offsetAt(mid) === old) lo = mid;
      else hi = mid;
    }
    return hi + shift;
  }

  /**
   * The fallback: walks the wall-clock times that match (the expression read in UTC), from low
   * enough to see a repeated hour ahead, mapping each to the instants that show it, and keeps the
   * first instant after `afterMs`.
   */
  private wallClockNext(afterMs: number): number | null {
    const wall = (this.wallCron ??= CronExpressionParser.parse(this.expression, { tz: 'UTC' }));
    const low = Math.min(
      this.offsetAt(afterMs - FALL_BACK_LOOKBACK_MS),
      this.offsetAt(afterMs + FALL_BACK_LOOKBACK_MS),
    );
    let w = afterMs + low - 1;
    let best = Infinity;
    for (let i = 0; i < WALL_CLOCK_STEP_LIMIT; i++) {
      wall.reset(new Date(w));
      try {
        w = wall.next().getTime();
      } catch {
        break; // no later match
      }
      const early = this.offsetAt(w - DAY_MS);
      const late = this.offsetAt(w + DAY_MS);
      for (const at of this.instantsShowing(w, early, late)) {
        if (at > afterMs && at < best) best = at;
      }
      // Later wall-clock times show at instants after `w - max offset`.
      if (best <= w - Math.max(early, late)) return best;
    }
    return best === Infinity ? null : best;
  }

  /**
   * The instants (ascending) whose wall-clock time is `wall`, as fires: a time skipped by a spring
   * forward maps to the instant the old offset gives (later, by the gap); a repeated time gives its
   * second instant too only when the hour field covers every hour.
   */
  private instantsShowing(wall: number, early: number, late: number): number[] {
    if (early === late) return [wall - early];
    const first = wall - Math.max(early, late);
    const second = wall - Math.min(early, late);
    const firstOk = this.offsetAt(first) === wall - first;
    const secondOk = this.offsetAt(second) === wall - second;
    if (firstOk && secondOk) return this.everyHour ? [first, second] : [first];
    if (firstOk) return [first];
    if (secondOk) return [second];
    return [wall - early];
  }

  /** The zone's UTC offset (milliseconds) at an instant. */
  private offsetAt(ms: number): number {
    return new CronDate(ms, this.zone).getUTCOffset() * MINUTE_MS;
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
