import parse from 'parse-duration';

/** What a duration may be, for error messages. */
export const DURATION_HINT =
  "milliseconds (a finite number >= 0) or a string such as '500ms', '5s', '10m', '1h'";

/**
 * The whole-string grammar of a duration string: one or more `<decimal><unit>` groups, units
 * `ms`, `s`, `m`, `h`, `d` (lowercase), spaces allowed around and between them. Anchored, because
 * `parse-duration` alone is lenient (it reads `'5s junk'` as 5000).
 */
const DURATION_PATTERN = /^\s*(?:(?:\d+(?:\.\d+)?|\.\d+)\s*(?:ms|s|m|h|d)\s*)+$/;

/**
 * Reads a duration as milliseconds, or returns `null` when it is not one.
 *
 * - A number must be finite and >= 0 (`-0` reads as `0`); it is returned as is.
 * - A string must match `<decimal><unit>` groups (`'500ms'`, `'5s'`, `'10m'`, `'1h'`, `'1d'`,
 *   `'1h30m'`, `'1.5h'`, `'1h 30m'`), units lowercase; the result is rounded to whole
 *   milliseconds (`'1.1s'` is 1100, `'0.4ms'` is 0).
 * - Anything else (`''`, `'5'`, `'5x'`, `'-5s'`, `'Infinity'`, booleans, objects, `null`,
 *   `undefined`) is `null`.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value + 0 : null;
  }
  if (typeof value !== 'string' || !DURATION_PATTERN.test(value)) return null;
  const ms = parse(value);
  if (ms === null || !Number.isFinite(ms) || ms < 0) return null;
  return Math.round(ms);
}
