import { describe, expect, it } from 'vitest';
import { Deadlines } from '../../../lib/core/deadlines.js';
import type { ActiveRun } from '../../../lib/core/job-entry.js';

const run = (deadline: number): ActiveRun => ({ deadline }) as ActiveRun;

describe('Deadlines', () => {
  it('finds the earliest deadline across time-outs, and the runs due, in O(time-outs)', () => {
    const deadlines = new Deadlines();
    expect(deadlines.next()).toBe(Infinity);
    // Called in this order: a 5-minute run, then 2-second ones (due earlier though called later).
    const long = run(300_000);
    const [short1, short2] = [run(2_010), run(2_020)];
    deadlines.add(long, 300_000);
    deadlines.add(short1, 2_000);
    deadlines.add(short2, 2_000);
    expect(deadlines.next()).toBe(2_010);
    expect(deadlines.due(2_015)).toEqual([short1]);
    deadlines.delete(short1, 2_000);
    expect(deadlines.next()).toBe(2_020);
    deadlines.delete(short2, 2_000);
    expect(deadlines.next()).toBe(300_000);
    expect(deadlines.due(300_000)).toEqual([long]);
    deadlines.delete(long, 300_000);
    deadlines.delete(long, 300_000);
    expect(deadlines.next()).toBe(Infinity);
  });
});
