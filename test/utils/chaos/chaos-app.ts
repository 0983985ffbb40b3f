/**
 * An app under fault: one scheduler, or several cluster instances in this process, each on its own
 * DataSource (its own pool) that a `ConnectionKiller` can cut and that may go through a
 * `FaultProxy`. It runs cron jobs every second, records every handler call, keeps every line the
 * schedulers log, runs queries of its own beside them (an app's own work), and counts what escapes
 * as unhandled. `figures()` compares what ran with what was due, from the tables (read through an
 * admin DataSource that no fault touches).
 */
import type { DataSource } from 'typeorm';
import { Scheduler } from '../../../lib/scheduler.js';
import type { MisfirePolicy } from '../../../lib/interfaces/job.interface.js';
import type { JobLogger } from '../../../lib/interfaces/logger.interface.js';
import type { SchedulerOptions } from '../../../lib/interfaces/scheduler-options.interface.js';
import { TypeOrmStorage } from '../../../lib/storage/typeorm/typeorm.storage.js';
import { dropTables, tablesOf, uniqueTablePrefix, type TestDatabase } from '../databases.js';
import { openConnectionKiller, type ConnectionKiller } from './connection-killer.js';
import type { FaultProxy } from './fault-proxy.js';
import { AppQueries } from './app-queries.js';

/** One handler call: which instance ran which fire, as which run. */
export interface Invocation {
  instance: string;
  jobId: string;
  runId: string;
  scheduledAt: number;
  attempt: number;
  at: number;
}

/** A lifecycle event of an instance (to tell what became of a fire that was lost). */
export interface AppEvent {
  instance: string;
  type: string;
  jobId: string;
  at: number;
  scheduledAt: number | undefined;
  status: string | undefined;
}

/** A line a scheduler logged. */
export interface LogLine {
  instance: string;
  level: 'log' | 'warn' | 'error';
  message: string;
  at: number;
}

export interface ChaosJobSpec {
  /** How many cron jobs. */
  count: number;
  /** They fire every this many seconds (default 1), at the multiples of it. */
  everySeconds?: number;
  /** The misfire policy of job i (default `'fire-once'`). */
  policy?: (i: number) => MisfirePolicy;
  /** `maxMisfires` of the `'fire-all'` jobs. */
  maxMisfires?: number;
  /**
   * One more job, outside the figures: an interval job whose handler takes `handlerMs`, each call
   * recorded in `probeRuns` (to check what a run's time-out counts).
   */
  probe?: { interval: string; handlerMs: number };
}

export interface ChaosAppOptions {
  database: TestDatabase;
  /** Reads the truth and kills connections; never faulted. */
  admin: DataSource;
  /** One scheduler, or this many cluster instances. */
  instances: 1 | 3;
  jobs: ChaosJobSpec;
  /** The instances connect through it when given. */
  via?: FaultProxy;
  /** How long each handler call takes (ms). */
  handlerMs?: number;
  /** Options of every scheduler (on top of the harness's). */
  scheduler?: SchedulerOptions;
}

/** One scheduler of the app. */
export interface ChaosInstance {
  readonly name: string;
  readonly dataSource: DataSource;
  readonly scheduler: Scheduler;
}

/** Collects the lines of one instance. */
class CapturingLogger implements JobLogger {
  constructor(
    private readonly instance: string,
    private readonly lines: LogLine[],
  ) {}
  log(message: unknown): void {
    this.add('log', message);
  }
  warn(message: unknown): void {
    this.add('warn', message);
  }
  error(message: unknown): void {
    this.add('error', message);
  }
  debug(): void {}
  verbose(): void {}
  private add(level: LogLine['level'], message: unknown): void {
    const line = { instance: this.instance, level, message: String(message), at: Date.now() };
    this.lines.push(line);
    if (process.env.CHAOS_VERBOSE)
      console.log(
        `${new Date(line.at).toISOString()} [${this.instance}] ${level}: ${line.message}`,
      );
  }
}

export class ChaosApp {
  readonly invocations: Invocation[] = [];
  /** The probe job's id (when there is one). */
  probeId: string | undefined;
  readonly logs: LogLine[] = [];
  readonly events: AppEvent[] = [];
  readonly instances: ChaosInstance[] = [];
  /** The jobs' ids with their policies. */
  readonly jobs: { id: string; policy: MisfirePolicy }[] = [];
  /** Errors that reached process-level handlers while the app ran. */
  readonly unhandled: unknown[] = [];
  readonly observer: TypeOrmStorage;
  queries!: AppQueries;
  private readonly onUnhandled = (error: unknown): void => {
    this.unhandled.push(error);
  };
  private startedAt = 0;

  private constructor(
    readonly options: ChaosAppOptions,
    readonly killer: ConnectionKiller,
    readonly prefix: string,
  ) {
    this.observer = new TypeOrmStorage(options.admin, { tablePrefix: prefix });
  }

  /** How often the jobs fire (ms). */
  get everyMs(): number {
    return (this.options.jobs.everySeconds ?? 1) * 1_000;
  }

  get label(): string {
    return this.options.instances === 1
      ? '1 instance'
      : `${this.options.instances} cluster instances`;
  }

  /** Opens the app (its DataSources, schedulers and jobs); `start()` starts it. */
  static async open(options: ChaosAppOptions): Promise<ChaosApp> {
    const killer = await openConnectionKiller(options.database, options.admin);
    const app = new ChaosApp(options, killer, uniqueTablePrefix());
    try {
      await app.build();
    } catch (error) {
      await app.dispose();
      throw error;
    }
    return app;
  }

  private async build(): Promise<void> {
    const { options } = this;
    process.on('unhandledRejection', this.onUnhandled);
    process.on('uncaughtException', this.onUnhandled);
    await this.observer.initialize();
    const cluster = options.instances > 1;
    for (let i = 0; i < options.instances; i++) {
      const name = cluster ? `node${i + 1}` : 'app';
      const dataSource = await this.killer.newDataSource({ via: options.via });
      const storage = new TypeOrmStorage(dataSource, { tablePrefix: this.prefix });
      const scheduler = new Scheduler(storage, {
        logger: new CapturingLogger(name, this.logs),
        concurrentRuns: 10,
        shutdownTimeout: '5s',
        ...(cluster ? { cluster: { instanceId: `chaos-${name}` } } : {}),
        ...options.scheduler,
      });
      const handlerMs = options.handlerMs ?? 20;
      scheduler.registerHandlerFunc('chaos', async (_payload, ctx) => {
        this.invocations.push({
          instance: name,
          jobId: ctx.job.id,
          runId: ctx.run.id,
          scheduledAt: ctx.run.scheduledAt.getTime(),
          attempt: ctx.attempt,
          at: Date.now(),
        });
        if (handlerMs > 0) await new Promise((resolve) => setTimeout(resolve, handlerMs));
        return 'ok';
      });
      scheduler.events$.subscribe((event) =>
        this.events.push({
          instance: name,
          type: event.type,
          jobId: event.jobId,
          at: event.at,
          scheduledAt: event.run?.scheduledAt.getTime(),
          status: event.job?.status,
        }),
      );
      this.instances.push({ name, dataSource, scheduler });
    }
    const first = this.instances[0] as ChaosInstance;
    const { count, policy = () => 'fire-once', maxMisfires, probe } = options.jobs;
    if (probe !== undefined) {
      for (const { scheduler } of this.instances) {
        scheduler.registerHandlerFunc(
          'chaos-probe',
          () => new Promise((resolve) => setTimeout(resolve, probe.handlerMs, 'probed')),
        );
      }
      const job = await first.scheduler.addJob({
        id: 'chaos-probe',
        interval: probe.interval,
        handlerName: 'chaos-probe',
      });
      this.probeId = job.id;
    }
    for (let i = 0; i < count; i++) {
      const misfirePolicy = policy(i);
      const job = await first.scheduler.addJob({
        id: `chaos-${String(i).padStart(2, '0')}-${misfirePolicy}`,
        cron: `*/${this.options.jobs.everySeconds ?? 1} * * * * *`,
        handlerName: 'chaos',
        misfirePolicy,
        ...(misfirePolicy === 'fire-all' && maxMisfires !== undefined ? { maxMisfires } : {}),
      });
      this.jobs.push({ id: job.id, policy: misfirePolicy });
    }
    this.queries = new AppQueries(first.dataSource);
  }

  /** Starts every instance and the app's own queries. */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    for (const instance of this.instances) await instance.scheduler.start();
    this.queries.start();
  }

  /** When `start()` was called (epoch ms). */
  get started(): number {
    return this.startedAt;
  }

  /** Stops the app's queries and every instance (each within `limitMs`); resolves to those that did not stop in time. */
  async stop(limitMs = 20_000): Promise<string[]> {
    await this.queries.stop();
    const late: string[] = [];
    await Promise.all(
      this.instances.map(async ({ name, scheduler }) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const stopped = await Promise.race([
          scheduler.stop().then(
            () => true,
            () => true,
          ),
          new Promise<boolean>((resolve) => (timer = setTimeout(resolve, limitMs, false))),
        ]);
        clearTimeout(timer);
        if (!stopped) late.push(name);
      }),
    );
    return late;
  }

  /** Drops the tables, destroys the DataSources, removes the process listeners. */
  async dispose(): Promise<void> {
    try {
      await this.killer.dispose();
      await dropTables(this.options.admin, tablesOf(this.observer));
    } finally {
      process.off('unhandledRejection', this.onUnhandled);
      process.off('uncaughtException', this.onUnhandled);
    }
  }

  /** The run rows of the app's jobs, read through the admin DataSource. */
  async rows(): Promise<RunRow[]> {
    const rows: RunRow[] = [];
    for (const { id } of this.jobs) {
      for (const run of await this.observer.getRuns(id, 1_000_000)) {
        rows.push({
          id: run.id,
          jobId: run.jobId,
          status: run.status,
          scheduledAt: run.scheduledAt.getTime(),
          startAt: run.startAt.getTime(),
          attempt: run.attempt,
          error: run.error,
        });
      }
    }
    return rows;
  }

  /** How many run rows are `running` now. */
  async stuck(): Promise<number> {
    return (await this.rows()).filter((row) => row.status === 'running').length;
  }
}

/** A run row as the figures read it. */
export interface RunRow {
  id: string;
  jobId: string;
  status: string;
  scheduledAt: number;
  startAt: number;
  attempt: number;
  error: string;
}
