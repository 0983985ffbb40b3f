import cronstrue from 'cronstrue';
import type { Job } from '../interfaces/job.interface.js';

/**
 * The cron expression in words (`cronstrue`, 24-hour clock), with its zone: "Every 5 seconds",
 * "At 02:30, Monday through Friday (Europe/Paris)"; `null` when cronstrue cannot read it.
 */
export function cronInWords(expression: string, timezone: string | null): string | null {
  try {
    const text = cronstrue.toString(expression, {
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true,
      verbose: false,
    });
    return timezone === null ? `${text} (UTC)` : `${text} (${timezone})`;
  } catch {
    return null;
  }
}

const UNITS: ReadonlyArray<readonly [number, string]> = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
  [1, 'millisecond'],
];

/** A duration in words: "10 minutes", "1 hour 30 minutes", "1.5 seconds" is "1 second 500 milliseconds". */
export function durationInWords(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [size, unit] of UNITS) {
    const count = Math.floor(rest / size);
    if (count === 0) continue;
    parts.push(`${count} ${unit}${count === 1 ? '' : 's'}`);
    rest -= count * size;
  }
  return parts.length === 0 ? '0 milliseconds' : parts.join(' ');
}

/** A job's schedule in words, whatever its type. */
export function scheduleInWords(job: Job): string {
  if (job.type === 'cron') return cronInWords(job.cron ?? '', job.timezone) ?? `cron ${job.cron}`;
  if (job.type === 'interval') return `Every ${durationInWords(job.interval ?? 0)}`;
  return job.runAt === null ? 'Once' : `Once, at ${job.runAt.toISOString()}`;
}
