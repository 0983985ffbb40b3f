import type { SpanContext } from '@opentelemetry/api';
import { copyJob, copyRun } from '../core/record-copy.js';
import { errorForLog } from '../core/run-output.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { StorageClosedError } from '../errors/storage-closed.error.js';
import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../interfaces/history-query.interface.js';
import type { Job, JobStatus } from '../interfaces/job.interface.js';
import {
  checkJobQuery,
  checkRunId,
  checkRunQuery,
  checkRunStatsQuery,
} from '../storage/history/history-arguments.js';
import { JobStorage, isBatchStorage, type BatchStorage } from '../interfaces/job-storage.js';
import type { BatchingStorageMetrics } from '../interfaces/metrics.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { BatchBuffer } from './batch-buffer.js';
import { batchingSettings, type BatchingSettings } from './batching-settings.js';
import type { BatchingStorageOptions } from './batching-storage-options.interface.js';
import { hasRunOf, mergeRuns, runsOf } from './buffered-runs.js';
import { KnownJobs } from './known-jobs.js';

const NAME = 'BatchingStorage';
/** How many times `getJobRunCount` re-reads when flushes race with it, before it settles for an estimate. */
const COUNT_ATTEMPTS = 3;

function noop(): void {}

/**
 * A write-behind wrapper around a `JobStorage` (`enableBatchUpdate`).
 *
 * `updateJob`, `createRun` and `updateRun` (and `batchUpdateJobs` / `batchUpdateRuns`) copy the record
 * and buffer it under its id; a later write of the same id replaces the buffered one, so a run's
 * create and update, or many updates of one job, become a single write. The buffer (`BatchBuffer`)
 * is flushed when `batchSize` records are pending and at least every `flushInterval` while anything
 * is pending: runs first, then jobs, through the inner storage's `BatchStorage` methods when it has
 * them, else one `updateRun` / `updateJob` per record. One flush runs at a time.
 *
 * Reads see buffered writes (`getJob`, `listJobs`, `getRuns`, `getJobRunCount`).
 *
 * The `JobStorage` contract holds: `updateJob` of an unknown job rejects with `JobNotFoundError`,
 * `createRun` of a run of an unknown job too, `updateRun` of one is ignored. To keep that cheap the
 * wrapper remembers which job ids it has seen exist (`KnownJobs`); a write for an id it has not seen
 * reads the job from the inner storage once first. A job deleted by another process is not noticed:
 * writes buffered for it are dropped by the inner storage at flush time.
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
  private readonly settings: BatchingSettings;
  private readonly buffer: BatchBuffer;
  private readonly jobs: KnownJobs;
  private closed = false;
  private closing: Promise<void> | null = null;

  constructor(inner: JobStorage, options: BatchingStorageOptions) {
    super();
    if (typeof (inner as Partial<JobStorage> | null)?.getJob !== 'function')
      throw new InvalidOptionsError('inner', inner, 'a JobStorage instance');
    this.inner = inner;
    this.settings = batchingSettings(options);
    this.buffer = new BatchBuffer(inner, isBatchStorage(inner) ? inner : null, this.settings, NAME);
    this.jobs = new KnownJobs(inner, () => this.closed, NAME);
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
    const link = this.settings.tracer.activeSpanContext();
    if (this.jobs.isKnown(copy.id)) return this.buffer.putJob(copy, link);
    return this.jobs.afterCheck(copy.id, true, () => this.buffer.putJob(copy, link));
  }

  /** Buffers the run (written as an upsert); `JobNotFoundError` when its job does not exist. */
  override createRun(run: Run): Promise<void> {
    return this.bufferRun(run, true);
  }

  /** Buffers the run (inserted when absent); ignored when its job does not exist. */
  override updateRun(run: Run): Promise<void> {
    return this.bufferRun(run, false);
  }

  private bufferRun(run: Run, created: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new StorageClosedError(NAME));
    let copy: Run;
    try {
      copy = copyRun(run);
    } catch (err) {
      return Promise.reject(err);
    }
    const link = this.settings.tracer.activeSpanContext();
    if (this.jobs.isKnown(copy.jobId)) return this.buffer.putRun(copy, created, link);
    return this.jobs.afterCheck(copy.jobId, created, () => this.buffer.putRun(copy, created, link));
  }

  /** Buffers each job like `updateJob`, skipping the ones that do not exist. */
  batchUpdateJobs(jobs: Job[]): Promise<void> {
    return this.bufferAll(
      jobs,
      copyJob,
      (job) => job.id,
      (job, link) => this.buffer.putJob(job, link),
    );
  }

  /** Buffers each run like `updateRun`. */
  batchUpdateRuns(runs: Run[]): Promise<void> {
    return this.bufferAll(
      runs,
      copyRun,
      (run) => run.jobId,
      (run, link) => this.buffer.putRun(run, false, link),
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
    const link = this.settings.tracer.activeSpanContext();
    const done = this.buffer.done;
    let waits: Promise<void>[] | null = null;
    for (const record of copies) {
      const jobId = jobIdOf(record);
      const wait = this.jobs.isKnown(jobId)
        ? put(record, link)
        : this.jobs.afterCheck(jobId, false, () => put(record, link));
      if (wait !== done) (waits ??= []).push(wait);
    }
    return waits === null ? done : Promise.all(waits).then(noop);
  }

  // ---- pass-through writes --------------------------------------------------------------------

  override async createJob(job: Job): Promise<void> {
    this.assertOpen();
    await this.inner.createJob(job);
    // Anything still buffered under this id belonged to a job deleted elsewhere.
    this.buffer.pendingJobs.delete(job.id);
    this.jobs.add(job.id);
  }

  /**
   * Deletes the job in the inner storage, then discards the writes buffered for it and its runs (after
   * the deletion, so that a failed deletion loses nothing), waiting for a flush under way to end.
   */
  override async deleteJob(id: string): Promise<void> {
    this.assertOpen();
    // Writes from now on check the job's existence first.
    this.jobs.deleted(id);
    await this.inner.deleteJob(id);
    this.discard(id);
    if (this.buffer.flushing !== null) {
      // Its records of the job are written (and ignored) or put back: discard those too, so that a
      // job created again under this id never receives them.
      await this.buffer.flushing;
      this.discard(id);
    }
  }

  private discard(jobId: string): void {
    this.jobs.deleted(jobId);
    this.buffer.discard(jobId);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** The buffered job if any (a copy), else the inner storage's. */
  override async getJob(id: string): Promise<Job | null> {
    this.assertOpen();
    const buffered = this.buffer.pendingJobs.get(id) ?? this.buffer.flushingJobs.get(id);
    if (buffered !== undefined) return copyJob(buffered);
    const epoch = this.jobs.epoch;
    const job = await this.inner.getJob(id);
    this.jobs.seen(id, job !== null, epoch);
    return job;
  }

  /** The inner storage's jobs (its order), each replaced by its buffered write if any, then filtered. */
  override async listJobs(status?: JobStatus): Promise<Job[]> {
    this.assertOpen();
    const epoch = this.jobs.epoch;
    const { pendingJobs, flushingJobs } = this.buffer;
    if (pendingJobs.size === 0 && flushingJobs.size === 0) {
      const jobs = await this.inner.listJobs(status);
      for (const job of jobs) this.jobs.seen(job.id, true, epoch);
      return jobs;
    }
    // The buffered writes as of this call (a flush may end while the inner storage is read).
    const overlay = new Map(flushingJobs);
    for (const [id, job] of pendingJobs) overlay.set(id, job);
    const stored = await this.inner.listJobs();
    const jobs: Job[] = [];
    for (const job of stored) {
      this.jobs.seen(job.id, true, epoch);
      const buffered = overlay.get(job.id);
      const current = buffered === undefined ? job : copyJob(buffered);
      if (status === undefined || current.status === status) jobs.push(current);
    }
    return jobs;
  }

  /** The inner storage's newest runs merged with the buffered runs of the job (`mergeRuns`). */
  override async getRuns(jobId: string, limit: number): Promise<Run[]> {
    this.assertOpen();
    const count = Math.floor(limit);
    const overlay = runsOf(jobId, this.buffer.flushingRuns, this.buffer.pendingRuns);
    if (overlay === null || !(count > 0)) return this.inner.getRuns(jobId, limit);
    const stored = await this.inner.getRuns(jobId, count + overlay.size);
    return mergeRuns(stored, overlay, count);
  }

  /**
   * The history queries see the buffered writes: what is buffered now is flushed first (after any
   * flush under way), then the inner storage answers; they reject when that flush fails (its
   * records stay buffered). The query is checked before anything is flushed.
   */
  override async findJobs(query?: JobQuery): Promise<Page<Job>> {
    checkJobQuery(query);
    await this.flushForQuery();
    return this.inner.findJobs(query);
  }

  override async findRuns(query?: RunQuery): Promise<Page<Run>> {
    checkRunQuery(query);
    await this.flushForQuery();
    return this.inner.findRuns(query);
  }

  override async runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    checkRunStatsQuery(query);
    await this.flushForQuery();
    return this.inner.runStats(query);
  }

  /** The buffered run if any (a copy), else the inner storage's. */
  override async getRun(runId: string): Promise<Run | null> {
    const id = checkRunId(runId);
    this.assertOpen();
    const buffered = this.buffer.pendingRuns.get(id) ?? this.buffer.flushingRuns.get(id);
    if (buffered !== undefined) return copyRun(buffered);
    return this.inner.getRun(id);
  }

  private async flushForQuery(): Promise<void> {
    this.assertOpen();
    const { pendingJobs, pendingRuns, flushing } = this.buffer;
    if (pendingJobs.size > 0 || pendingRuns.size > 0 || flushing !== null)
      await this.buffer.flush();
  }

  /**
   * The inner storage's count plus the buffered runs it does not hold yet. When the buffer holds an
   * update of a run that may or may not be stored, or a flush of the job's runs is under way, it
   * flushes (or waits for the flush) first, so the count is exact; it rejects if that flush fails.
   */
  override async getJobRunCount(jobId: string): Promise<number> {
    this.assertOpen();
    const buffer = this.buffer;
    for (let attempt = 1; ; attempt++) {
      const settle = attempt >= COUNT_ATTEMPTS;
      if (!settle && buffer.flushing !== null && hasRunOf(buffer.flushingRuns, jobId)) {
        await buffer.flushing;
        continue;
      }
      let unsaved = 0;
      let uncertain = false;
      for (const [id, run] of buffer.pendingRuns) {
        if (run.jobId !== jobId) continue;
        if (buffer.unsaved.has(id)) unsaved++;
        else uncertain = true;
      }
      if (uncertain && !settle) {
        await buffer.flush();
        continue;
      }
      const seq = buffer.flushSeq;
      const stored = await this.inner.getJobRunCount(jobId);
      if (seq === buffer.flushSeq || settle) return stored + unsaved;
    }
  }

  // ---- flushing and lifecycle -----------------------------------------------------------------

  /**
   * Writes everything buffered now: waits for a flush under way, then flushes what is left. Rejects
   * with the inner storage's error when that flush fails; its records stay buffered and are retried.
   */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /**
   * Flushes until nothing is held, retrying a failed flush with backoff, for at most `ms`.
   * Resolves to `'written'`, `'failed'` (the storage kept failing) or `'hung'` (a flush was still
   * under way at the end: its records may land or not).
   */
  flushWithin(ms: number): Promise<'written' | 'failed' | 'hung'> {
    return this.buffer.flushWithin(ms);
  }

  /** Counters, and how many records are not written yet. */
  metrics(): BatchingStorageMetrics {
    return this.buffer.metrics();
  }

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

  private async shutdown(): Promise<void> {
    this.closed = true;
    const { buffer } = this;
    const { closeTimeout } = this.settings;
    buffer.stop();
    const timedOut = (await buffer.flushWithin(closeTimeout)) === 'hung';
    const { pendingJobs: jobs, pendingRuns: runs } = buffer.metrics();
    if (jobs + runs > 0) {
      buffer.report(
        'error',
        `${NAME}: closed with ${jobs + runs} unwritten records (${jobs} jobs, ${runs} runs)${timedOut ? ' possibly' : ''} lost: the storage kept failing for ${closeTimeout} ms (last error: ${errorForLog(buffer.lastError)}).`,
      );
    }
    buffer.clear();
    await this.inner.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError(NAME);
  }
}
