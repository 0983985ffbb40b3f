import type {
  Attributes,
  Histogram,
  Meter,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
} from '@opentelemetry/api';
import { DurationWindow, DEFAULT_DURATION_WINDOW } from './duration-window.js';
import {
  INSTRUMENTATION_NAME,
  instrumentationVersion,
  loadOpenTelemetryApi,
  type OtelApi,
} from './otel-api.js';

/** What the run counters and gauges read from the scheduler (its `metrics()` fits as is). */
export interface SchedulerMetricsSnapshot {
  runsStarted: number;
  runsSucceeded: number;
  runsFailed: number;
  runsRetried: number;
  runsTimedOut: number;
  firesSkipped: number;
  runningNow: number;
  queuedNow: number;
  /** Jobs waiting for their handler to be registered (the gauge reports 0 when absent). */
  jobsWithoutHandler?: number;
}

/** What the batch counters read (a `BatchingStorage`'s `metrics()` fits as is). */
export interface BatchMetricsSnapshot {
  flushes: number;
  flushedJobs: number;
  flushedRuns: number;
  flushFailures: number;
}

/** What the cache counters read. */
export interface CacheMetricsSnapshot {
  hits: number;
  misses: number;
  evictions: number;
}

/** Options of `JobMetrics`. */
export interface JobMetricsOptions {
  /** The `@opentelemetry/api` module; default: the installed one; `null`: no instruments. */
  api?: OtelApi | null;
  /** Where to get the meter; default: the global one (`metrics.setGlobalMeterProvider`). */
  meterProvider?: MeterProvider;
  /** Read at each collection by the `job.runs.*` counters and gauges. */
  scheduler?: () => SchedulerMetricsSnapshot;
  /** Read at each collection by the `job.batch.*` counters; undefined: nothing to report. */
  batch?: () => BatchMetricsSnapshot | undefined;
  /** Read at each collection by the `job.cache.*` counters; undefined: nothing to report. */
  cache?: () => CacheMetricsSnapshot | undefined;
  /**
   * Added to every measurement. Two schedulers in one process report the same observable series
   * (and garble each other's counts) unless they set distinct attributes here, e.g.
   * `{ 'scheduler.instance': instanceId }`.
   */
  attributes?: Attributes;
  /** Durations kept for the `metrics()` quantiles (default 1024). */
  durationWindow?: number;
}

/** `job.run.duration` attributes of one handler, made once per handler name. */
interface HandlerAttributes {
  success: Attributes;
  failed: Attributes;
}

type Counted = Exclude<
  keyof SchedulerMetricsSnapshot,
  'runningNow' | 'queuedNow' | 'jobsWithoutHandler'
>;

/** The run counters: instrument name, snapshot field, description. */
const RUN_COUNTERS: readonly (readonly [string, Counted, string])[] = [
  ['job.runs.started', 'runsStarted', 'Runs started.'],
  ['job.runs.succeeded', 'runsSucceeded', 'Runs that ended successfully.'],
  ['job.runs.failed', 'runsFailed', 'Runs that failed (time-outs and aborts included).'],
  ['job.runs.retried', 'runsRetried', 'Failed runs whose job was scheduled for a retry.'],
  ['job.runs.timed_out', 'runsTimedOut', 'Runs failed for exceeding jobTimeout.'],
  ['job.runs.skipped', 'firesSkipped', "Fires not run because the job's previous run was going."],
];

const NOOP_HISTOGRAM: Histogram = { record() {} };

/** Bucket boundaries of `job.run.duration` (ms): 5 ms to 5 min. */
const DURATION_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000,
];

/**
 * The scheduler's OpenTelemetry instruments, on `@opentelemetry/api` only (nothing is recorded
 * until the application registers a MeterProvider), and the window of run durations behind the
 * `metrics()` quantiles.
 *
 * One instrument is recorded per run: the histogram `job.run.duration` (ms; attributes
 * `job.handler`, `run.status`), in `runEnded`, which also feeds `durations`. Everything else is
 * observed at collection time from the snapshot functions, so it costs the hot path nothing and
 * always equals `metrics()`: the counters `job.runs.started`, `.succeeded`, `.failed`, `.retried`,
 * `.timed_out`, `.skipped` and the gauges `job.runs.running`, `job.runs.queued`,
 * `job.jobs.without_handler` (from `scheduler`);
 * `job.batch.flushes`, `job.batch.flushed_records` (`record.kind` job / run),
 * `job.batch.flush_failures` (from `batch`); `job.cache.hits`, `.misses`, `.evictions` (from
 * `cache`).
 *
 * The meter is taken once, at construction: the metrics API has no proxy, so the application's
 * MeterProvider must be registered before the scheduler is made. The snapshot functions are read
 * only between `start()` and `stop()` (a stopped scheduler is not kept alive by the global
 * MeterProvider).
 */
export class JobMetrics {
  readonly durations: DurationWindow;
  private readonly base: Attributes;
  private readonly byHandler = new Map<string, HandlerAttributes>();
  private readonly duration: Histogram;
  /** Observable instruments and their callbacks, registered by `start()`. */
  private readonly observers: [Observable, ObservableCallback][] = [];
  private observing = false;

  constructor(options: JobMetricsOptions = {}) {
    this.durations = new DurationWindow(options.durationWindow ?? DEFAULT_DURATION_WINDOW);
    this.base = { ...options.attributes };
    const api = options.api === undefined ? loadOpenTelemetryApi() : options.api;
    if (api === null) {
      this.duration = NOOP_HISTOGRAM;
      return;
    }
    const meter = (options.meterProvider ?? api.metrics).getMeter(
      INSTRUMENTATION_NAME,
      instrumentationVersion(),
    );
    this.duration = meter.createHistogram('job.run.duration', {
      description: 'Run duration, from its start to the handler settling (or the time-out).',
      unit: 'ms',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const int = api.ValueType.INT;
    const base = this.base;

    const scheduler = options.scheduler;
    if (scheduler !== undefined) {
      for (const [name, field, description] of RUN_COUNTERS) {
        this.counter(meter, name, { description, unit: '{run}', valueType: int }, (result) =>
          result.observe(scheduler()[field], base),
        );
      }
      this.observe(
        meter.createObservableGauge('job.runs.running', {
          description: 'Handlers running now.',
          unit: '{run}',
          valueType: int,
        }),
        (result) => result.observe(scheduler().runningNow, base),
      );
      this.observe(
        meter.createObservableGauge('job.runs.queued', {
          description: 'Due runs waiting for a free slot.',
          unit: '{run}',
          valueType: int,
        }),
        (result) => result.observe(scheduler().queuedNow, base),
      );
      this.observe(
        meter.createObservableGauge('job.jobs.without_handler', {
          description: 'Jobs not fired because no handler of their name is registered here.',
          unit: '{job}',
          valueType: int,
        }),
        (result) => result.observe(scheduler().jobsWithoutHandler ?? 0, base),
      );
    }

    const batch = options.batch;
    if (batch !== undefined) {
      const jobs = { ...base, 'record.kind': 'job' };
      const runs = { ...base, 'record.kind': 'run' };
      const flushes = { unit: '{flush}', valueType: int };
      this.counter(
        meter,
        'job.batch.flushes',
        { ...flushes, description: 'Batch flushes that wrote everything they took.' },
        (result) => {
          const snapshot = batch();
          if (snapshot !== undefined) result.observe(snapshot.flushes, base);
        },
      );
      this.counter(
        meter,
        'job.batch.flushed_records',
        { description: 'Records written by batch flushes.', unit: '{record}', valueType: int },
        (result) => {
          const snapshot = batch();
          if (snapshot === undefined) return;
          result.observe(snapshot.flushedJobs, jobs);
          result.observe(snapshot.flushedRuns, runs);
        },
      );
      this.counter(
        meter,
        'job.batch.flush_failures',
        { ...flushes, description: 'Failed batch flush attempts (their records are retried).' },
        (result) => {
          const snapshot = batch();
          if (snapshot !== undefined) result.observe(snapshot.flushFailures, base);
        },
      );
    }

    const cache = options.cache;
    if (cache !== undefined) {
      const counters = [
        ['hits', '{hit}'],
        ['misses', '{miss}'],
        ['evictions', '{eviction}'],
      ] as const;
      for (const [field, unit] of counters) {
        this.counter(
          meter,
          `job.cache.${field}`,
          { description: `Job cache ${field}.`, unit, valueType: int },
          (result) => {
            const snapshot = cache();
            if (snapshot !== undefined) result.observe(snapshot[field], base);
          },
        );
      }
    }
  }

  /** A run ended: records its duration (ms) in `job.run.duration` and in `durations`. */
  runEnded(handlerName: string, status: 'success' | 'failed', durationMs: number): void {
    const ms = durationMs > 0 && durationMs !== Infinity ? durationMs : 0;
    this.durations.record(ms);
    const attributes = this.attributesOf(handlerName);
    this.duration.record(ms, status === 'success' ? attributes.success : attributes.failed);
  }

  /** Lets the observable instruments read the snapshot functions at each collection. Idempotent. */
  start(): void {
    if (this.observing) return;
    this.observing = true;
    for (const [observable, callback] of this.observers) observable.addCallback(callback);
  }

  /** Stops the observable instruments from reading the snapshot functions. Idempotent. */
  stop(): void {
    if (!this.observing) return;
    this.observing = false;
    for (const [observable, callback] of this.observers) observable.removeCallback(callback);
  }

  private attributesOf(handlerName: string): HandlerAttributes {
    let attributes = this.byHandler.get(handlerName);
    if (attributes === undefined) {
      const handler = { ...this.base, 'job.handler': handlerName };
      attributes = {
        success: { ...handler, 'run.status': 'success' },
        failed: { ...handler, 'run.status': 'failed' },
      };
      this.byHandler.set(handlerName, attributes);
    }
    return attributes;
  }

  private counter(
    meter: Meter,
    name: string,
    options: MetricOptions,
    callback: ObservableCallback,
  ): void {
    this.observe(meter.createObservableCounter(name, options), callback);
  }

  private observe(observable: Observable, callback: ObservableCallback): void {
    this.observers.push([observable, callback]);
  }
}
