import type { SpanContext } from '@opentelemetry/api';
import { RetryBackoff } from '../core/retry-backoff.js';
import { stringHash } from '../core/string-hash.js';
import { errorForLog } from '../core/run-output.js';
import { settlesWithin, sleep } from '../core/settles-within.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import type { Job } from '../interfaces/job.interface.js';
import type { BatchStorage, JobStorage } from '../interfaces/job-storage.js';
import type { FlushKind } from '../interfaces/job-tracer.js';
import type { BatchingStorageMetrics } from '../interfaces/metrics.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { SpanLinks } from '../telemetry/span-links.js';
import { MAX_TIMER_DELAY, type BatchingSettings } from './batching-settings.js';

/** The links a flush took from `SpanLinks`, given back if it fails. */
type TakenLinks = ReturnType<SpanLinks['take']>;

/** Consecutive failures after which a failing flush is logged at error level (then every 20th). */
const ERROR_AFTER_FAILURES = 5;
const ERROR_EVERY_FAILURES = 20;

function noop(): void {}

/**
 * The records a `BatchingStorage` holds until they are written, and the flushes that write them.
 *
 * Records are buffered by id (a later write of an id replaces the buffered one, keeping its place)
 * and flushed at `batchSize`, or `flushInterval` after the first: runs first, then jobs, through the
 * inner storage's `BatchStorage` methods when it has them, else one write per record. One flush runs
 * at a time; one of `PARALLEL_WRITE_FROM` records of a kind or more is written in parts at once. A failed flush keeps every record and is retried with backoff (`RetryBackoff`); it is
 * reported to the fault log when there is one, else logged (warn at first, error when it keeps
 * failing). While `maxPending` records are held, a write that adds one waits for room.
 */
export class BatchBuffer {
  /** Buffered writes by id, in the order their ids were first written. */
  pendingJobs = new Map<string, Job>();
  pendingRuns = new Map<string, Run>();
  /** The records of the flush under way (emptied as they are written). */
  flushingJobs = new Map<string, Job>();
  flushingRuns = new Map<string, Run>();
  /** Ids of buffered runs the inner storage does not hold yet (they came through `createRun`). */
  readonly unsaved = new Set<string>();
  /** The flush under way: resolves to whether it wrote everything; never rejects. */
  flushing: Promise<boolean> | null = null;
  /** Incremented when a flush starts. */
  flushSeq = 0;
  /** The error of the last failed flush. */
  lastError: unknown = undefined;
  /** Returned by every write that is buffered with room to spare. */
  readonly done: Promise<void> = Promise.resolve();

  /** The spans whose writes are buffered (the active span of each write call), per record kind. */
  private readonly jobLinks = new SpanLinks();
  private readonly runLinks = new SpanLinks();
  /** The interval timer fired during a flush: flush again as soon as it ends. */
  private flushAgain = false;
  private readonly retries: RetryBackoff;
  /** The one timer: the next interval flush, or the next retry after a failure. */
  private timer: NodeJS.Timeout | null = null;
  /** Writes waiting for room under backpressure share one promise. */
  private room: { promise: Promise<void>; resolve: () => void } | null = null;
  private stopped = false;
  private flushes = 0;
  private flushedJobs = 0;
  private flushedRuns = 0;
  private flushFailures = 0;

  constructor(
    private readonly inner: JobStorage,
    private readonly batch: BatchStorage | null,
    private readonly settings: BatchingSettings,
    private readonly name: string,
  ) {
    this.retries = new RetryBackoff(settings.retryBaseDelay, settings.retryMaxDelay, 0.5);
  }

  /** Buffers a job's write; resolves at once unless the buffer is full. */
  putJob(job: Job, link: SpanContext | undefined): Promise<void> {
    this.jobLinks.add(link);
    const size = this.pendingJobs.size;
    this.pendingJobs.set(job.id, job);
    return this.pendingJobs.size === size ? this.done : this.added();
  }

  /** Buffers a run's write (`created`: the inner storage does not hold it yet). */
  putRun(run: Run, created: boolean, link: SpanContext | undefined): Promise<void> {
    this.runLinks.add(link);
    if (created) this.unsaved.add(run.id);
    const size = this.pendingRuns.size;
    this.pendingRuns.set(run.id, run);
    return this.pendingRuns.size === size ? this.done : this.added();
  }

  /** Drops the buffered writes of a deleted job and of its runs. */
  discard(jobId: string): void {
    this.pendingJobs.delete(jobId);
    for (const [id, run] of this.pendingRuns) {
      if (run.jobId !== jobId) continue;
      this.pendingRuns.delete(id);
      this.unsaved.delete(id);
    }
    this.releaseRoom();
  }

  /**
   * Writes everything buffered now: waits for a flush under way, then flushes what is left. Rejects
   * with the inner storage's error when that flush fails; its records stay buffered and are retried.
   */
  async flush(): Promise<void> {
    if (this.flushing !== null) await this.flushing;
    // A flush that started as the previous one ended took everything buffered before this call.
    if (this.flushing !== null) {
      if (await this.flushing) return;
      throw this.lastError;
    }
    if (this.pendingJobs.size + this.pendingRuns.size === 0) return;
    if (!(await this.startFlush())) throw this.lastError;
  }

  /**
   * Flushes until nothing is held, retrying a failed flush with backoff, for at most `ms`.
   * Resolves to `'written'`, `'failed'` (the storage kept failing) or `'hung'` (a flush was still
   * under way at the end: its records may land or not).
   */
  async flushWithin(ms: number): Promise<'written' | 'failed' | 'hung'> {
    const { now } = this.settings;
    const deadline = now() + ms;
    let attempts = 0;
    for (;;) {
      if (this.flushing !== null) {
        const left = deadline - now();
        if (left <= 0 || !(await settlesWithin(this.flushing, left))) return 'hung';
        continue;
      }
      if (this.pendingJobs.size + this.pendingRuns.size === 0) return 'written';
      if (attempts > 0) {
        // The last attempt failed: back off, within the time left.
        const left = deadline - now();
        if (left <= 0) return 'failed';
        await sleep(Math.min(this.retries.delay(), left));
        if (this.flushing !== null) continue;
        if (now() >= deadline) return 'failed';
      }
      attempts++;
      // Awaited (within the deadline) at the top of the loop.
      void this.startFlush();
    }
  }

  /** Counters, and how many records are not written yet. */
  metrics(): BatchingStorageMetrics {
    return {
      flushes: this.flushes,
      flushedJobs: this.flushedJobs,
      flushedRuns: this.flushedRuns,
      flushFailures: this.flushFailures,
      pendingJobs: this.pendingJobs.size + this.flushingJobs.size,
      pendingRuns: this.pendingRuns.size + this.flushingRuns.size,
    };
  }

  /** Closing: no more interval flushes or timed retries (a caller's `flushWithin` still retries). */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
  }

  /** Closed: what is still buffered is dropped, and writes waiting for room are let go. */
  clear(): void {
    this.pendingJobs = new Map();
    this.pendingRuns = new Map();
    this.unsaved.clear();
    this.releaseRoom();
  }

  /** Logs without letting a throwing logger break the flush loop. */
  report(level: 'log' | 'warn' | 'error', message: string): void {
    try {
      this.settings.logger[level](message);
    } catch {
      // Nothing sensible to do: the logger is the place errors are reported to.
    }
  }

  /** A new record was buffered: flush at `batchSize`, else make sure a flush is due; apply backpressure. */
  private added(): Promise<void> {
    if (
      this.flushing === null &&
      this.retries.failures === 0 &&
      this.pendingJobs.size + this.pendingRuns.size >= this.settings.batchSize
    ) {
      void this.startFlush();
    } else if (this.timer === null) {
      // While a retry is due the timer is armed already; otherwise this is the interval flush.
      this.arm(this.settings.flushInterval);
    }
    return this.held() >= this.settings.maxPending ? this.waitForRoom() : this.done;
  }

  /** Records not written yet: buffered or in the flush under way. */
  private held(): number {
    return (
      this.pendingJobs.size +
      this.pendingRuns.size +
      this.flushingJobs.size +
      this.flushingRuns.size
    );
  }

  /** Takes everything buffered and writes it; resolves to whether all of it was written. */
  private startFlush(): Promise<boolean> {
    this.clearTimer();
    this.flushAgain = false;
    this.flushSeq++;
    const jobs = this.pendingJobs;
    const runs = this.pendingRuns;
    this.pendingJobs = new Map();
    this.pendingRuns = new Map();
    this.flushingJobs = jobs;
    this.flushingRuns = runs;
    const flushing = this.runFlush(jobs, runs, this.jobLinks.take(), this.runLinks.take());
    this.flushing = flushing;
    return flushing;
  }

  private async runFlush(
    jobs: Map<string, Job>,
    runs: Map<string, Run>,
    jobLinks: TakenLinks,
    runLinks: TakenLinks,
  ): Promise<boolean> {
    let ok = true;
    try {
      await this.traced('runs', runs.size, runLinks, this.writeRuns, runs);
      await this.traced('jobs', jobs.size, jobLinks, this.writeJobs, jobs);
    } catch (err) {
      ok = false;
      this.lastError = err;
    }
    this.flushingJobs = new Map();
    this.flushingRuns = new Map();
    this.flushing = null;
    if (ok) {
      this.flushSucceeded();
    } else {
      // The records put back keep their links for the next attempt.
      if (runs.size > 0) this.runLinks.restore(runLinks);
      if (jobs.size > 0) this.jobLinks.restore(jobLinks);
      this.flushFailed(jobs, runs);
    }
    this.releaseRoom();
    return ok;
  }

  /** Runs one write of a flush inside its span (`batch.flush.<kind>`); nothing when no record. */
  private async traced<R>(
    kind: FlushKind,
    count: number,
    links: TakenLinks,
    write: (this: BatchBuffer, records: R) => Promise<void>,
    records: R,
  ): Promise<void> {
    if (count === 0) return;
    const { tracer } = this.settings;
    const span = tracer.flushSpan(kind, links.links, count, links.dropped);
    try {
      await tracer.runInContext(span, write, this, records);
    } catch (err) {
      tracer.endFlush(span, err);
      throw err;
    }
    tracer.endFlush(span);
  }

  private async writeRuns(runs: Map<string, Run>): Promise<void> {
    if (runs.size === 0) return;
    if (this.batch !== null) {
      const batch = this.batch;
      // A job's runs stay in one part, in their order (runs with one `startAt` keep it).
      await inParts(
        Array.from(runs.values()),
        (run) => run.jobId,
        (part) => batch.batchUpdateRuns(part),
      );
      this.flushedRuns += runs.size;
      for (const id of runs.keys()) this.unsaved.delete(id);
      runs.clear();
      return;
    }
    for (const [id, run] of runs) {
      await this.inner.updateRun(run);
      this.flushedRuns++;
      this.unsaved.delete(id);
      runs.delete(id);
    }
  }

  private async writeJobs(jobs: Map<string, Job>): Promise<void> {
    if (jobs.size === 0) return;
    if (this.batch !== null) {
      const batch = this.batch;
      await inParts(
        Array.from(jobs.values()),
        (job) => job.id,
        (part) => batch.batchUpdateJobs(part),
      );
      this.flushedJobs += jobs.size;
      jobs.clear();
      return;
    }
    for (const [id, job] of jobs) {
      try {
        await this.inner.updateJob(job);
      } catch (err) {
        // The job was deleted (elsewhere) since it was written: nothing to update.
        if (!(err instanceof JobNotFoundError)) throw err;
      }
      this.flushedJobs++;
      jobs.delete(id);
    }
  }

  private flushSucceeded(): void {
    this.flushes++;
    const failed = this.retries.succeeded();
    if (failed > 0) {
      const { faults } = this.settings;
      if (faults !== undefined) faults.succeeded();
      else
        this.report('log', `${this.name}: writes flushed again after ${failed} failed attempts.`);
    }
    if (this.stopped) return;
    const pending = this.pendingJobs.size + this.pendingRuns.size;
    if (pending === 0) return;
    if (this.flushAgain || pending >= this.settings.batchSize) void this.startFlush();
    else if (this.timer === null) this.arm(this.settings.flushInterval);
  }

  /** Puts the unwritten records back (a newer buffered write of an id wins) and schedules a retry. */
  private flushFailed(jobs: Map<string, Job>, runs: Map<string, Run>): void {
    this.flushFailures++;
    // Back in front, in their original order: a newer write of the same id replaces the value but
    // keeps the first place (runs with one `startAt` are ordered by it).
    if (jobs.size > 0) {
      for (const [id, job] of this.pendingJobs) jobs.set(id, job);
      this.pendingJobs = jobs;
    }
    if (runs.size > 0) {
      for (const [id, run] of this.pendingRuns) runs.set(id, run);
      this.pendingRuns = runs;
    }
    const delay = this.retries.failed();
    const failures = this.retries.failures;
    const { faults } = this.settings;
    const held = `${this.pendingJobs.size} job and ${this.pendingRuns.size} run records`;
    if (faults !== undefined) {
      faults.failed(
        `a batched write of ${held} (kept, written again in ${delay} ms)`,
        this.lastError,
      );
    } else if (
      failures === 1 ||
      (failures >= ERROR_AFTER_FAILURES &&
        (failures - ERROR_AFTER_FAILURES) % ERROR_EVERY_FAILURES === 0)
    ) {
      const retry = this.stopped ? 'retrying while closing' : `retrying in ${delay} ms`;
      this.report(
        failures === 1 ? 'warn' : 'error',
        `${this.name}: could not write ${held} (attempt ${failures}): ${errorForLog(this.lastError)}; they are kept, ${retry}.`,
      );
    }
    if (this.stopped) return;
    this.clearTimer();
    this.arm(delay);
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.onTimer, Math.min(delay, MAX_TIMER_DELAY));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.stopped) return;
    if (this.flushing !== null) this.flushAgain = true;
    else if (this.pendingJobs.size + this.pendingRuns.size > 0) void this.startFlush();
  };

  private waitForRoom(): Promise<void> {
    if (this.room === null) {
      let resolve: () => void = noop;
      const promise = new Promise<void>((done) => (resolve = done));
      this.room = { promise, resolve };
    }
    return this.room.promise;
  }

  private releaseRoom(): void {
    if (this.room === null || (!this.stopped && this.held() >= this.settings.maxPending)) return;
    const { resolve } = this.room;
    this.room = null;
    resolve();
  }
}

/** Records from which a batched write is split in parts written at once on separate connections. */
export const PARALLEL_WRITE_FROM = 2_000;
/** Parts of a large batched write. */
export const PARALLEL_WRITE_PARTS = 2;

/**
 * Writes a large batch in `PARALLEL_WRITE_PARTS` parts at once, so that the database works on it in
 * several sessions (each part is one call, atomic as the storage makes it; a part that fails fails
 * the flush, which keeps every record and writes them all again: the writes are idempotent). The
 * records of one `key` go in one part, in their order. A small batch is one call.
 */
async function inParts<T>(
  records: T[],
  key: (record: T) => string,
  write: (part: T[]) => Promise<void>,
): Promise<void> {
  if (records.length < PARALLEL_WRITE_FROM || PARALLEL_WRITE_PARTS < 2) return write(records);
  const parts: T[][] = Array.from({ length: PARALLEL_WRITE_PARTS }, () => []);
  for (const record of records) parts[stringHash(key(record)) % PARALLEL_WRITE_PARTS]!.push(record);
  const results = await Promise.allSettled(
    parts.map((part) => (part.length > 0 ? write(part) : undefined)),
  );
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}
