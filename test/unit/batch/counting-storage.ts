import type {
  JobQuery,
  Page,
  RunQuery,
  RunStatsBucket,
  RunStatsQuery,
} from '../../../lib/interfaces/history-query.interface.js';
import type { Job, JobStatus } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { JobStorage, type BatchStorage } from '../../../lib/interfaces/job-storage.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';

type Method =
  | 'createJob'
  | 'getJob'
  | 'updateJob'
  | 'deleteJob'
  | 'listJobs'
  | 'createRun'
  | 'updateRun'
  | 'getRuns'
  | 'getJobRunCount'
  | 'findJobs'
  | 'findRuns'
  | 'getRun'
  | 'runStats'
  | 'close'
  | 'ping'
  | 'batchUpdateJobs'
  | 'batchUpdateRuns';

/**
 * A `JobStorage` without `BatchStorage` over a `MemoryStorage`: counts calls, logs them in order, and
 * can fail writes (`failure`) or hold them until released (`hold()`).
 */
export class PerRecordStorage extends JobStorage {
  readonly memory = new MemoryStorage();
  /** Calls per method. */
  readonly calls: Record<Method, number> = {
    createJob: 0,
    getJob: 0,
    updateJob: 0,
    deleteJob: 0,
    listJobs: 0,
    createRun: 0,
    updateRun: 0,
    getRuns: 0,
    getJobRunCount: 0,
    findJobs: 0,
    findRuns: 0,
    getRun: 0,
    runStats: 0,
    close: 0,
    ping: 0,
    batchUpdateJobs: 0,
    batchUpdateRuns: 0,
  };
  /** Every call, in order. */
  readonly log: Method[] = [];
  /** What each write call was given (copies of the arrays, the records as passed). */
  readonly writes: Array<{ method: Method; records: Array<Job | Run> }> = [];
  /** While set, writes reject with it (after any hold). */
  failure: Error | null = null;
  private gate: Promise<void> | null = null;

  /** Makes writes wait from now on until the returned function is called. */
  hold(): () => void {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.gate = gate;
    return () => {
      if (this.gate === gate) this.gate = null;
      release();
    };
  }

  /** How many records all write calls of these methods were given. */
  records(...methods: Method[]): number {
    return this.writes
      .filter((write) => methods.includes(write.method))
      .reduce((sum, write) => sum + write.records.length, 0);
  }

  protected count(method: Method): void {
    this.calls[method]++;
    this.log.push(method);
  }

  protected async write<T>(
    method: Method,
    records: Array<Job | Run>,
    apply: () => Promise<T>,
  ): Promise<T> {
    this.count(method);
    this.writes.push({ method, records: [...records] });
    if (this.gate !== null) await this.gate;
    if (this.failure !== null) throw this.failure;
    return apply();
  }

  override createJob(job: Job): Promise<void> {
    this.count('createJob');
    return this.memory.createJob(job);
  }
  override getJob(id: string): Promise<Job | null> {
    this.count('getJob');
    return this.memory.getJob(id);
  }
  override updateJob(job: Job): Promise<void> {
    return this.write('updateJob', [job], () => this.memory.updateJob(job));
  }
  override deleteJob(id: string): Promise<void> {
    this.count('deleteJob');
    return this.memory.deleteJob(id);
  }
  override listJobs(status?: JobStatus): Promise<Job[]> {
    this.count('listJobs');
    return this.memory.listJobs(status);
  }
  override createRun(run: Run): Promise<void> {
    return this.write('createRun', [run], () => this.memory.createRun(run));
  }
  override updateRun(run: Run): Promise<void> {
    return this.write('updateRun', [run], () => this.memory.updateRun(run));
  }
  override getRuns(jobId: string, limit: number): Promise<Run[]> {
    this.count('getRuns');
    return this.memory.getRuns(jobId, limit);
  }
  override getJobRunCount(jobId: string): Promise<number> {
    this.count('getJobRunCount');
    return this.memory.getJobRunCount(jobId);
  }
  override findJobs(query?: JobQuery): Promise<Page<Job>> {
    this.count('findJobs');
    return this.memory.findJobs(query);
  }
  override findRuns(query?: RunQuery): Promise<Page<Run>> {
    this.count('findRuns');
    return this.memory.findRuns(query);
  }
  override getRun(runId: string): Promise<Run | null> {
    this.count('getRun');
    return this.memory.getRun(runId);
  }
  override runStats(query: RunStatsQuery): Promise<RunStatsBucket[]> {
    this.count('runStats');
    return this.memory.runStats(query);
  }
  override close(): Promise<void> {
    this.count('close');
    return this.memory.close();
  }
  override ping(): Promise<void> {
    this.count('ping');
    return this.memory.ping();
  }
}

/** `PerRecordStorage` plus `BatchStorage`. */
export class CountingBatchStorage extends PerRecordStorage implements BatchStorage {
  batchUpdateJobs(jobs: Job[]): Promise<void> {
    return this.write('batchUpdateJobs', jobs, () => this.memory.batchUpdateJobs(jobs));
  }
  batchUpdateRuns(runs: Run[]): Promise<void> {
    return this.write('batchUpdateRuns', runs, () => this.memory.batchUpdateRuns(runs));
  }
}
