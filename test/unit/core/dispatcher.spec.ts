import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../../../lib/core/dispatcher.js';
import type { ActiveRun, Fire, JobEntry } from '../../../lib/core/job-entry.js';

/** A stand-in fire due at `at`, of a job of its own with handler `handlerName`. */
function fireAt(at: number, seq = 0, handlerName = 'h'): Fire {
  const entry = { queued: null, job: { handlerName } } as unknown as JobEntry;
  return { at, seq, entry } as unknown as Fire;
}

/** A stand-in run of `handlerName`. */
const run = (handlerName = 'h'): ActiveRun => ({ handlerName }) as ActiveRun;

describe('Dispatcher', () => {
  it('has a slot while fewer than its slots hold one, claims counted', () => {
    const slots = new Dispatcher(2, true);
    expect(slots.hasSlot()).toBe(true);
    slots.occupy(run());
    const claim = run();
    slots.claimBegun(claim);
    expect(slots.hasSlot()).toBe(false);
    slots.claimEnded(claim);
    expect(slots.hasSlot()).toBe(true);
  });

  it('gives waiting fires back in due order once a slot is free, each letting its job go', () => {
    const slots = new Dispatcher(1, false);
    const held = run();
    slots.occupy(held);
    const [late, early] = [fireAt(2_000, 1), fireAt(1_000, 2)];
    slots.enqueue(late);
    slots.enqueue(early);
    expect(late.entry.queued).toBe(late);
    expect(slots.queued).toBe(2);
    expect(slots.oldestDue).toBe(1_000);
    expect(slots.next()).toBeUndefined(); // no slot free
    slots.release(held);
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

  it('holds a handler to its concurrency without holding up the fires of others', () => {
    const slots = new Dispatcher(5, false, {
      limited: true,
      concurrency: (name) => (name === 'slow' ? 2 : Infinity),
    });
    const running = [run('slow'), run('slow')];
    for (const r of running) slots.occupy(r);
    const [slow1, slow2, other] = [
      fireAt(1_000, 1, 'slow'),
      fireAt(1_001, 2, 'slow'),
      fireAt(1_002, 3, 'other'),
    ];
    expect(slots.canStart(slow1)).toBe(false);
    expect(slots.canStart(other)).toBe(true);
    for (const fire of [slow1, slow2, other]) slots.enqueue(fire);
    expect(slots.queued).toBe(3);
    expect(slots.oldestDue).toBe(1_000);
    // The slow ones wait in their handler's line: the other one goes first.
    expect(slots.next()).toBe(other);
    expect(slots.next()).toBeUndefined();
    // A slow run ends: the earliest slow fire comes back, in due order.
    slots.release(running[0]!);
    expect(slots.next()).toBe(slow1);
    slots.occupy(run('slow'));
    expect(slots.next()).toBeUndefined();
    slots.release(running[1]!);
    expect(slots.next()).toBe(slow2);
    expect(slots.queued).toBe(0);
  });

  it('counts a claim against its handler, and gives every waiting fire back at stop', () => {
    const slots = new Dispatcher(5, true, { limited: true, concurrency: () => 1 });
    const claim = run('a');
    slots.claimBegun(claim);
    const [a, b] = [fireAt(1_000, 1, 'a'), fireAt(1_000, 2, 'b')];
    expect(slots.canStart(a)).toBe(false);
    slots.enqueue(a);
    slots.enqueue(b);
    const taken = [slots.take(), slots.take(), slots.take()];
    expect(taken).toContain(a);
    expect(taken).toContain(b);
    expect(taken[2]).toBeUndefined();
    slots.claimEnded(claim);
    expect(slots.canStart(a)).toBe(true);
  });
});
