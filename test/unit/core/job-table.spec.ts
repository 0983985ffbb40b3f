import { describe, expect, it } from 'vitest';
import { JobTable } from '../../../lib/core/job-table.js';
import { makeJob } from '../../../lib/testing/fixtures.js';

describe('JobTable', () => {
  it('holds a job once per id; a replacement keeps the entry and its run state', () => {
    const table = new JobTable(() => 1_000);
    const job = makeJob();
    const entry = table.track(job, table.scheduleOf(job));
    entry.busy = true;
    expect(table.track(makeJob({ id: job.id }), null)).toBe(entry); // not replaced
    expect(entry.job).toBe(job);
    const newer = makeJob({ id: job.id, name: 'newer' });
    expect(table.track(newer, null, true)).toBe(entry);
    expect(entry).toMatchObject({ job: newer, schedule: null, busy: true });
    expect(table.size).toBe(1);
  });

  it('freezes payloads and shares one Date per instant among the jobs it holds', () => {
    const table = new JobTable(() => 1_000);
    const [a, b] = [makeJob(), makeJob()];
    table.track(a, null);
    table.track(b, null);
    expect(a.createdAt).toBe(b.createdAt);
    expect(a.nextRunAt).toBe(b.nextRunAt);
    expect(Object.isFrozen(a.payload)).toBe(true);
    expect(table.clockDate(5)).toBe(table.clockDate(5));
    expect(table.clockDate(6).getTime()).toBe(6);
  });

  it('forgets a job: it is marked removed, its queued fire dropped, and it is no longer held', () => {
    const table = new JobTable(() => 1_000);
    const job = makeJob();
    const entry = table.track(job, null);
    entry.busy = true;
    entry.queued = {} as never;
    table.forget(entry);
    expect(entry).toMatchObject({ removed: true, gen: 1, busy: false, queued: null });
    expect(table.get(job.id)).toBeUndefined();
  });

  it('touches a job: its version goes up, and updatedAt is the clock', () => {
    const table = new JobTable(() => 42_000);
    const job = makeJob({ version: 3 });
    table.touch(job);
    expect(job.version).toBe(4);
    expect(job.updatedAt.getTime()).toBe(42_000);
  });

  it('gives each job type its schedule; a bad cron throws', () => {
    const table = new JobTable(() => 0);
    expect(table.scheduleOf(makeJob({ type: 'once', cron: null }))).toBeNull();
    expect(
      table.scheduleOf(makeJob({ type: 'interval', cron: null, interval: 1_000 }))?.next(0),
    ).toBe(1_000);
    expect(() => table.scheduleOf(makeJob({ cron: 'not a cron' }))).toThrow();
  });
});
