/** What a duration may be, for error messages. */
export const DURATION_HINT =
  "milliseconds (a finite number >= 0) or a string such as '500ms', '5s', '10m', '1h'";

/** Milliseconds per unit of a duration string. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * The whole-string grammar of a duration string: one or more `<decimal><unit>` groups, units
 * `ms`, `s`, `m`, `h`, `d` (lowercase), spaces allowed around and between them. Linear: no
 * group can match a prefix of the next one, so there is no backtracking to blow up.
 */
const DURATION_PATTERN = /^\s*(?:(?:\d+(?:\.\d+)?|\.\d+)\s*(?:ms|s|m|h|d)\s*)+$/;
const DURATION_GROUP = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)/g;

/**
 * Reads a duration as milliseconds, or returns `null` when it is not one.
 *
 * - A number must be finite and >= 0 (`-0` reads as `0`); it is returned as is.
 * - A string must match `<decimal><unit>` groups (`'500ms'`, `'5s'`, `'10m'`, `'1h'`, `'1d'`,
 *   `'1h30m'`, `'1.5h'`, `'1h 30m'`), units lowercase; the groups are summed and the result is
 *   rounded to whole milliseconds (`'1.1s'` is 1100, `'0.4ms'` is 0).
 * - Anything else (`''`, `'5'`, `'5x'`, `'-5s'`, `'Infinity'`, booleans, objects, `null`,
 *   `undefined`) is `null`.
 *
 * Written here rather than taken from `parse-duration`: its 2.x is ES-module only, which the
 * CommonJS build cannot `require` under Jest on Node 20 and 22, and this grammar is strict (the
 * library reads `'5s junk'` as 5000), so the pattern above did the validating already.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value + 0 : null;
  }
  if (typeof value !== 'string' || !DURATION_PATTERN.test(value)) return null;
  let ms = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_GROUP)) {
    ms += Number(amount) * UNIT_MS[unit!]!;
  }
  return Number.isFinite(ms) ? Math.round(ms) : null;
}
