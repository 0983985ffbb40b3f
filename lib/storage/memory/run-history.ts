import type { Run } from '../../interfaces/run.interface.js';
import { assignRun, toRunRecord, type RunRecord } from './memory-records.js';

/** The runs of one job. */
export interface JobRuns {
  /** Oldest first: in insertion order, which is `(startAt, seq)` order while `runsSorted`. */
  runs: RunRecord[] | null;
  /** The runs by id, once there are `INDEX_RUNS_FROM` of them (null before). */
  runsById: Map<string, RunRecord> | null;
  /** Whether `runs` is known to be in `(startAt, seq)` order. */
  runsSorted: boolean;
}

/** How much run history a `MemoryStorage` keeps. */
export interface RunLimits {
  /** The newest runs kept of each job. */
  maxRunsPerJob: number;
  /** The newest runs kept in all (the oldest of all go first). */
  maxRuns: number;
}

/**
 * A job's runs get an index by id once it has this many: below it, a scan from the newest (the run
 * being ended is nearly always the last one) is as fast, and a job with a few runs holds no Map.
 */
const INDEX_RUNS_FROM = 16;

/** Marks a record no longer stored (its place in the ledger is skipped). */
const GONE = -1;

/**
 * The run records of a `MemoryStorage`, bounded: past `maxRunsPerJob` runs a job's oldest finished
 * run goes, and past `maxRuns` in all the oldest finished run of all goes (a ledger of the records
 * in insertion order finds it). A run still `running` is never dropped.
 */
export class RunHistory {
  private nextSeq = 0;
  /** Records stored now. */
  private stored = 0;
  /** Every record in insertion order (those dropped since stay until passed over or compacted). */
  private ledger: (RunRecord | undefined)[] = [];
  private head = 0;

  constructor(
    private readonly limits: RunLimits,
    private readonly jobRuns: (jobId: string) => JobRuns | undefined,
  ) {}

  /** Replaces the run with `run.id` in place (keeping its position), or appends it. */
  put(entry: JobRuns, run: Run): void {
    const existing = findRun(entry, run.id);
    if (existing !== undefined) {
      const previousStartAt = existing.startAt;
      assignRun(existing, run);
      if (existing.startAt !== previousStartAt) entry.runsSorted = false;
      return;
    }
    const record = toRunRecord(run, this.nextSeq++);
    const runs = (entry.runs ??= []);
    if (runs.length > 0 && record.startAt < runs[runs.length - 1]!.startAt) {
      entry.runsSorted = false;
    }
    runs.push(record);
    if (entry.runsById !== null) entry.runsById.set(record.id, record);
    else if (runs.length >= INDEX_RUNS_FROM) entry.runsById = new Map(runs.map((r) => [r.id, r]));
    this.stored++;
    this.ledger.push(record);
    if (runs.length > this.limits.maxRunsPerJob) this.dropOldest(entry);
    if (this.stored > this.limits.maxRuns) this.dropOldestOfAll();
    this.compact();
  }

  /** The job's run with this id, if stored. */
  find(entry: JobRuns, id: string): RunRecord | undefined {
    return findRun(entry, id);
  }

  /** The job's runs, oldest first by `(startAt, seq)`. */
  sorted(entry: JobRuns): RunRecord[] {
    const runs = entry.runs ?? [];
    if (!entry.runsSorted) {
      runs.sort(compareRuns);
      entry.runsSorted = true;
    }
    return runs;
  }

  /** Keeps the job's runs for which `keep` says so (in order); the others are no longer stored. */
  retain(entry: JobRuns, keep: (run: RunRecord, index: number) => boolean): number {
    const runs = entry.runs;
    if (runs === null) return 0;
    let kept = 0;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      if (keep(run, i)) runs[kept++] = run;
      else this.forget(entry, run);
    }
    const removed = runs.length - kept;
    runs.length = kept;
    return removed;
  }

  /** The job was deleted: its runs are no longer stored. */
  dropJob(entry: JobRuns): void {
    for (const run of entry.runs ?? []) this.forgetRecord(run);
  }

  clear(): void {
    this.stored = 0;
    this.ledger = [];
    this.head = 0;
  }

  /** The job's oldest finished run goes (by `(startAt, seq)`). */
  private dropOldest(entry: JobRuns): void {
    const runs = this.sorted(entry);
    const index = runs.findIndex((run) => run.status !== 'running');
    if (index < 0) return;
    this.forget(entry, runs[index]!);
    runs.splice(index, 1);
  }

  /** The oldest finished runs of all go (by insertion) while too many are stored; runs going stay. */
  private dropOldestOfAll(): void {
    const ledger = this.ledger;
    for (let budget = ledger.length - this.head; budget > 0; budget--) {
      if (this.stored <= this.limits.maxRuns) break;
      const record = ledger[this.head] as RunRecord;
      ledger[this.head++] = undefined;
      if (record.seq === GONE) continue;
      if (record.status === 'running') {
        ledger.push(record); // met again later, once it has ended
        continue;
      }
      const entry = this.jobRuns(record.jobId);
      const runs = entry?.runs;
      if (runs) {
        const index = runs[0] === record ? 0 : runs.indexOf(record);
        if (index >= 0) runs.splice(index, 1);
        entry.runsById?.delete(record.id);
      }
      this.forgetRecord(record);
    }
  }

  private forget(entry: JobRuns, record: RunRecord): void {
    entry.runsById?.delete(record.id);
    this.forgetRecord(record);
  }

  private forgetRecord(record: RunRecord): void {
    if (record.seq === GONE) return;
    record.seq = GONE;
    this.stored--;
  }

  /**
   * Drops the ledger's passed-over slots and the records gone since (a job's own limit, a prune, a
   * deleted job), once they outnumber the records stored: amortised O(1) per run.
   */
  private compact(): void {
    const ledger = this.ledger;
    if (this.head <= ledger.length - this.head && ledger.length <= 2 * this.stored + 1024) return;
    this.ledger = ledger.slice(this.head).filter((record) => record!.seq !== GONE);
    this.head = 0;
  }
}

function findRun(entry: JobRuns, id: string): RunRecord | undefined {
  if (entry.runsById !== null) return entry.runsById.get(id);
  const runs = entry.runs;
  if (runs === null) return undefined;
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.id === id) return runs[i];
  return undefined;
}

/** Oldest first: by `startAt`, then by insertion. */
function compareRuns(a: RunRecord, b: RunRecord): number {
  return a.startAt - b.startAt || a.seq - b.seq;
}
