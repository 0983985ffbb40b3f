import type { LRUCache } from 'lru-cache';
import { copyJob } from '../core/record-copy.js';
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
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import {
  JobStorage,
  isBatchStorage,
  isPrunableStorage,
  type RunPruneCriteria,
} from '../interfaces/job-storage.js';
import type { CachingStorageMetrics } from '../interfaces/metrics.interface.js';
import type { CachingStorageOptions } from './caching-storage-options.interface.js';
import { jobLru } from './job-lru.js';

const NAME = 'CachingStorage';

/**
 * What is under way for one job id: the read that misses share, and the writes. Kept only while
 * something is under way (a read detached by a write keeps its own reference).
 */
interface Flight {
  /** The inner read that a miss joins, or `null` (none, or detached by a write that started since). */
  read: Promise<Job | null> | null;
  /**
   * Bumped when a write of the id starts or ends and on invalidation: a read, or a write, that sees it
   * change while under way does not fill the cache (its result may be older than another write's).
   */
  gen: number;
  /** Writes of the id under way. */
  writers: number;
}

/**
 * A read-through, write-through LRU cache of jobs around a `JobStorage` (`enableCache`).
 *
 * `getJob` answers from the cache (a copy) while the job is fresh: at most `capacity` jobs, each for
 * `ttl` after it was read or written. A miss reads the inner storage, in the caller's async context
 * (tracing continuity); concurrent misses for one id share that one read (singleflight); a failed read
 * is not cached, and neither is `null` (a job created afterwards, here or by another process, is seen
 * at once). Expired jobs are swept out every `cleanupInterval` (an unref'd timer, started by the first
 * job cached, stopped by `dispose()` and `close()`).
 *
 * Writes keep it true, with no stale read once a write has resolved: `createJob` and `updateJob` cache
 * a copy of what they wrote once the inner storage accepted it; `deleteJob` drops the job;
 * `batchUpdateJobs` refreshes the jobs that are cached and leaves the others out (the inner storage
 * skips unknown ids); a failed write drops the job (its outcome is unknown). A write that overlaps a
 * miss or another write of the same id drops the job instead of caching anything, and such a miss
 * does not fill the cache, so an older value never overwrites a newer one. `listJobs` and every run
 * method pass straight through and do not touch the cache (a listing would flood it with cold jobs).
 *
 * Writes made by other processes are seen when the cached copy expires (`ttl`), or after
 * `invalidate()`. What is cached is what was written: a storage that normalizes a value on write (e.g.
 * replaces NUL characters in text) returns the normalized value only once the cached copy is gone.
 *
 * `isBatchStorage(cache)` and `isPrunableStorage(cache)` hold exactly when they hold for `inner`:
 * `batchUpdateJobs`, `batchUpdateRuns` and `pruneRuns` are defined on the instance only then.
 */
export class CachingStorage extends JobStorage {
  /** The wrapped storage. */
  readonly inner: JobStorage;

  /** Writes several jobs (`BatchStorage`); defined only when `inner` is a `BatchStorage`. */
  declare readonly batchUpdateJobs?: (jobs: Job[]) => Promise<void>;
  /** Writes several runs, passed through (`BatchStorage`); defined only when `inner` is a `BatchStorage`. */
  declare readonly batchUpdateRuns?: (runs: Run[]) => Promise<void>;
  /** Prunes run history, passed through (`PrunableStorage`); defined only when `inner` is a `PrunableStorage`. */
  declare readonly pruneRuns?: (criteria: RunPruneCriteria) => Promise<number>;

  private readonly logger: JobLogger;
  private readonly cleanupInterval: number;
  /** Fresh jobs by id; never handed out (callers get copies). */
  private readonly cache: LRUCache<string, Job>;
  /** Reads and writes under way, by job id. */
  private readonly flights = new Map<string, Flight>();
  /** The sweep of expired jobs; armed when the first job is cached. */
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(inner: JobStorage, options: CachingStorageOptions) {
    super();
    if (typeof (inner as Partial<JobStorage> | null)?.getJob !== 'function')
      throw new InvalidOptionsError('inner', inner, 'a JobStorage instance');
    this.inner = inner;
    const { logger, cache, cleanupInterval } = jobLru(options, () => this.evictions++);
    this.logger = logger;
    this.cache = cache;
    this.cleanupInterval = cleanupInterval;

    if (isBatchStorage(inner)) {
      const batchUpdateJobs = (jobs: Job[]): Promise<void> => this.writeBatch(inner, jobs);
      const batchUpdateRuns = (runs: Run[]): Promise<void> =>
        this.closed ? rejectClosed() : inner.batchUpdateRuns(runs);
      Object.assign(this, { batchUpdateJobs, batchUpdateRuns });
    }
    if (isPrunableStorage(inner)) {
      const pruneRuns = (criteria: RunPruneCriteria): Promise<number> =>
        this.closed ? rejectClosed() : inner.pruneRuns(criteria);
      Object.assign(this, { pruneRuns });
    }
  }

  // ---- jobs -----------------------------------------------------------------------------------

  /** A copy of the cached job when fresh; else the inner storage's, read once for concurrent callers. */
  override getJob(id: string): Promise<Job | null> {
    if (this.closed) return rejectClosed();
    const cached = this.cache.get(id);
    if (cached !== undefined) {
      this.hits++;
      return Promise.resolve(copyJob(cached));
    }
    this.misses++;
    let flight = this.flights.get(id);
    if (flight === undefined) {
      flight = { read: null, gen: 0, writers: 0 };
      this.flights.set(id, flight);
    } else if (flight.read !== null) {
      return flight.read.then(copyOrNull);
    }
    return this.load(id, flight).then(copyOrNull);
  }

  /** Creates the job, then caches a copy of it. */
  override createJob(job: Job): Promise<void> {
    return this.writeThrough('createJob', job);
  }

  /** Updates the job, then caches a copy of it. */
  override updateJob(job: Job): Promise<void> {
    return this.writeThrough('updateJob', job);
  }

  /** Deletes the job and drops it from the cache (also when the deletion fails). */
  override async deleteJob(id: string): Promise<void> {
    this.assertOpen();
    const flight = this.beginWrite(id);
    const gen = flight.gen;
    try {
      await this.inner.deleteJob(id);
    } finally {
      this.endWrite(id, flight, gen, null);
    }
  }

  /** The inner storage's list; the cache is neither read nor filled. */
  override listJobs(status?: JobStatus): Promise<Job[]> {
    return this.closed ? rejectClosed() : this.inner.listJobs(status);
  }

  // ---- runs (passed through) ------------------------------------------------------------------

  override createRun(run: Run): Promise<void> {
    return this.closed ? rejectClosed() : this.inner.createRun(run);
  }

  override updateRun(run: Run): Promise<void> {
    return this.closed ? rejectClosed() : this.inner.updateRun(run);
  }

  override getRuns(jobId: string, limit: number): Promise<Run[]> {
    return this.closed ? rejectClosed() : this.inner.getRuns(jobId, limit);
  }

  override getJobRunCount(jobId: string): Promise<number> {
    return this.closed ? rejectClosed() : this.inner.getJobRunCount(jobId);
  }

  // ---- history queries (passed through: the cache holds jobs by id only) ----------------------

  override findJobs(query?: JobQuery): Promise<Page<Job>> {
    return this.closed ? rejectClosed() : this.inner.findJobs(query);
  }

  override findRuns(query?: RunQuery): Promise<Page<Run>> {
    return this.closed ? rejectClosed() : this.inner.findRuns(query);
  }

  override getRun(runId: string): Promise<Run | null> {
    return this.closed ? rejectClosed() : this.inner.getRun(runId);
  }

  override runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    return this.closed ? rejectClosed() : this.inner.runStats(query);
  }

  // ---- cache control --------------------------------------------------------------------------

  /**
   * Drops the job with this id from the cache, or every job when no id is given (e.g. after another
   * process changed them); reads and writes under way for them will not fill it.
   */
  invalidate(id?: string): void {
    if (id === undefined) {
      for (const flight of this.flights.values()) detach(flight);
      this.cache.clear();
      return;
    }
    const flight = this.flights.get(id);
    if (flight !== undefined) detach(flight);
    this.cache.delete(id);
  }

  /** Counters, and how many jobs are held. */
  metrics(): CachingStorageMetrics {
    return {
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      size: this.cache.size,
    };
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Stops the sweep and empties the cache, leaving the inner storage open and this wrapper usable
   * (the next job cached arms the sweep again): for an owner that does not own the inner storage,
   * such as a scheduler that stops. Idempotent.
   */
  dispose(): void {
    this.stopSweep();
    this.invalidate();
  }

  /**
   * Stops taking calls (they reject with `StorageClosedError`), stops the sweep, empties the cache,
   * then closes the inner storage (and resolves or rejects as it does). Idempotent.
   */
  override close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  override ping(): Promise<void> {
    return this.closed ? rejectClosed() : this.inner.ping();
  }

  private shutdown(): Promise<void> {
    this.closed = true;
    this.dispose();
    this.flights.clear();
    try {
      return this.inner.close();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new StorageClosedError(NAME);
  }

  /**
   * Starts the shared read of a missing job (called from the caller's own `getJob`, so the inner
   * storage runs in its async context) and fills the cache with its result unless a write or an
   * invalidation happened meanwhile.
   */
  private load(id: string, flight: Flight): Promise<Job | null> {
    const gen = flight.gen;
    let read: Promise<Job | null>;
    try {
      read = this.inner.getJob(id);
    } catch (err) {
      read = Promise.reject(err);
    }
    flight.read = read;
    // Registered before the callers' own callbacks: the cache is filled before any of them resumes.
    read.then(
      (job) => {
        if (flight.read === read) flight.read = null;
        if (job !== null && flight.gen === gen && flight.writers === 0 && !this.closed)
          this.put(id, job);
        this.release(id, flight);
      },
      () => {
        if (flight.read === read) flight.read = null;
        this.release(id, flight);
      },
    );
    return read;
  }

  /** Marks a write of `id` under way: misses from now on read again, and reads under way will not cache. */
  private beginWrite(id: string): Flight {
    let flight = this.flights.get(id);
    if (flight === undefined) {
      flight = { read: null, gen: 0, writers: 0 };
      this.flights.set(id, flight);
    }
    detach(flight);
    flight.writers++;
    return flight;
  }

  /**
   * Ends a write begun at `gen`: caches `written` when given and nothing else touched the id
   * meanwhile, else drops the id from the cache.
   */
  private endWrite(id: string, flight: Flight, gen: number, written: Job | null): void {
    flight.writers--;
    const alone = flight.gen === gen;
    detach(flight);
    if (written !== null && alone && !this.closed) this.put(id, written);
    else this.cache.delete(id);
    this.release(id, flight);
  }

  /** `createJob` / `updateJob` through the inner storage, then a copy of the job cached. */
  private async writeThrough(method: 'createJob' | 'updateJob', job: Job): Promise<void> {
    this.assertOpen();
    const id = idOf(job);
    // Not a job the cache can key: the inner storage says what is wrong with it.
    if (id === null) return this.inner[method](job);
    const copy = tryCopy(job);
    const flight = this.beginWrite(id);
    const gen = flight.gen;
    try {
      await this.inner[method](job);
    } catch (err) {
      this.endWrite(id, flight, gen, null);
      throw err;
    }
    this.endWrite(id, flight, gen, copy);
  }

  private async writeBatch(
    inner: { batchUpdateJobs(jobs: Job[]): Promise<void> },
    jobs: Job[],
  ): Promise<void> {
    this.assertOpen();
    if (!Array.isArray(jobs) || !jobs.every((job) => idOf(job) !== null))
      return inner.batchUpdateJobs(jobs);
    const count = jobs.length;
    // Only jobs cached now are known to exist: the inner storage skips the others.
    const copies: Array<Job | null> = [];
    const flights: Flight[] = [];
    const gens: number[] = [];
    for (let i = 0; i < count; i++) {
      const job = jobs[i];
      copies.push(this.cache.has(job.id) ? tryCopy(job) : null);
      const flight = this.beginWrite(job.id);
      flights.push(flight);
      gens.push(flight.gen);
    }
    let ok = false;
    try {
      await inner.batchUpdateJobs(jobs);
      ok = true;
    } finally {
      for (let i = 0; i < count; i++) {
        this.endWrite(jobs[i].id, flights[i], gens[i], ok ? copies[i] : null);
      }
    }
  }

  private put(id: string, job: Job): void {
    this.cache.set(id, job);
    if (this.timer === null) {
      this.timer = setInterval(this.sweep, this.cleanupInterval);
      this.timer.unref();
    }
  }

  private stopSweep(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Forgets the flight once nothing is under way for its id. */
  private release(id: string, flight: Flight): void {
    if (flight.read === null && flight.writers === 0 && this.flights.get(id) === flight)
      this.flights.delete(id);
  }

  private readonly sweep = (): void => {
    try {
      this.cache.purgeStale();
    } catch (err) {
      try {
        this.logger.error(`${NAME}: sweeping expired jobs failed: ${errorForLog(err)}`);
      } catch {
        // The logger is where errors go: nothing more to do.
      }
    }
  };
}

/** Stops a flight's read from being joined or filling the cache. */
function detach(flight: Flight): void {
  flight.gen++;
  flight.read = null;
}

/** The id of something that looks like a job, else `null`. */
function idOf(job: Job): string | null {
  return typeof job === 'object' && job !== null && typeof job.id === 'string' ? job.id : null;
}

function copyOrNull(job: Job | null): Job | null {
  return job === null ? null : copyJob(job);
}

/** A copy of what a caller writes, or `null` when it cannot be copied (then it is not cached). */
function tryCopy(job: Job): Job | null {
  try {
    return copyJob(job);
  } catch {
    return null;
  }
}

function rejectClosed(): Promise<never> {
  return Promise.reject(new StorageClosedError(NAME));
}
