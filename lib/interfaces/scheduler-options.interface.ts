import type { Duration } from './job.interface.js';
import type { JobLogger } from './logger.interface.js';
import type { JobTracer } from './job-tracer.js';

/** Options of the core `Scheduler` (and of `JobModule`, which adds `storage`). Defaults in the README's options table. */
export interface SchedulerOptions {
  /** Most handlers running at once. Default 5. */
  concurrentRuns?: number;
  /** A run longer than this is aborted and recorded failed. Default `'5m'`. */
  jobTimeout?: Duration;
  /** Wait before retrying a failed run. Default `'5s'`. */
  retryDelay?: Duration;
  /** Start on application bootstrap (JobModule); the core `Scheduler` is started by calling `start()`. Default true. */
  autoStart?: boolean;
  /** Where the scheduler logs. Default: Nest's `Logger` with context `JobScheduler`. */
  logger?: JobLogger;
  /** Collect job and run writes and flush them in batches. Default false. */
  enableBatchUpdate?: boolean;
  /** Flush when this many writes are pending. Default 10. */
  batchSize?: number;
  /** Flush at least this often. Default `'1s'`. */
  batchFlushInterval?: Duration;
  /** Keep hot jobs in an LRU cache. Default false. */
  enableCache?: boolean;
  /** Most jobs kept in the cache. Default 100. */
  cacheCapacity?: number;
  /** How long a cached job stays fresh. Default `'5m'`. */
  cacheTTL?: Duration;
  /** How often expired cache entries are swept. Default `'1m'`. */
  cacheCleanupInterval?: Duration;
  /** How long `stop()` waits for in-flight runs before aborting them. Default `'30s'`. */
  shutdownTimeout?: Duration;
  /** Longest output (UTF-8 bytes) kept on a run; longer is truncated with a marker. Default 65536. */
  maxOutputSize?: number;
  /** A fire that starts later than this after its instant is missed (see a job's `misfirePolicy`). Default `'1s'`. */
  misfireThreshold?: Duration;
  /**
   * Prune run history in the background (needs a storage with `pruneRuns`: MemoryStorage and
   * TypeOrmStorage have it). Off by default: every run is kept.
   */
  historyRetention?: HistoryRetentionOptions | null;
  /** Traces runs and batch flushes. Default: `createJobTracer()` (OpenTelemetry when installed). */
  tracer?: JobTracer;
  /**
   * Several instances (processes, hosts) on one database: each fire runs once across them. Needs a
   * storage that can claim fires atomically (`TypeOrmStorage` on PostgreSQL, MySQL or MariaDB).
   * `true` takes the defaults. Off by default.
   */
  cluster?: boolean | ClusterOptions | null;
}

/** Cluster mode's settings (`cluster: true` takes all the defaults). */
export interface ClusterOptions {
  /** This instance's name in the lease table; unique per running instance. Default `<hostname>-<pid>`. */
  instanceId?: string;
  /** A lease not renewed for this long (database clock) is lost: its runs are recorded failed. Default `'30s'`. */
  leaseTtl?: Duration;
  /** How often the lease is renewed (and leases that expired are looked for). Default `'10s'`. */
  heartbeatInterval?: Duration;
  /** How often jobs added, changed or removed by other instances are read. Default `'1s'`. */
  pollInterval?: Duration;
}

/** `ClusterOptions` validated, durations in milliseconds. */
export interface NormalizedClusterOptions {
  instanceId: string;
  leaseTtl: number;
  heartbeatInterval: number;
  pollInterval: number;
}

/** How much run history to keep; at least one of `maxRunsPerJob` and `maxAge`. */
export interface HistoryRetentionOptions {
  /** Keep the newest N runs of each job. */
  maxRunsPerJob?: number;
  /** Drop finished runs that started longer ago than this. */
  maxAge?: Duration;
  /** How often to prune. Default `'1m'`. */
  interval?: Duration;
  /** Most runs deleted per statement (a bounded batch). Default 1000. */
  batchSize?: number;
}

/** `HistoryRetentionOptions` validated, durations in milliseconds. */
export interface NormalizedHistoryRetention {
  maxRunsPerJob: number | undefined;
  maxAge: number | undefined;
  interval: number;
  batchSize: number;
}

/** `SchedulerOptions` with every default filled and every duration in milliseconds. */
export interface NormalizedSchedulerOptions {
  concurrentRuns: number;
  jobTimeout: number;
  retryDelay: number;
  autoStart: boolean;
  logger: JobLogger;
  enableBatchUpdate: boolean;
  batchSize: number;
  batchFlushInterval: number;
  enableCache: boolean;
  cacheCapacity: number;
  cacheTTL: number;
  cacheCleanupInterval: number;
  shutdownTimeout: number;
  maxOutputSize: number;
  misfireThreshold: number;
  /** `null` when history is kept whole. */
  historyRetention: NormalizedHistoryRetention | null;
  /** The tracer given, or undefined for the default (OpenTelemetry when its API is installed). */
  tracer: JobTracer | undefined;
  /** `null` when this instance runs alone. */
  cluster: NormalizedClusterOptions | null;
}
