/**
 * How `run.ts` and its sections write figures: numbers, ratios, lateness triples, markdown tables.
 * `n/a` stands for a figure a scenario did not report (it failed or was skipped).
 */

/** An integer with thousands separators. */
export const int = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';

/** Milliseconds, rounded. */
export const ms = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${Math.round(n)}` : 'n/a';

/** A number with `digits` decimals. */
export const num = (n: unknown, digits = 2): string =>
  typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : 'n/a';

/** Milliseconds as seconds, e.g. `1.25 s`. */
export const secs = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${(n / 1000).toFixed(n < 100 ? 3 : 2)} s` : 'n/a';

/** Bytes as KiB. */
export const kib = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${(n / 1024).toFixed(2)} KiB` : 'n/a';

/** Bytes as MiB. */
export const mib = (n: unknown): string =>
  typeof n === 'number' && Number.isFinite(n) ? `${(n / 1024 / 1024).toFixed(1)} MiB` : 'n/a';

/** `a / b` as `0.54x`. */
export function ratio(a: unknown, b: unknown): string {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !(b !== 0)) {
    return 'n/a';
  }
  return `${(a / b).toFixed(2)}x`;
}

/** A list of figures, e.g. `185 / 362 / 517`. */
export const list = (values: unknown, format: (n: unknown) => string): string =>
  Array.isArray(values) ? values.map(format).join(' / ') : 'n/a';

/** A markdown table; the first row is the header. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const lines = rows.map((r) => `| ${r.join(' | ')} |`);
  lines.splice(1, 0, `|${rows[0]!.map(() => ' --- ').join('|')}|`);
  return lines.join('\n');
}
