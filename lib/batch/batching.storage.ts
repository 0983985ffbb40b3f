import { isJobLogger } from '../loggers/is-job-logger.js';
import type { StorageFaultLog } from '../core/storage-fault-log.js';
import { errorForLog } from '../core/run-output.js';
import { settlesWithin, sleep } from '../core/settles-within.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { StorageClosedError } from '../errors/storage-closed.error.js';
import type { Job, JobStatus } from '../interfaces/job.interface.js';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { JobStorage, isBatchStorage, type BatchStorage } from '../interfaces/job-storage.js';
import type { BatchingStorageMetrics } from '../interfaces/metrics.interface.js';
import type { BatchingStorageOptions } from './batching-storage-options.interface.js';
import type { SpanContext } from '@opentelemetry/api';
import { createJobTracer } from '../telemetry/create-job-tracer.js';
import type { FlushKind, JobTracer } from '../interfaces/job-tracer.js';
import { SpanLinks } from '../telemetry/span-links.js';
import { copyJob, copyRun } from '../core/record-copy.js';

/** The links a flush took from `SpanLinks`, given back if it fails. */
type TakenLinks = ReturnType<SpanLinks['take']>;

const NAME = 'BatchingStorage';
/** Consecutive failures after which a failing flush is logged at error level (then every 20th). */
const ERROR_AFTER_FAILURES = 5;
const ERROR_EVERY_FAILURES = 20;
/** The longest delay `setTimeout` takes. */
const MAX_TIMER_DELAY = 2_147_483_647;
/** How many times `getJobRunCount` re-reads when flushes race with it, before it settles for an estimate. */
const COUNT_ATTEMPTS = 3;

/** A run as `getRuns` merges it: `rank` orders runs with one `startAt` (higher is newer). */
interface RankedRun {
  run: Run;
  rank: number;
  /** Whether `run` is a buffered record (copied before it is returned) rather than the inner storage's copy. */
  buffered: boolean;
}

/**
 * A write-behind wrapper around a `JobStorage`: the seed's batch updater.
 *
 * `updateJob`, `createRun` and `updateRun` (and `batchUpdateJobs` / `batchUpdateRuns`) copy the record
 * and buffer it under its id; a later write of the same id replaces the buffered one, so a run's
 * create and update, or many updates of one job, become a single write. The buffer is flushed when
 * `batchSize` records are pending and at least every `flushInterval` while anything is pending:
 * runs first, then jobs, through the inner storage's `BatchStorage` methods when it has them, else one
 * `updateRun` / `updateJob` per record. One flush runs at a time.
 *
 * Reads see buffered writes (`getJob`, `listJobs`, `getRuns`, `getJobRunCount`).
 *
 * The `JobStorage` contract holds: `updateJob` of an unknown job rejects with `JobNotFoundError`,
 * `createRun` of a run of an unknown job too, `updateRun` of one is ignored. To keep that cheap the
 * wrapper remembers which job ids it has seen exist (created through it, read, or listed); a write
 * for an id it has not seen reads the job from the inner storage once first. A job deleted by another
 * process is not noticed: writes buffered for it are dropped by the inner storage at flush time.
 *
 * Failures: a failed flush keeps every record (a newer buffered write of the same id wins) and is
 * retried with exponential backoff and jitter (`retryBaseDelay` doubling to `retryMaxDelay`); it is
 * logged at warn level on the first failure and at error level when it keeps failing. While
 * `maxPending` records are held, writes wait for room (backpressure) instead of dropping anything.
 *
 * `flush()` writes everything pending now (after any flush under way) and rejects with the storage's
 * error if that attempt fails (the records stay buffered and are retried in the background).
 * `close()` stops taking calls, flushes, retrying for up to `closeTimeout`, then closes the inner
 * storage; if the storage kept failing it logs at error level how many records were lost.
 *
 * Run-history pruning is not wrapped: call `pruneRuns` on `inner` when `isPrunableStorage(inner)`.
 */
export class BatchingStorage extends JobStorage implements BatchStorage {
  /** The wrapped storage. */
  readonly inner: JobStorage;
  /** `inner` as a `BatchStorage`, when it is one (detected once). */
  private readonly batch: BatchStorage | null;
  private readonly logger: JobLogger;
  private readonly now: () => number;
  private readonly batchSize: number;
  private readonly flushInterval: number;
  private readonly maxPending: number;
  private readonly closeTimeout: number;
  private readonly retryBaseDelay: number;
  private readonly retryMaxDelay: number;
  private readonly tracer: JobTracer;
  private readonly faults: StorageFaultLog | undefined;
  /** The spans whose writes are buffered (the active span of each write call), per record kind. */
  private readonly jobLinks = new SpanLinks();
  private readonly runLinks = new SpanLinks();

  /** Buffered writes by id, in the order their ids were first written. */
  private pendingJobs = new Map<string, Job>();
  private pendingRuns = new Map<string, Run>();
  /** The records of the flush under way (emptied as they are written). */
  private flushingJobs = new Map<string, Job>();
  private flushingRuns = new Map<string, Run>();
  /** Ids of buffered runs the inner storage does not hold yet (they came through `createRun`). */
  private readonly unsaved = new Set<string>();
  /** Ids of jobs known to exist in the inner storage. */
  private readonly known = new Set<string>();
  /** Writes for a job id not known yet, waiting for its existence check: the tail of each id's chain. */
  private readonly validating = new Map<string, Promise<void>>();
  /** Incremented by every deletion: an existence check that spans one reads again. */
  private deleteEpoch = 0;

  /** The flush under way: resolves to whether it wrote everything; never rejects. */
  private flushing: Promise<boolean> | null = null;
  /** Incremented when a flush starts. */
  private flushSeq = 0;
  /** The interval timer fired during a flush: flush again as soon as it ends. */
  private flushAgain = false;
  private lastError: unknown = undefined;
  /** Consecutive failed flushes. */
  private failures = 0;
  /** The one timer: the next interval flush, or the next retry after a failure. */
  private timer: NodeJS.Timeout | null = null;
  /** Writes waiting for room under backpressure share one promise. */
  private room: { promise: Promise<void>; resolve: () => void } | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private flushes = 0;
  private flushedJobs = 0;
  private flushedRuns = 0;
  private flushFailures = 0;

  /** Returned by every write that is buffered with room to spare. */
  private readonly done: Promise<void> = Promise.resolve();

  constructor(inner: JobStorage, options: BatchingStorageOptions) {
    super();
    if (typeof (inner as Partial<JobStorage> | null)?.getJob !== 'function')
      throw new InvalidOptionsError('inner', inner, 'a JobStorage instance');
    this.inner = inner;
    this.batch = isBatchStorage(inner) ? inner : null;
    const logger = options?.logger;
    if (!isJobLogger(logger))
      throw new InvalidOptionsError('logger', logger, 'a logger with log, warn and error methods');
    this.logger = logger;
    this.now = options.now ?? Date.now;
    if (typeof this.now !== 'function')
      throw new InvalidOptionsError('now', options.now, 'a function returning epoch milliseconds');
    this.batchSize = integerOption('batchSize', options.batchSize, 1);
    this.flushInterval = delayOption('flushInterval', options.flushInterval, 1);
    this.maxPending = integerOption(
      'maxPending',
      options.maxPending ?? Math.max(1000, this.batchSize * 100),
      this.batchSize,
    );
    this.closeTimeout = delayOption('closeTimeout', options.closeTimeout ?? 10_000, 0);
    this.retryBaseDelay = delayOption('retryBaseDelay', options.retryBaseDelay ?? 100, 1);
    this.retryMaxDelay = delayOption(
      'retryMaxDelay',
      options.retryMaxDelay ?? Math.max(5_000, this.retryBaseDelay),
      this.retryBaseDelay,
    );
    this.tracer = options.tracer ?? createJobTracer();
    this.faults = options.faults;
  }

  // ---- writes (buffered) ----------------------------------------------------------------------

  /** Buffers the job; `JobNotFoundError` when it does not exist. Resolves at once unless the buffer is full. */
  override updateJob(job: Job): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(NAME));
    let copy: Job;
    try {
      copy = copyJob(job);
    } catch (err) {
      return Promise.reject(err);
    }
    const link = this.tracer.activeSpanContext();
    if (this.isKnown(copy.id)) return this.putJob(copy, link);
    return this.afterCheck(copy.id, true, () => this.putJob(copy, link));
  }

  /** Buffers the run (written as an upsert); `JobNotFoundError` when its job does not exist. */
  override createRun(run: Run): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(NAME));
    let copy: Run;
    try {
      copy = copyRun(run);
    } catch (err) {
      return Promise.reject(err);
    }
    const link = this.tracer.activeSpanContext();
    if (this.isKnown(copy.jobId)) return this.putRun(copy, true, link);
    return this.afterCheck(copy.jobId, true, () => this.putRun(copy, true, link));
  }

  /** Buffers the run (inserted when absent); ignored when its job does not exist. */
  override updateRun(run: Run): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(NAME));
    let copy: Run;
    try {
      copy = copyRun(run);
    } catch (err) {
      return Promise.reject(err);
    }
    const link = this.tracer.activeSpanContext();
    if (this.isKnown(copy.jobId)) return this.putRun(copy, false, link);
    return this.afterCheck(copy.jobId, false, () => this.putRun(copy, false, link));
  }

  /** Buffers each job like `updateJob`, skipping the ones that do not exist. */
  batchUpdateJobs(jobs: Job[]): Promise<void> {
    return this.bufferAll(
      jobs,
      copyJob,
      (job) => job.id,
      (job, link) => this.putJob(job, link),
    );
  }

  /** Buffers each run like `updateRun`. */
  batchUpdateRuns(runs: Run[]): Promise<void> {
    return this.bufferAll(
      runs,
      copyRun,
      (run) => run.jobId,
      (run, link) => this.putRun(run, false, link),
    );
  }

  /**
   * Copies every record first (a bad one rejects the whole call, buffering nothing), then buffers
   * each, checking unknown jobs; resolves once every write that had to wait for room has room.
   */
  private bufferAll<T>(
    records: T[],
    copy: (record: T) => T,
    jobIdOf: (record: T) => string,
    put: (record: T, link: SpanContext | undefined) => Promise<void>,
  ): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(NAME));
    let copies: T[];
    try {
      copies = records.map(copy);
    } catch (err) {
      return Promise.reject(err);
    }
    const link = this.tracer.activeSpanContext();
    let waits: Promise<void>[] | null = null;
    for (const record of copies) {
      const jobId = jobIdOf(record);
      const wait = this.isKnown(jobId)
        ? put(record, link)
        : this.afterCheck(jobId, false, () => put(record, link));
      if (wait !== this.done) (waits ??= []).push(wait);
    }
    return waits === null ? this.done : Promise.all(waits).then(noop);
  }

  // ---- pass-through writes --------------------------------------------------------------------

  override async createJob(job: Job): Promise<void> {
    this.assertOpen();
    await this.inner.createJob(job);
    // Anything still buffered under this id belonged to a job deleted elsewhere.
    this.pendingJobs.delete(job.id);
    this.known.add(job.id);
  }

  /**
   * Deletes the job in the inner storage, then discards the writes buffered for it and its runs (after
   * the deletion, so that a failed deletion loses nothing), waiting for a flush under way to end.
   */
  override async deleteJob(id: string): Promise<void> {
    this.assertOpen();
    // Writes from now on check the job's existence first.
    this.known.delete(id);
    this.deleteEpoch++;
    await this.inner.deleteJob(id);
    this.discard(id);
    if (this.flushing !== null) {
      // Its records of the job are written (and ignored) or put back: discard those too, so that a
      // job created again under this id never receives them.
      await this.flushing;
      this.discard(id);
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The buffered job if any (a copy), else the inner storage's. */
  override async getJob(id: string): Promise<Job | null> {
    this.assertOpen();
    const buffered = this.pendingJobs.get(id) ?? this.flushingJobs.get(id);
    if (buffered !== undefined) return copyJob(buffered);
    const epoch = this.deleteEpoch;
    const job = await this.inner.getJob(id);
    if (job === null) this.known.delete(id);
    else if (epoch === this.deleteEpoch) this.known.add(id);
    return job;
  }

  /** The inner storage's jobs (its order), each replaced by its buffered write if any, then filtered. */
  override async listJobs(status?: JobStatus): Promise<Job[]> {
    this.assertOpen();
    const epoch = this.deleteEpoch;
    if (this.pendingJobs.size === 0 && this.flushingJobs.size === 0) {
      const jobs = await this.inner.listJobs(status);
      if (epoch === this.deleteEpoch) for (const job of jobs) this.known.add(job.id);
      return jobs;
    }
    // The buffered writes as of this call (a flush may end while the inner storage is read).
    const overlay = new Map(this.flushingJobs);
    for (const [id, job] of this.pendingJobs) overlay.set(id, job);
    const stored = await this.inner.listJobs();
    const fresh = epoch === this.deleteEpoch;
    const jobs: Job[] = [];
    for (const job of stored) {
      if (fresh) this.known.add(job.id);
      const buffered = overlay.get(job.id);
      const current = buffered === undefined ? job : copyJob(buffered);
      if (status === undefined || current.status === status) jobs.push(current);
    }
    return jobs;
  }

  /**
   * The inner storage's newest runs merged with the buffered runs of the job: newest first by
   * `startAt`; on a tie a run the inner storage holds keeps its place, and a buffered run it does not
   * hold yet is newer (later buffered writes newer still); a buffered write replaces the stored run.
   */
  override async getRuns(jobId: string, limit: number): Promise<Run[]> {
    this.assertOpen();
    const count = Math.floor(limit);
    let overlay: Map<string, Run> | null = null;
    for (const [id, run] of this.flushingRuns) {
      if (run.jobId === jobId) (overlay ??= new Map()).set(id, run);
    }
    for (const [id, run] of this.pendingRuns) {
      if (run.jobId === jobId) (overlay ??= new Map()).set(id, run);
    }
    if (overlay === null || !(count > 0)) return this.inner.getRuns(jobId, limit);
    const stored = await this.inner.getRuns(jobId, count + overlay.size);
    const merged: RankedRun[] = [];
    const top = stored.length;
    for (let i = 0; i < top; i++) {
      const run = stored[i];
      const buffered = overlay.get(run.id);
      if (buffered === undefined) {
        merged.push({ run, rank: top - i, buffered: false });
      } else {
        overlay.delete(run.id);
        merged.push({ run: buffered, rank: top - i, buffered: true });
      }
    }
    let rank = top;
    for (const run of overlay.values()) merged.push({ run, rank: ++rank, buffered: true });
    merged.sort(newestFirst);
    const end = Math.min(count, merged.length);
    const runs: Run[] = [];
    for (let i = 0; i < end; i++) {
      const { run, buffered } = merged[i];
      runs.push(buffered ? copyRun(run) : run);
    }
    return runs;
  }

  /**
   * The inner storage's count plus the buffered runs it does not hold yet. When the buffer holds an
   * update of a run that may or may not be stored, or a flush of the job's runs is under way, it
   * flushes (or waits for the flush) first, so the count is exact; it rejects if that flush fails.
   */
  override async getJobRunCount(jobId: string): Promise<number> {
    this.assertOpen();
    for (let attempt = 1; ; attempt++) {
      const settle = attempt >= COUNT_ATTEMPTS;
      if (!settle && this.flushing !== null && hasRunOf(this.flushingRuns, jobId)) {
        await this.flushing;
        continue;
      }
      let unsaved = 0;
      let uncertain = false;
      for (const [id, run] of this.pendingRuns) {
        if (run.jobId !== jobId) continue;
        if (this.unsaved.has(id)) unsaved++;
        else uncertain = true;
      }
      if (uncertain && !settle) {
        await this.flush();
        continue;
      }
      const seq = this.flushSeq;
      const stored = await this.inner.getJobRunCount(jobId);
      if (seq === this.flushSeq || settle) return stored + unsaved;
    }
  }

  // ---- flushing -------------------------------------------------------------------------------

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

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Stops taking calls (they reject with `StorageClosedError`), flushes everything buffered (retrying
   * with backoff for up to `closeTimeout`), then closes the inner storage. When the flush keeps failing
   * it logs at error level how many records are lost, and still closes. Idempotent.
   */
  override close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  override async ping(): Promise<void> {
    this.assertOpen();
    await this.inner.ping();
  }

  /**
   * Flushes until nothing is held, retrying a failed flush with backoff, for at most `ms`.
   * Resolves to `'written'`, `'failed'` (the storage kept failing) or `'hung'` (a flush was still
   * under way at the end: its records may land or not).
   */
  async flushWithin(ms: number): Promise<'written' | 'failed' | 'hung'> {
    const deadline = this.now() + ms;
    let attempts = 0;
    for (;;) {
      if (this.flushing !== null) {
        const left = deadline - this.now();
        if (left <= 0 || !(await settlesWithin(this.flushing, left))) return 'hung';
        continue;
      }
      if (this.pendingJobs.size + this.pendingRuns.size === 0) return 'written';
      if (attempts > 0) {
        // The last attempt failed: back off, within the time left.
        const left = deadline - this.now();
        if (left <= 0) return 'failed';
        await sleep(Math.min(this.backoffDelay(), left));
        if (this.flushing !== null) continue;
        if (this.now() >= deadline) return 'failed';
      }
      attempts++;
      // Awaited (within the deadline) at the top of the loop.
      void this.startFlush();
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const timedOut = (await this.flushWithin(this.closeTimeout)) === 'hung';
    const jobs = this.pendingJobs.size + this.flushingJobs.size;
    const runs = this.pendingRuns.size + this.flushingRuns.size;
    if (jobs + runs > 0) {
      this.report(
        'error',
        `${NAME}: closed with ${jobs + runs} unwritten records (${jobs} jobs, ${runs} runs)${timedOut ? ' possibly' : ''} lost: the storage kept failing for ${this.closeTimeout} ms (last error: ${errorForLog(this.lastError)}).`,
      );
    }
    this.pendingJobs = new Map();
    this.pendingRuns = new Map();
    this.unsaved.clear();
    this.releaseRoom();
    await this.inner.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError(NAME);
  }

  /** Whether a write for this job can be buffered at once (no existence check, none under way). */
  private isKnown(jobId: string): boolean {
    return this.known.has(jobId) && (this.validating.size === 0 || !this.validating.has(jobId));
  }

  /**
   * The slow path of a write for a job id not known to exist: check the inner storage, then buffer
   * (`put`), or reject with `JobNotFoundError` (`strict`) or skip. Writes for one id stay in call order.
   */
  private afterCheck(jobId: string, strict: boolean, put: () => Promise<void>): Promise<void> {
    const previous = this.validating.get(jobId) ?? this.done;
    const tail = previous
      .catch(noop)
      .then(() => this.jobExists(jobId))
      .then((exists) => {
        if (this.closed) throw new StorageClosedError(NAME);
        if (exists) return put();
        if (strict) throw new JobNotFoundError(jobId);
      });
    this.validating.set(jobId, tail);
    const forget = (): void => {
      if (this.validating.get(jobId) === tail) this.validating.delete(jobId);
    };
    tail.then(forget, forget);
    return tail;
  }

  /** Whether the inner storage holds the job; a read that spans a deletion is done again. */
  private async jobExists(jobId: string): Promise<boolean> {
    for (;;) {
      if (this.known.has(jobId)) return true;
      const epoch = this.deleteEpoch;
      const job = await this.inner.getJob(jobId);
      if (epoch !== this.deleteEpoch) continue;
      if (job !== null) this.known.add(jobId);
      return job !== null;
    }
  }

  private putJob(job: Job, link: SpanContext | undefined): Promise<void> {
    this.jobLinks.add(link);
    const size = this.pendingJobs.size;
    this.pendingJobs.set(job.id, job);
    return this.pendingJobs.size === size ? this.done : this.added();
  }

  private putRun(run: Run, created: boolean, link: SpanContext | undefined): Promise<void> {
    this.runLinks.add(link);
    if (created) this.unsaved.add(run.id);
    const size = this.pendingRuns.size;
    this.pendingRuns.set(run.id, run);
    return this.pendingRuns.size === size ? this.done : this.added();
  }

  /** A new record was buffered: flush at `batchSize`, else make sure a flush is due; apply backpressure. */
  private added(): Promise<void> {
    if (
      this.flushing === null &&
      this.failures === 0 &&
      this.pendingJobs.size + this.pendingRuns.size >= this.batchSize
    ) {
      void this.startFlush();
    } else if (this.timer === null) {
      // While a retry is due the timer is armed already; otherwise this is the interval flush.
      this.arm(this.flushInterval);
    }
    return this.held() >= this.maxPending ? this.waitForRoom() : this.done;
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
    write: (this: BatchingStorage, records: R) => Promise<void>,
    records: R,
  ): Promise<void> {
    if (count === 0) return;
    const span = this.tracer.flushSpan(kind, links.links, count, links.dropped);
    try {
      await this.tracer.runInContext(span, write, this, records);
    } catch (err) {
      this.tracer.endFlush(span, err);
      throw err;
    }
    this.tracer.endFlush(span);
  }

  private async writeRuns(runs: Map<string, Run>): Promise<void> {
    if (runs.size === 0) return;
    if (this.batch !== null) {
      await this.batch.batchUpdateRuns(Array.from(runs.values()));
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
      await this.batch.batchUpdateJobs(Array.from(jobs.values()));
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
    if (this.failures > 0) {
      if (this.faults !== undefined) this.faults.succeeded();
      else
        this.report('log', `${NAME}: writes flushed again after ${this.failures} failed attempts.`);
      this.failures = 0;
    }
    if (this.closed) return;
    const pending = this.pendingJobs.size + this.pendingRuns.size;
    if (pending === 0) return;
    if (this.flushAgain || pending >= this.batchSize) void this.startFlush();
    else if (this.timer === null) this.arm(this.flushInterval);
  }

  /** Puts the unwritten records back (a newer buffered write of an id wins) and schedules a retry. */
  private flushFailed(jobs: Map<string, Job>, runs: Map<string, Run>): void {
    this.flushFailures++;
    this.failures++;
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
    const delay = this.backoffDelay();
    const failures = this.failures;
    if (this.faults !== undefined) {
      this.faults.failed(
        `a batched write of ${this.pendingJobs.size} job and ${this.pendingRuns.size} run records (kept, written again in ${delay} ms)`,
        this.lastError,
      );
    }
    const level =
      this.faults !== undefined
        ? null
        : failures === 1
          ? 'warn'
          : failures >= ERROR_AFTER_FAILURES &&
              (failures - ERROR_AFTER_FAILURES) % ERROR_EVERY_FAILURES === 0
            ? 'error'
            : null;
    if (level !== null) {
      const retry = this.closed ? 'retrying while closing' : `retrying in ${delay} ms`;
      this.report(
        level,
        `${NAME}: could not write ${this.pendingJobs.size} job and ${this.pendingRuns.size} run records (attempt ${failures}): ${errorForLog(this.lastError)}; they are kept, ${retry}.`,
      );
    }
    if (this.closed) return;
    this.clearTimer();
    this.arm(delay);
  }

  /** Logs without letting a throwing logger break the flush loop. */
  private report(level: 'log' | 'warn' | 'error', message: string): void {
    try {
      this.logger[level](message);
    } catch {
      // Nothing sensible to do: the logger is the place errors are reported to.
    }
  }

  /** The delay before the next retry: `retryBaseDelay * 2^(failures - 1)`, capped, with jitter (50-100%). */
  private backoffDelay(): number {
    const exponent = Math.min(Math.max(this.failures - 1, 0), 30);
    const full = Math.min(this.retryMaxDelay, this.retryBaseDelay * 2 ** exponent);
    return Math.round(full / 2 + (Math.random() * full) / 2);
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
    if (this.closed) return;
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
    if (this.room === null || (!this.closed && this.held() >= this.maxPending)) return;
    const { resolve } = this.room;
    this.room = null;
    resolve();
  }

  /** Drops the buffered writes of a deleted job and of its runs. */
  private discard(jobId: string): void {
    this.deleteEpoch++;
    this.known.delete(jobId);
    this.pendingJobs.delete(jobId);
    for (const [id, run] of this.pendingRuns) {
      if (run.jobId !== jobId) continue;
      this.pendingRuns.delete(id);
      this.unsaved.delete(id);
    }
    this.releaseRoom();
  }
}

function noop(): void {}

function newestFirst(a: RankedRun, b: RankedRun): number {
  return b.run.startAt.getTime() - a.run.startAt.getTime() || b.rank - a.rank;
}

function hasRunOf(runs: Map<string, Run>, jobId: string): boolean {
  for (const run of runs.values()) if (run.jobId === jobId) return true;
  return false;
}

function integerOption(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new InvalidOptionsError(option, value, `an integer of at least ${min}`);
  return value;
}

function delayOption(option: string, value: unknown, min: number): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > MAX_TIMER_DELAY
  )
    throw new InvalidOptionsError(
      option,
      value,
      `a number of milliseconds from ${min} to ${MAX_TIMER_DELAY}`,
    );
  return value;
}
