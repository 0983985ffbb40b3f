import type { ActiveRun } from './job-entry.js';

/**
 * The runs whose handler is going, by deadline. Runs with one time-out are held in one
 * insertion-ordered set, in which call order is deadline order; there are as few sets as distinct
 * time-outs (the scheduler's and the jobs' own), so the earliest deadline is a look at the head of
 * each, and adding or removing a run costs O(1).
 */
export class Deadlines {
  private readonly byTimeout = new Map<number, Set<ActiveRun>>();

  /** Holds `active`, due at `active.deadline` (its time-out: `timeout` ms). */
  add(active: ActiveRun, timeout: number): void {
    let runs = this.byTimeout.get(timeout);
    if (runs === undefined) this.byTimeout.set(timeout, (runs = new Set()));
    runs.add(active);
  }

  delete(active: ActiveRun, timeout: number): void {
    const runs = this.byTimeout.get(timeout);
    if (runs === undefined || !runs.delete(active)) return;
    if (runs.size === 0) this.byTimeout.delete(timeout);
  }

  /** The earliest deadline held (Infinity when none). */
  next(): number {
    let earliest = Infinity;
    for (const runs of this.byTimeout.values()) {
      const first = runs.values().next();
      if (!first.done && first.value.deadline < earliest) earliest = first.value.deadline;
    }
    return earliest;
  }

  /** The runs whose deadline is `now` or before, earliest time-out set first. */
  due(now: number): ActiveRun[] {
    const due: ActiveRun[] = [];
    for (const runs of this.byTimeout.values()) {
      for (const active of runs) {
        if (active.deadline > now) break;
        due.push(active);
      }
    }
    return due;
  }
}
