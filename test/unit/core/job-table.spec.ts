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

  it('loads a job read at start into the entry held for its id, as new', () => {
    const table = new JobTable(() => 1_000);
    const job = makeJob();
    const entry = table.track(job, null);
    Object.assign(entry, { busy: true, queued: {}, after: {}, handling: true, writing: 2 });
    entry.catchUpRuns = 3;
    const stored = makeJob({ id: job.id, name: 'as stored', payload: { a: 1 } });
    expect(table.load(stored, null)).toBe(entry);
    expect(entry).toMatchObject({
      job: stored,
      gen: 1,
      busy: false,
      queued: null,
      after: null,
      handling: false,
      writing: 0,
      catchUpRuns: 0,
      removed: false,
    });
    expect(Object.isFrozen(stored.payload)).toBe(true);
    const fresh = makeJob();
    expect(table.load(fresh, null)).toBe(table.get(fresh.id));
    expect(table.size).toBe(2);
  });

  it('keeps only the entries of the jobs loaded: the others are forgotten', () => {
    const table = new JobTable(() => 1_000);
    const [kept, gone, unschedulable] = [makeJob(), makeJob(), makeJob()];
    const goneEntry = table.track(gone, null);
    table.track(unschedulable, null);
    table.load(kept, null);
    // Read again but not loaded (its cron could not be parsed): its old job is still held.
    table.keepOnly(new Set([kept, makeJob({ id: unschedulable.id })]));
    expect(table.size).toBe(1);
    expect(table.get(kept.id)?.job).toBe(kept);
    expect(goneEntry.removed).toBe(true);
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
