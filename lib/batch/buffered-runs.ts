import { copyRun } from '../core/record-copy.js';
import type { Run } from '../interfaces/run.interface.js';

/** A run as `mergeRuns` merges it: `rank` orders runs with one `startAt` (higher is newer). */
interface RankedRun {
  run: Run;
  rank: number;
  /** Whether `run` is a buffered record (copied before it is returned) rather than the inner storage's copy. */
  buffered: boolean;
}

/**
 * The newest `count` of the inner storage's runs (`stored`, newest first) merged with the buffered
 * runs of the job (`overlay`, by id, in buffering order): newest first by `startAt`; on a tie a run
 * the inner storage holds keeps its place, and a buffered run it does not hold yet is newer (later
 * buffered writes newer still); a buffered write replaces the stored run. Buffered runs are copied.
 */
export function mergeRuns(stored: Run[], overlay: Map<string, Run>, count: number): Run[] {
  const merged: RankedRun[] = [];
  const unmatched = new Map(overlay);
  const top = stored.length;
  for (let i = 0; i < top; i++) {
    const run = stored[i]!;
    const buffered = unmatched.get(run.id);
    if (buffered === undefined) {
      merged.push({ run, rank: top - i, buffered: false });
    } else {
      unmatched.delete(run.id);
      merged.push({ run: buffered, rank: top - i, buffered: true });
    }
  }
  let rank = top;
  for (const run of unmatched.values()) merged.push({ run, rank: ++rank, buffered: true });
  merged.sort(newestFirst);
  const end = Math.min(count, merged.length);
  const runs: Run[] = [];
  for (let i = 0; i < end; i++) {
    const { run, buffered } = merged[i]!;
    runs.push(buffered ? copyRun(run) : run);
  }
  return runs;
}

/** The buffered runs of one job, by id, from each map in turn (a later map's write wins). */
export function runsOf(jobId: string, ...maps: Map<string, Run>[]): Map<string, Run> | null {
  let overlay: Map<string, Run> | null = null;
  for (const runs of maps) {
    for (const [id, run] of runs) if (run.jobId === jobId) (overlay ??= new Map()).set(id, run);
  }
  return overlay;
}

/** Whether any of `runs` is of the job. */
export function hasRunOf(runs: Map<string, Run>, jobId: string): boolean {
  for (const run of runs.values()) if (run.jobId === jobId) return true;
  return false;
}

function newestFirst(a: RankedRun, b: RankedRun): number {
  return b.run.startAt.getTime() - a.run.startAt.getTime() || b.rank - a.rank;
}
