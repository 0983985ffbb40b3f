/**
 * The scheduler's tracing end to end (real timers, a real SDK): the seed's trace diagram.
 * A storage that opens a span per call stands for an instrumented database driver.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import {
  installMetrics,
  installTracing,
  pointValue,
  type MetricsSdk,
  type TracingSdk,
} from './otel-sdk.js';

/** A MemoryStorage whose writes open spans, like an instrumented driver's queries. */
class TracedStorage extends MemoryStorage {
  private span<T>(name: string, write: () => Promise<T>): Promise<T> {
    return trace.getTracer('storage').startActiveSpan(name, async (span) => {
      try {
        await sleep(1);
        return await write();
      } finally {
        span.end();
      }
    });
  }
  override updateJob(job: Job): Promise<void> {
    return this.span('storage.updateJob', () => super.updateJob(job));
  }
  override createRun(run: Run): Promise<void> {
    return this.span('storage.createRun', () => super.createRun(run));
  }
  override updateRun(run: Run): Promise<void> {
    return this.span('storage.updateRun', () => super.updateRun(run));
  }
  override batchUpdateJobs(jobs: Job[]): Promise<void> {
    return this.span('storage.batchUpdateJobs', () => super.batchUpdateJobs(jobs));
  }
  override batchUpdateRuns(runs: Run[]): Promise<void> {
    return this.span('storage.batchUpdateRuns', () => super.batchUpdateRuns(runs));
  }
}

async function until(check: () => boolean | Promise<boolean>, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

function childrenOf(spans: ReadableSpan[], parent: ReadableSpan): string[] {
  const id = parent.spanContext().spanId;
  return spans.filter((s) => s.parentSpanContext?.spanId === id).map((s) => s.name);
}

describe('Scheduler tracing', () => {
  let sdk: TracingSdk;
  let scheduler: Scheduler | undefined;

  beforeEach(() => {
    sdk = installTracing();
  });

  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
    await sdk.uninstall();
  });

  it('traces a run: root job.execute with its writes, the event and the handler’s spans inside', async () => {
    const storage = new TracedStorage();
    scheduler = new Scheduler(storage, { logger: new NopLogger() });
    scheduler.registerHandlerFunc('report', async () => {
      await trace.getTracer('app').startActiveSpan('handler-work', async (span) => {
        await sleep(2);
        span.end();
      });
      return 'done';
    });
    const job = await scheduler.addJob({
      name: 'Nightly',
      runAt: new Date(),
      handlerName: 'report',
    });
    await scheduler.start();
    await until(async () => (await storage.getRuns(job.id, 1))[0]?.status === 'success');
    await until(() => sdk.spans().some((s) => s.name === 'job.execute'));

    const spans = sdk.spans();
    const run = sdk.span('job.execute');
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.attributes).toMatchObject({
      'job.id': job.id,
      'job.name': 'Nightly',
      'job.handler': 'report',
      'job.retry_count': 0,
      'run.status': 'success',
      'run.attempt': 1,
    });
    expect(typeof run.attributes['run.duration_ms']).toBe('number');
    expect(run.events.map((e) => e.name)).toEqual(['handler_executing']);
    expect(childrenOf(spans, run)).toEqual([
      'storage.updateJob',
      'storage.createRun',
      'handler-work',
      'storage.updateRun',
      'storage.updateJob',
    ]);
    const stored = (await storage.getRuns(job.id, 1))[0];
    expect(stored.traceId).toBe(run.spanContext().traceId);
  });

  it('records a failure, and links the retry’s span to the failed attempt’s', async () => {
    scheduler = new Scheduler(new MemoryStorage(), {
      logger: new NopLogger(),
      retryDelay: 10,
    });
    let calls = 0;
    scheduler.registerHandlerFunc('flaky', () => {
      calls++;
      if (calls === 1) throw new Error('first try fails');
      return 'ok';
    });
    const job = await scheduler.addJob({ runAt: new Date(), handlerName: 'flaky', maxRetry: 1 });
    await scheduler.start();
    await until(() => sdk.spans().filter((s) => s.name === 'job.execute').length === 2);
    const [first, second] = sdk.spans().filter((s) => s.name === 'job.execute');
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'first try fails' });
    expect(first.attributes).toMatchObject({ 'run.status': 'failed', 'run.attempt': 1 });
    expect(second.attributes).toMatchObject({
      'job.id': job.id,
      'run.status': 'success',
      'run.attempt': 2,
      'job.retry_count': 1,
    });
    expect(second.links.map((l) => l.context)).toEqual([first.spanContext()]);
  });

  it('ends a timed-out run’s span failed with the JobTimeoutError', async () => {
    scheduler = new Scheduler(new MemoryStorage(), { logger: new NopLogger(), jobTimeout: 30 });
    scheduler.registerHandlerFunc('slow', () => sleep(200));
    await scheduler.addJob({ runAt: new Date(), handlerName: 'slow' });
    await scheduler.start();
    await until(() => sdk.spans().some((s) => s.name === 'job.execute'));
    const run = sdk.span('job.execute');
    expect(run.status.code).toBe(SpanStatusCode.ERROR);
    expect(run.attributes['error.type']).toBe('JobTimeoutError');
  });

  it('links a triggered run to the span that called triggerJob', async () => {
    scheduler = new Scheduler(new MemoryStorage(), { logger: new NopLogger() });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ cron: '0 0 1 1 *', handlerName: 'h' });
    await scheduler.start();
    const request = trace.getTracer('http').startSpan('POST /jobs/:id/trigger');
    await context.with(trace.setSpan(context.active(), request), () =>
      scheduler!.triggerJob(job.id),
    );
    request.end();
    await until(() => sdk.spans().some((s) => s.name === 'job.execute'));
    const run = sdk.span('job.execute');
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.links.map((l) => l.context)).toEqual([request.spanContext()]);
  });

  it('batches: flush spans are roots linked to the runs, with the storage writes inside', async () => {
    const storage = new TracedStorage();
    scheduler = new Scheduler(storage, {
      logger: new NopLogger(),
      enableBatchUpdate: true,
      batchSize: 1000,
      batchFlushInterval: 50,
      concurrentRuns: 10,
    });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await scheduler.addJob({ runAt: new Date(), handlerName: 'h' })).id);
    await scheduler.start();
    await until(() => sdk.spans().some((s) => s.name === 'batch.flush.jobs'));

    const spans = sdk.spans();
    const runs = spans.filter((s) => s.name === 'job.execute');
    expect(runs).toHaveLength(3);
    // With the batch buffer the run's writes are buffered: no storage span under job.execute.
    for (const run of runs) expect(childrenOf(spans, run)).toEqual([]);
    const runContexts = runs
      .map((r) => r.spanContext())
      .sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
    for (const name of ['batch.flush.runs', 'batch.flush.jobs']) {
      const flush = sdk.span(name);
      expect(flush.parentSpanContext).toBeUndefined();
      expect(flush.attributes['batch.size']).toBe(3);
      const linked = flush.links
        .map((l) => l.context)
        .sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
      expect(linked).toEqual(runContexts);
    }
    expect(childrenOf(spans, sdk.span('batch.flush.runs'))).toEqual(['storage.batchUpdateRuns']);
    expect(childrenOf(spans, sdk.span('batch.flush.jobs'))).toEqual(['storage.batchUpdateJobs']);
    for (const id of ids) {
      const [run] = await storage.getRuns(id, 1);
      expect(runs.map((r) => r.spanContext().traceId)).toContain(run.traceId);
    }
  });
});

describe('Scheduler without an SDK', () => {
  it('stores an empty traceId and still runs', async () => {
    const storage = new MemoryStorage();
    const scheduler = new Scheduler(storage, { logger: new NopLogger() });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ runAt: new Date(), handlerName: 'h' });
    await scheduler.start();
    await until(async () => (await storage.getRuns(job.id, 1))[0]?.status === 'success');
    expect((await storage.getRuns(job.id, 1))[0].traceId).toBe('');
    await scheduler.stop();
  });
});

describe('Scheduler metrics', () => {
  let sdk: MetricsSdk;

  beforeEach(() => {
    sdk = installMetrics();
  });

  afterEach(async () => {
    await sdk.uninstall();
  });

  it('exposes the counters as instruments and the durations in metrics()', async () => {
    const scheduler = new Scheduler(new MemoryStorage(), { logger: new NopLogger() });
    scheduler.registerHandlerFunc('h', async () => sleep(5));
    scheduler.registerHandlerFunc('bad', () => {
      throw new Error('x');
    });
    await scheduler.addJob({ runAt: new Date(), handlerName: 'h' });
    await scheduler.addJob({ runAt: new Date(), handlerName: 'bad' });
    await scheduler.start();
    await until(() => scheduler.metrics().runsSucceeded + scheduler.metrics().runsFailed === 2);
    await sleep(20);
    const read = await sdk.reader.read();
    expect(pointValue(read.get('job.runs.started'))).toBe(2);
    expect(pointValue(read.get('job.runs.succeeded'))).toBe(1);
    expect(pointValue(read.get('job.runs.failed'))).toBe(1);
    expect(pointValue(read.get('job.runs.running'))).toBe(0);
    expect(scheduler.metrics().duration).toMatchObject({ count: 2, window: 2 });
    expect(scheduler.metrics().duration.max).toBeGreaterThanOrEqual(4);
    await scheduler.stop();
  });
});
