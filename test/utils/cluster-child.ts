/**
 * One scheduler instance in a child process, for the cluster tests and the scale-out benchmark:
 *
 * ```sh
 * node --import tsx test/utils/cluster-child.ts '<ClusterChildConfig as JSON>'
 * ```
 *
 * (or the JSON in the `CLUSTER_CHILD_CONFIG` environment variable). It opens its own DataSource,
 * builds a `Scheduler` on a `TypeOrmStorage` (cluster mode unless `cluster` is null), registers the
 * handlers of its config, starts, and prints one JSON line per event of interest on stdout
 * (`ChildLine`): `ready` once started, the run events asked for, `stats` on SIGUSR2, `stopped` after a
 * graceful stop. SIGTERM (or SIGINT) stops it gracefully: `scheduler.stop()`, then the DataSource is
 * destroyed and the process exits 0. Its scheduler logs go to stderr. Jobs are made by the parent.
 */
import { DataSource, type DataSourceOptions, type Logger } from 'typeorm';
import { Scheduler } from '../../lib/scheduler.js';
import type { JobContext } from '../../lib/interfaces/handler.interface.js';
import type { JobEventType } from '../../lib/interfaces/job-event.interface.js';
import type { JobLogger } from '../../lib/interfaces/logger.interface.js';
import type { SchedulerOptions } from '../../lib/interfaces/scheduler-options.interface.js';
import { NopLogger } from '../../lib/loggers/nop-logger.js';
import { TypeOrmStorage } from '../../lib/storage/typeorm/typeorm.storage.js';

/** How a handler of the child behaves. A run's payload may override it (`HandlerPayload`). */
export interface HandlerBehaviour {
  /** How long the handler waits before it returns (ms); 0: returns at once. */
  ms?: number;
  /** Never settles, and ignores its abort signal (a stuck handler). */
  hang?: boolean;
}

/** What a job of the child's handlers may carry in its payload: overrides of the handler's behaviour. */
export interface HandlerPayload {
  /** How long the first attempt waits (ms). */
  ms?: number;
  /** How long a retry (attempt 2 and later) waits (ms); default `ms`. */
  retryMs?: number;
  /** Throws after waiting (every attempt). */
  fail?: boolean;
}

/** The configuration of one child instance. */
export interface ClusterChildConfig {
  /** TypeORM driver type of the database. */
  type: 'postgres' | 'mariadb' | 'mysql';
  url: string;
  tablePrefix: string;
  /** The cluster options (`instanceId` and timings); null: cluster mode off (a single instance). */
  cluster: {
    instanceId: string;
    leaseTtl?: string | number;
    heartbeatInterval?: string | number;
    pollInterval?: string | number;
  } | null;
  /** A name for the output lines when `cluster` is null. */
  name?: string;
  /** Handlers to register, by name. */
  handlers: Record<string, HandlerBehaviour>;
  /** Scheduler options besides `cluster` and `logger` (durations as strings or ms). */
  scheduler?: Pick<
    SchedulerOptions,
    | 'concurrentRuns'
    | 'jobTimeout'
    | 'retryDelay'
    | 'shutdownTimeout'
    | 'misfireThreshold'
    | 'enableBatchUpdate'
    | 'batchSize'
    | 'batchFlushInterval'
  >;
  /** The run events printed as lines (default: started, succeeded, failed, retrying, timed out). */
  events?: JobEventType[];
  /** Scheduler logs on stderr: `none`, `warn` (warnings and errors, the default) or `all`. */
  log?: 'none' | 'warn' | 'all';
  /** Counts the DataSource's statements (a TypeORM logger), reported by `stats` and `stopped`. */
  countQueries?: boolean;
  /** The DataSource's pool size (default: the driver's, 10). */
  poolSize?: number;
}

/** Statement counts by kind (`countQueries`). */
export interface QueryCounts {
  total: number;
  select: number;
  insert: number;
  update: number;
  delete: number;
  /** BEGIN / START TRANSACTION / COMMIT / ROLLBACK. */
  control: number;
  other: number;
}

/** A line the child prints on stdout (one JSON object per line). */
export type ChildLine =
  | { event: 'ready'; instance: string; pid: number; leaseId: string | undefined; at: number }
  | {
      event: JobEventType;
      instance: string;
      jobId: string;
      runId: string | undefined;
      scheduledAt: number | undefined;
      attempt: number | undefined;
      error: string | undefined;
      at: number;
    }
  | {
      event: 'stats' | 'stopped';
      instance: string;
      at: number;
      runsStarted: number;
      runsSucceeded: number;
      runsFailed: number;
      firesSkipped: number;
      firesClaimedElsewhere: number;
      firesDeferred: number;
      queries: QueryCounts | null;
    }
  | { event: 'error'; instance: string; message: string; at: number };

const DEFAULT_EVENTS: readonly JobEventType[] = [
  'run.started',
  'run.succeeded',
  'run.failed',
  'run.retrying',
  'run.timed_out',
];

/** Counts statements by their first keyword (a TypeORM `Logger`). */
class QueryCounter implements Logger {
  readonly counts: QueryCounts = {
    total: 0,
    select: 0,
    insert: 0,
    update: 0,
    delete: 0,
    control: 0,
    other: 0,
  };

  logQuery(query: string): void {
    const head = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? '';
    const c = this.counts;
    c.total++;
    if (head === 'SELECT' || head === 'WITH') c.select++;
    else if (head === 'INSERT') c.insert++;
    else if (head === 'UPDATE') c.update++;
    else if (head === 'DELETE') c.delete++;
    else if (['BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SET'].includes(head)) c.control++;
    else c.other++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** Scheduler logs on stderr, prefixed with the instance's name. */
class StderrLogger implements JobLogger {
  constructor(
    private readonly instance: string,
    private readonly all: boolean,
  ) {}

  log(message: unknown): void {
    if (this.all) this.write('LOG', message);
  }
  debug(message: unknown): void {
    if (this.all) this.write('DEBUG', message);
  }
  verbose(message: unknown): void {
    if (this.all) this.write('VERBOSE', message);
  }
  warn(message: unknown): void {
    this.write('WARN', message);
  }
  error(message: unknown): void {
    this.write('ERROR', message);
  }

  private write(level: string, message: unknown): void {
    process.stderr.write(
      `${new Date().toISOString()} [${this.instance}] ${level} ${String(message)}\n`,
    );
  }
}

function print(line: ChildLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function readConfig(): ClusterChildConfig {
  const text = process.argv[2] ?? process.env.CLUSTER_CHILD_CONFIG;
  if (text === undefined) {
    throw new Error(
      'cluster-child: pass the configuration as JSON, as the first argument or in CLUSTER_CHILD_CONFIG',
    );
  }
  return JSON.parse(text) as ClusterChildConfig;
}

/** Resolves after `ms`; never when `ms` is Infinity (a hanging handler). */
function wait(ms: number): Promise<void> {
  if (ms === Infinity) return new Promise(() => undefined);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const config = readConfig();
const instance = config.cluster?.instanceId ?? config.name ?? `single-${process.pid}`;
const counter = config.countQueries ? new QueryCounter() : undefined;

const dataSource = new DataSource({
  type: config.type,
  url: config.url,
  ...(config.poolSize === undefined ? {} : { poolSize: config.poolSize }),
  ...(counter ? { logger: counter } : {}),
} as DataSourceOptions);

let scheduler: Scheduler | undefined;
let stopping = false;

function counters(event: 'stats' | 'stopped'): ChildLine {
  const m = scheduler?.metrics();
  return {
    event,
    instance,
    at: Date.now(),
    runsStarted: m?.runsStarted ?? 0,
    runsSucceeded: m?.runsSucceeded ?? 0,
    runsFailed: m?.runsFailed ?? 0,
    firesSkipped: m?.firesSkipped ?? 0,
    firesClaimedElsewhere: m?.firesClaimedElsewhere ?? 0,
    firesDeferred: m?.firesDeferred ?? 0,
    queries: counter ? { ...counter.counts } : null,
  };
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  let code = 0;
  try {
    await scheduler?.stop();
    print(counters('stopped'));
  } catch (error) {
    code = 1;
    print({ event: 'error', instance, message: String(error), at: Date.now() });
  }
  if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
  process.exit(code);
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('SIGUSR2', () => print(counters('stats')));

try {
  await dataSource.initialize();
  const storage = new TypeOrmStorage(dataSource, { tablePrefix: config.tablePrefix });
  const log = config.log ?? 'warn';
  const s = new Scheduler(storage, {
    ...config.scheduler,
    ...(config.cluster ? { cluster: config.cluster } : {}),
    logger: log === 'none' ? new NopLogger() : new StderrLogger(instance, log === 'all'),
  });
  scheduler = s;
  for (const [name, behaviour] of Object.entries(config.handlers)) {
    s.registerHandlerFunc(name, async (payload: HandlerPayload | null, ctx: JobContext) => {
      const p = payload ?? {};
      if (behaviour.hang) return wait(Infinity);
      const first = p.ms ?? behaviour.ms ?? 0;
      const ms = ctx.attempt > 1 ? (p.retryMs ?? first) : first;
      if (ms > 0) await wait(ms);
      if (p.fail) throw new Error(`${name} failed on purpose (attempt ${ctx.attempt})`);
      return instance;
    });
  }
  const printed = new Set<JobEventType>(config.events ?? DEFAULT_EVENTS);
  if (printed.size > 0) {
    s.events$.subscribe((e) => {
      if (!printed.has(e.type)) return;
      print({
        event: e.type,
        instance,
        jobId: e.jobId,
        runId: e.runId,
        scheduledAt: e.run?.scheduledAt.getTime(),
        attempt: e.run?.attempt,
        error: e.error,
        at: e.at,
      });
    });
  }
  await s.start();
  const health = await s.health();
  print({
    event: 'ready',
    instance,
    pid: process.pid,
    leaseId: health.cluster?.leaseId,
    at: Date.now(),
  });
} catch (error) {
  print({
    event: 'error',
    instance,
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    at: Date.now(),
  });
  if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
  process.exit(1);
}
