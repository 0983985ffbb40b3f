import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  JobMetrics,
  type BatchMetricsSnapshot,
  type SchedulerMetricsSnapshot,
} from '../../../lib/telemetry/job-metrics.js';
import {
  TestMetricReader,
  histogramValue,
  installMetrics,
  pointValue,
  type MetricsSdk,
} from './otel-sdk.js';

function schedulerSnapshot(
  figures: Partial<SchedulerMetricsSnapshot> = {},
): SchedulerMetricsSnapshot {
  return {
    runsStarted: 0,
    runsSucceeded: 0,
    runsFailed: 0,
    runsRetried: 0,
    runsTimedOut: 0,
    firesSkipped: 0,
    runningNow: 0,
    queuedNow: 0,
    ...figures,
  };
}

const DURATION_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 120_000, 300_000,
];

describe('JobMetrics with a registered MeterProvider', () => {
  let sdk: MetricsSdk;

  beforeEach(() => {
    sdk = installMetrics();
  });

  afterEach(async () => {
    await sdk.uninstall();
  });

  it('records run durations per handler and status in job.run.duration and the window', async () => {
    const m = new JobMetrics();
    m.runEnded('report', 'success', 120);
    m.runEnded('report', 'success', 80);
    m.runEnded('report', 'failed', 30);
    m.runEnded('mail', 'failed', 5_000);

    const duration = (await sdk.reader.read()).get('job.run.duration');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration?.descriptor).toMatchObject({ unit: 'ms', name: 'job.run.duration' });
    const ok = histogramValue(duration, { 'job.handler': 'report', 'run.status': 'success' });
    expect(ok).toMatchObject({ count: 2, sum: 200, min: 80, max: 120 });
    // The advised buckets (5 ms .. 5 min), not the SDK's default ones.
    expect(ok?.buckets.boundaries).toEqual(DURATION_BUCKETS);
    expect(
      histogramValue(duration, { 'job.handler': 'report', 'run.status': 'failed' }),
    ).toMatchObject({ count: 1, sum: 30 });
    expect(histogramValue(duration, { 'job.handler': 'mail', 'run.status': 'failed' })?.count).toBe(
      1,
    );

    expect(m.durations.stats()).toEqual({
      count: 4,
      sum: 5_230,
      p50: 80,
      p95: 5_000,
      max: 5_000,
      window: 4,
    });
  });

  it('observes the run counters and gauges from the scheduler snapshot', async () => {
    let snapshot = schedulerSnapshot({
      runsStarted: 10,
      runsSucceeded: 6,
      runsFailed: 3,
      runsRetried: 2,
      runsTimedOut: 1,
      firesSkipped: 4,
      runningNow: 1,
      queuedNow: 7,
      jobsWithoutHandler: 2,
    });
    const m = new JobMetrics({ scheduler: () => snapshot });
    m.start();
    m.start();
    let read = await sdk.reader.read();
    const expected: Record<string, number> = {
      'job.runs.started': 10,
      'job.runs.succeeded': 6,
      'job.runs.failed': 3,
      'job.runs.retried': 2,
      'job.runs.timed_out': 1,
      'job.runs.skipped': 4,
      'job.runs.running': 1,
      'job.runs.queued': 7,
    };
    for (const [name, value] of Object.entries(expected)) {
      expect([name, pointValue(read.get(name))]).toEqual([name, value]);
      expect(read.get(name)?.descriptor.unit).toBe('{run}');
    }
    expect(read.get('job.runs.started')).toMatchObject({
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
    });
    expect(read.get('job.runs.running')?.dataPointType).toBe(DataPointType.GAUGE);
    expect(pointValue(read.get('job.jobs.without_handler'))).toBe(2);
    expect(read.get('job.jobs.without_handler')?.descriptor.unit).toBe('{job}');

    snapshot = { ...snapshot, runsStarted: 12, runningNow: 0 };
    read = await sdk.reader.read();
    expect(pointValue(read.get('job.runs.started'))).toBe(12);
    expect(pointValue(read.get('job.runs.running'))).toBe(0);
    m.stop();
  });

  it('observes batch and cache figures between start() and stop()', async () => {
    let reads = 0;
    let batch: BatchMetricsSnapshot = {
      flushes: 2,
      flushedJobs: 5,
      flushedRuns: 9,
      flushFailures: 1,
    };
    const m = new JobMetrics({
      batch: () => {
        reads++;
        return batch;
      },
      cache: () => {
        reads++;
        return { hits: 10, misses: 4, evictions: 1 };
      },
    });
    let read = await sdk.reader.read();
    expect(read.get('job.batch.flushes')?.dataPoints ?? []).toEqual([]);
    expect(reads).toBe(0);
    m.start();
    read = await sdk.reader.read();
    expect(pointValue(read.get('job.batch.flushes'))).toBe(2);
    expect(pointValue(read.get('job.batch.flushed_records'), { 'record.kind': 'job' })).toBe(5);
    expect(pointValue(read.get('job.batch.flushed_records'), { 'record.kind': 'run' })).toBe(9);
    expect(pointValue(read.get('job.batch.flush_failures'))).toBe(1);
    expect(read.get('job.batch.flushes')?.dataPointType).toBe(DataPointType.SUM);
    expect(pointValue(read.get('job.cache.hits'))).toBe(10);
    expect(pointValue(read.get('job.cache.misses'))).toBe(4);
    expect(pointValue(read.get('job.cache.evictions'))).toBe(1);
    expect(read.get('job.cache.misses')?.descriptor.unit).toBe('{miss}');
    expect(read.has('job.runs.running')).toBe(false);

    batch = { ...batch, flushes: 3 };
    read = await sdk.reader.read();
    expect(pointValue(read.get('job.batch.flushes'))).toBe(3);
    // One read per observable instrument (3 batch, 3 cache) per collection.
    expect(reads).toBe(12);
    m.stop();
    m.stop();
    await sdk.reader.read();
    expect(reads).toBe(12);
    // Started again (a scheduler restarted): read again.
    m.start();
    await sdk.reader.read();
    expect(reads).toBe(18);
  });

  it('reports nothing for a batch or cache snapshot that is undefined', async () => {
    const m = new JobMetrics({ batch: () => undefined, cache: () => undefined });
    m.start();
    const read = await sdk.reader.read();
    expect(read.get('job.batch.flushes')?.dataPoints ?? []).toEqual([]);
    expect(read.get('job.cache.hits')?.dataPoints ?? []).toEqual([]);
    m.stop();
  });

  it('adds its attributes to every measurement, so two schedulers stay apart', async () => {
    const a = new JobMetrics({
      attributes: { 'scheduler.instance': 'a' },
      scheduler: () => schedulerSnapshot({ runsStarted: 1, runningNow: 1 }),
    });
    const b = new JobMetrics({
      attributes: { 'scheduler.instance': 'b' },
      scheduler: () => schedulerSnapshot({ runsStarted: 5, runningNow: 2 }),
    });
    a.start();
    b.start();
    b.runEnded('report', 'success', 1);
    const read = await sdk.reader.read();
    const started = read.get('job.runs.started');
    expect(pointValue(started, { 'scheduler.instance': 'a' })).toBe(1);
    expect(pointValue(started, { 'scheduler.instance': 'b' })).toBe(5);
    expect(pointValue(read.get('job.runs.running'), { 'scheduler.instance': 'b' })).toBe(2);
    expect(
      histogramValue(read.get('job.run.duration'), {
        'scheduler.instance': 'b',
        'job.handler': 'report',
        'run.status': 'success',
      })?.count,
    ).toBe(1);
    a.stop();
    b.stop();
  });

  it('records negative and non-finite durations as 0 (a clock that stepped back)', async () => {
    const m = new JobMetrics();
    m.runEnded('report', 'success', -3);
    m.runEnded('report', 'success', Number.NaN);
    const read = await sdk.reader.read();
    const point = histogramValue(read.get('job.run.duration'), {
      'job.handler': 'report',
      'run.status': 'success',
    });
    expect(point).toMatchObject({ count: 2, sum: 0 });
    expect(m.durations.stats()).toMatchObject({ count: 2, sum: 0 });
  });
});

describe('JobMetrics without a registered MeterProvider', () => {
  it('records nothing but keeps the duration window', () => {
    const m = new JobMetrics({ durationWindow: 2, scheduler: () => schedulerSnapshot() });
    m.runEnded('report', 'success', 10);
    m.runEnded('report', 'failed', 20);
    m.runEnded('report', 'success', 30);
    expect(m.durations.stats()).toEqual({
      count: 3,
      sum: 60,
      p50: 20,
      p95: 30,
      max: 30,
      window: 2,
    });
    m.stop();
  });

  it('works without @opentelemetry/api at all (api: null)', () => {
    let reads = 0;
    const m = new JobMetrics({
      api: null,
      scheduler: () => {
        reads++;
        return schedulerSnapshot();
      },
    });
    m.start();
    m.runEnded('x', 'failed', 1);
    m.runEnded('x', 'success', 2);
    m.stop();
    expect(m.durations.stats()).toMatchObject({ count: 2, sum: 3 });
    expect(reads).toBe(0);
  });

  it('can take a meter provider instead of the global one', async () => {
    const reader = new TestMetricReader();
    const provider = new MeterProvider({ readers: [reader] });
    const m = new JobMetrics({
      meterProvider: provider,
      scheduler: () => schedulerSnapshot({ runsStarted: 3 }),
    });
    m.start();
    expect(metrics.getMeterProvider()).not.toBe(provider);
    const read = await reader.read();
    expect(pointValue(read.get('job.runs.started'))).toBe(3);
    m.stop();
    await provider.shutdown();
  });
});
