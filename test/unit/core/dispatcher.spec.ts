import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../lib/core/dispatcher.js';
import type { ActiveRun, Fire, JobEntry } from '../../../lib/core/job-entry.js';

/** A stand-in fire due at `at`, of a job of its own. */
function fireAt(at: number, seq = 0): Fire {
  const entry = { queued: null } as unknown as JobEntry;
  return { at, seq, entry } as unknown as Fire;
}

const run = (): ActiveRun => ({}) as ActiveRun;

describe('Dispatcher', () => {
  it('has a slot while fewer than its slots hold one, claims counted', () => {
    const slots = new Dispatcher(2, true);
    expect(slots.hasSlot()).toBe(true);
    slots.active.add(run());
    slots.claimBegun();
    expect(slots.hasSlot()).toBe(false);
    slots.claimEnded();
    expect(slots.hasSlot()).toBe(true);
  });

  it('gives waiting fires back in due order once a slot is free, each letting its job go', () => {
    const slots = new Dispatcher(1, false);
    const held = run();
    slots.active.add(held);
    const [late, early] = [fireAt(2_000, 1), fireAt(1_000, 2)];
    slots.enqueue(late);
    slots.enqueue(early);
    expect(late.entry.queued).toBe(late);
    expect(slots.queued).toBe(2);
    expect(slots.oldestDue).toBe(1_000);
    expect(slots.next()).toBeUndefined(); // no slot free
    slots.active.delete(held);
    expect(slots.next()).toBe(early);
    expect(early.entry.queued).toBeNull();
    expect(slots.next()).toBe(late);
    expect(slots.next()).toBeUndefined();
    expect(slots.oldestDue).toBe(Infinity);
  });

  it('passes over fires their job dropped while they waited', () => {
    const slots = new Dispatcher(1, false);
    const [dropped, kept] = [fireAt(1_000), fireAt(2_000)];
    slots.enqueue(dropped);
    slots.enqueue(kept);
    dropped.entry.queued = null; // paused, removed or redefined meanwhile
    expect(slots.next()).toBe(kept);
  });

  it('in cluster mode, orders the fires of one second by a random draw of its own', () => {
    const slots = new Dispatcher(1, true);
    const fire = fireAt(1_000, 7);
    slots.enqueue(fire);
    expect(fire.seq).not.toBe(7);
    expect(fire.seq).toBeGreaterThanOrEqual(0);
    expect(fire.seq).toBeLessThan(1);
  });
});
