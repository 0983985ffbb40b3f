import type { Job } from '../interfaces/job.interface.js';
import { deepFreeze } from './deep-freeze.js';
import { dropQueued, type JobEntry } from './job-entry.js';
import { CronScheduleCache } from './schedule/cron-schedule.js';
import { IntervalSchedule } from './schedule/interval-schedule.js';
import type { Schedule } from './schedule/schedule.js';

/**
 * The jobs a scheduler holds, by id, with their schedules. Held for a job's life, equal things are
 * shared: one parsed cron per expression and zone, and one Date per instant (jobs created together,
 * fires at the same instant, runs started in the same millisecond), so that a burst of fires
 * allocates a few Dates, not several per run. The core never mutates a Date and hands out only
 * copies (snapshots, the handler's ctx).
 */
export class JobTable {
  private readonly entries = new Map<string, JobEntry>();
  readonly crons = new CronScheduleCache();
  private lastClockDate = new Date(NaN);
  private lastFireDate = new Date(NaN);

  constructor(private readonly now: () => number) {}

  get size(): number {
    return this.entries.size;
  }

  get(id: string): JobEntry | undefined {
    return this.entries.get(id);
  }

  values(): IterableIterator<JobEntry> {
    return this.entries.values();
  }

  /** The schedule of a recurring job (null for a once job); throws for a cron that cannot parse. */
  scheduleOf(job: Job): Schedule | null {
    if (job.type === 'cron') return this.crons.get(job.cron as string, job.timezone);
    if (job.type === 'interval') return new IntervalSchedule(job.interval as number);
    return null;
  }

  /** Holds a job (replacing what was held for its id, keeping a run in flight's state). */
  track(job: Job, schedule: Schedule | null, replace = false): JobEntry {
    const held = this.entries.get(job.id);
    if (held !== undefined && !replace) return held;
    this.share(job);
    if (held !== undefined) {
      held.job = job;
      held.schedule = schedule;
      return held;
    }
    const entry: JobEntry = {
      job,
      schedule,
      gen: 0,
      busy: false,
      queued: null,
      removed: false,
      lastTriggerAt: 0,
      catchUpFrom: null,
      catchUpRuns: 0,
      writing: 0,
      syncedAt: 0,
      stale: false,
      handling: false,
      after: null,
    };
    this.entries.set(job.id, entry);
    return entry;
  }

  /** Lets go of every job held (a start loads them again from storage). */
  clear(): void {
    this.entries.clear();
  }

  /**
   * Equal things shared: the payload frozen (handed to handlers as is), and the job's Dates those
   * of the instants held already.
   */
  private share(job: Job): void {
    job.payload = deepFreeze(job.payload);
    job.createdAt = this.clockDate(job.createdAt.getTime());
    job.updatedAt = this.clockDate(job.updatedAt.getTime());
    if (job.nextRunAt !== null) job.nextRunAt = this.fireDate(job.nextRunAt.getTime());
  }

  /** The job was removed (here or by another instance): never fired here again. */
  forget(entry: JobEntry): void {
    entry.removed = true;
    entry.gen++;
    dropQueued(entry);
    if (this.entries.get(entry.job.id) === entry) this.entries.delete(entry.job.id);
  }

  /** A change to the job: its version goes up and `updatedAt` is now. */
  touch(job: Job, now = this.now()): void {
    job.version++;
    job.updatedAt = this.clockDate(now);
  }

  /** A Date of a clock reading; runs started or ended in the same millisecond share it. */
  clockDate(ms: number): Date {
    if (this.lastClockDate.getTime() !== ms) this.lastClockDate = new Date(ms);
    return this.lastClockDate;
  }

  /** A Date of a fire instant, shared by the jobs that fire at it. */
  fireDate(ms: number): Date {
    if (this.lastFireDate.getTime() !== ms) this.lastFireDate = new Date(ms);
    return this.lastFireDate;
  }
}
