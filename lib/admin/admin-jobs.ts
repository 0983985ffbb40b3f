import { CronScheduleCache } from '../core/schedule/cron-schedule.js';
import { IntervalSchedule } from '../core/schedule/interval-schedule.js';
import type { Schedule } from '../core/schedule/schedule.js';
import type { Job } from '../interfaces/job.interface.js';
import type { Run, RunStatus } from '../interfaces/run.interface.js';
import { cronInWords, scheduleInWords } from './schedule-text.js';

/** How many next fires a job shows. */
export const NEXT_FIRES = 5;
/** How many of its last runs a job shows. */
export const RECENT_RUNS = 10;

/** One of a job's last runs, as the dashboard shows it. */
export interface RecentRun {
  id: string;
  status: RunStatus;
  startAt: Date;
  duration: number;
}

/** A job as the admin API returns it. */
export type AdminJob = Job & {
  /** Its next fires (up to 5); none when paused or finished. */
  nextFires: Date[];
  scheduleText: string;
  /** The cron expression in words, for cron jobs. */
  cronText: string | null;
  /** Its last runs, newest first. */
  recentRuns: RecentRun[];
};

/** Computes what the dashboard shows of jobs: next fires, schedules in words. */
export class AdminJobs {
  private readonly crons = new CronScheduleCache(200);
  /** Cron expressions in words, by expression and zone (a page's jobs share a few). */
  private readonly cronTexts = new Map<string, string | null>();

  /** The job, with its next fires, its schedule in words and its last runs. */
  present(job: Job, runs: readonly Run[], now: number): AdminJob {
    return {
      ...job,
      nextFires: this.nextFires(job, now),
      scheduleText:
        job.type === 'cron'
          ? (this.cronText(job.cron ?? '', job.timezone) ?? `cron ${job.cron}`)
          : scheduleInWords(job),
      cronText: job.type === 'cron' ? this.cronText(job.cron ?? '', job.timezone) : null,
      recentRuns: runs.map(({ id, status, startAt, duration }) => ({
        id,
        status,
        startAt,
        duration,
      })),
    };
  }

  /** The cron expression in words (remembered: at most 200 of them). */
  cronText(expression: string, timezone: string | null): string | null {
    const key = `${timezone ?? ''} ${expression}`;
    let text = this.cronTexts.get(key);
    if (text === undefined && !this.cronTexts.has(key)) {
      text = cronInWords(expression, timezone);
      if (this.cronTexts.size >= 200) this.cronTexts.clear();
      this.cronTexts.set(key, text);
    }
    return text ?? null;
  }

  /** The next `count` fires of a cron expression in a zone (`InvalidJobError` when it is not one). */
  cronFires(expression: string, timezone: string | null, now: number, count = NEXT_FIRES): Date[] {
    return follow(this.crons.get(expression, timezone), now, count);
  }

  private nextFires(job: Job, now: number): Date[] {
    if (job.status === 'paused' || job.status === 'completed' || job.status === 'failed') return [];
    const first = job.nextRunAt;
    if (job.type === 'once') return first === null ? [] : [first];
    const schedule: Schedule =
      job.type === 'cron'
        ? this.crons.get(job.cron ?? '', job.timezone)
        : new IntervalSchedule(job.interval ?? 1);
    if (first === null) return follow(schedule, now, NEXT_FIRES);
    return [first, ...follow(schedule, first.getTime(), NEXT_FIRES - 1)];
  }
}

/** The `count` fires of a schedule after `after`. */
function follow(schedule: Schedule, after: number, count: number): Date[] {
  const fires: Date[] = [];
  let at = schedule.next(after);
  while (at !== null && fires.length < count) {
    fires.push(new Date(at));
    at = schedule.next(at);
  }
  return fires;
}
