import { setTimeout as sleep } from 'node:timers/promises';
import {
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  trace,
  type SpanContext,
} from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobTimeoutError } from '../../../lib/errors/job-timeout.error.js';
import { createJobTracer } from '../../../lib/telemetry/create-job-tracer.js';
import { UNTRACED } from '../../../lib/interfaces/job-tracer.js';
import { NoopJobTracer } from '../../../lib/telemetry/noop-job-tracer.js';
import { OpenTelemetryJobTracer } from '../../../lib/telemetry/otel-job-tracer.js';
import { installTracing, type TracingSdk } from './otel-sdk.js';

const job = { id: 'job-1', name: 'Nightly report', handlerName: 'report', retryCount: 2 };
const run = { id: 'run-1', attempt: 3 };

function attributesOf(span: ReadableSpan): Record<string, unknown> {
  return { ...span.attributes };
}

describe('OpenTelemetryJobTracer with a registered SDK', () => {
  let sdk: TracingSdk;
  let tracer: OpenTelemetryJobTracer;

  beforeEach(() => {
    sdk = installTracing();
    tracer = new OpenTelemetryJobTracer();
  });

  afterEach(async () => {
    await sdk.uninstall();
  });

  it('records a successful run as an INTERNAL root span job.execute with the seed attributes and event', () => {
    const handle = tracer.startRun(job, undefined, run);
    tracer.handlerExecuting(handle);
    tracer.endRun(handle, { status: 'success', durationMs: 42 });

    const span = sdk.span('job.execute');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.instrumentationScope.name).toBe('nestjs-job-scheduler');
    expect(span.instrumentationScope.version).toBe('0.1.0');
    expect(attributesOf(span)).toEqual({
      'job.id': 'job-1',
      'job.name': 'Nightly report',
      'job.handler': 'report',
      'job.retry_count': 2,
      'run.id': 'run-1',
      'run.attempt': 3,
      'run.duration_ms': 42,
      'run.status': 'success',
    });
    expect(span.events.map((e) => e.name)).toEqual(['handler_executing']);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.ended).toBe(true);
    expect(span.links).toEqual([]);
  });

  it('leaves out run.id and run.attempt when no run is given', () => {
    tracer.endRun(tracer.startRun(job), { status: 'success', durationMs: 1 });
    const attributes = attributesOf(sdk.span('job.execute'));
    expect(attributes).not.toHaveProperty('run.id');
    expect(attributes).not.toHaveProperty('run.attempt');
    expect(attributes['job.id']).toBe('job-1');
  });

  it('records a failed run with error status, message, error.type and an exception event', () => {
    const handle = tracer.startRun(job);
    const error = new JobTimeoutError('job-1', 5000);
    tracer.endRun(handle, { status: 'failed', durationMs: 5000, error });

    const span = sdk.span('job.execute');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: error.message });
    expect(span.attributes['run.status']).toBe('failed');
    expect(span.attributes['run.duration_ms']).toBe(5000);
    expect(span.attributes['error.type']).toBe('JobTimeoutError');
    const exception = span.events.find((e) => e.name === 'exception');
    expect(exception?.attributes).toMatchObject({
      'exception.type': 'JobTimeoutError',
      'exception.message': error.message,
    });
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain('JobTimeoutError');
  });

  it('records a thrown string, a thrown object and an explicit message', () => {
    tracer.endRun(tracer.startRun(job), { status: 'failed', durationMs: 1, error: 'boom' });
    tracer.endRun(tracer.startRun(job), {
      status: 'failed',
      durationMs: 1,
      error: { reason: 'odd' },
    });
    tracer.endRun(tracer.startRun(job), {
      status: 'failed',
      durationMs: 1,
      error: new Error('inner'),
      message: 'Error: inner (formatted)',
    });
    const [first, second, third] = sdk.spans();
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(first.events[0].attributes?.['exception.message']).toBe('boom');
    expect(second.status).toEqual({ code: SpanStatusCode.ERROR, message: '[object Object]' });
    expect(second.events[0].attributes).toMatchObject({ 'exception.type': 'NonErrorThrown' });
    expect(third.status.message).toBe('Error: inner (formatted)');
    expect(third.events[0].attributes?.['exception.message']).toBe('inner');
  });

  it('records a skipped run without an error status', () => {
    tracer.endRun(tracer.startRun(job), { status: 'skipped', durationMs: 0 });
    const span = sdk.span('job.execute');
    expect(span.attributes['run.status']).toBe('skipped');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
  });

  it('bounds a long error message in the status', () => {
    const handle = tracer.startRun(job);
    tracer.endRun(handle, { status: 'failed', durationMs: 1, error: new Error('x'.repeat(5000)) });
    expect(sdk.span('job.execute').status.message).toHaveLength(1024);
  });

  it('makes spans started inside runInContext children of job.execute, across awaits', async () => {
    const handle = tracer.startRun(job);
    const handlerTracer = trace.getTracer('handler-code');
    await tracer.runInContext(handle, async () => {
      handlerTracer.startSpan('before-await').end();
      await sleep(5);
      await handlerTracer.startActiveSpan('after-await', async (span) => {
        await sleep(1);
        handlerTracer.startSpan('grandchild').end();
        span.end();
      });
    });
    tracer.endRun(handle, { status: 'success', durationMs: 6 });

    const root = sdk.span('job.execute').spanContext();
    for (const name of ['before-await', 'after-await']) {
      const child = sdk.span(name);
      expect(child.parentSpanContext?.spanId).toBe(root.spanId);
      expect(child.spanContext().traceId).toBe(root.traceId);
    }
    expect(sdk.span('grandchild').parentSpanContext?.spanId).toBe(
      sdk.span('after-await').spanContext().spanId,
    );
  });

  it('runInContext passes this and the arguments and returns the result', () => {
    const handle = tracer.startRun(job);
    const target = {
      factor: 10,
      scale(this: { factor: number }, a: number, b: number): number {
        return (a + b) * this.factor;
      },
    };
    expect(tracer.runInContext(handle, target.scale, target, 1, 2)).toBe(30);
    const seen = tracer.runInContext(handle, () => trace.getSpan(context.active()));
    expect(seen).toBe(handle.span);
    tracer.endRun(handle, { status: 'success', durationMs: 0 });
  });

  it('starts job.execute as a root span even inside another active span', () => {
    const leaked = trace.getTracer('app').startSpan('stale-request');
    context.with(trace.setSpan(context.active(), leaked), () => {
      tracer.endRun(tracer.startRun(job), { status: 'success', durationMs: 0 });
    });
    leaked.end();
    expect(sdk.span('job.execute').parentSpanContext).toBeUndefined();
    expect(sdk.span('job.execute').spanContext().traceId).not.toBe(leaked.spanContext().traceId);
  });

  it('links a triggered run to the span that called triggerJob', () => {
    const request = trace.getTracer('app').startSpan('POST /jobs/:id/trigger');
    let link: SpanContext | undefined;
    context.with(trace.setSpan(context.active(), request), () => {
      link = tracer.activeSpanContext();
    });
    request.end();
    expect(link).toEqual(request.spanContext());

    tracer.endRun(tracer.startRun(job, link), { status: 'success', durationMs: 0 });
    const span = sdk.span('job.execute');
    expect(span.links).toHaveLength(1);
    expect(span.links[0].context).toEqual(request.spanContext());
    expect(span.parentSpanContext).toBeUndefined();
  });

  it('activeSpanContext is undefined outside any span', () => {
    expect(tracer.activeSpanContext()).toBeUndefined();
  });

  it('traceId and spanContext are the span’s', () => {
    const handle = tracer.startRun(job);
    const spanContext = tracer.spanContext(handle);
    expect(tracer.traceId(handle)).toMatch(/^[0-9a-f]{32}$/);
    tracer.endRun(handle, { status: 'success', durationMs: 0 });
    const span = sdk.span('job.execute');
    expect(tracer.traceId(handle)).toBe(span.spanContext().traceId);
    expect(spanContext).toEqual(span.spanContext());
  });

  it('records batch.flush.runs / batch.flush.jobs as root spans linked to the runs', async () => {
    const a = tracer.startRun(job);
    const b = tracer.startRun({ ...job, id: 'job-2' });
    const links = [tracer.spanContext(a), tracer.spanContext(b)] as SpanContext[];
    // The flush starts from inside a run's context (batchSize reached during its write): still a root.
    const flush = tracer.runInContext(a, () => tracer.flushSpan('runs', links, 7, 3));
    await tracer.runInContext(flush, async () => {
      await sleep(1);
      trace.getTracer('pg').startSpan('UPDATE runs').end();
    });
    tracer.endFlush(flush);
    const jobs = tracer.flushSpan('jobs', links.slice(0, 1), 1);
    tracer.endFlush(jobs, new Error('connection reset'));
    tracer.endRun(a, { status: 'success', durationMs: 0 });
    tracer.endRun(b, { status: 'success', durationMs: 0 });

    const runs = sdk.span('batch.flush.runs');
    expect(runs.kind).toBe(SpanKind.INTERNAL);
    expect(runs.parentSpanContext).toBeUndefined();
    expect(runs.links.map((l) => l.context)).toEqual(links);
    expect(attributesOf(runs)).toEqual({ 'batch.size': 7, 'batch.links_dropped': 3 });
    expect(runs.status.code).toBe(SpanStatusCode.UNSET);
    expect(sdk.span('UPDATE runs').parentSpanContext?.spanId).toBe(runs.spanContext().spanId);

    const failed = sdk.span('batch.flush.jobs');
    expect(failed.links.map((l) => l.context)).toEqual(links.slice(0, 1));
    expect(failed.attributes).toEqual({ 'batch.size': 1, 'error.type': 'Error' });
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'connection reset' });
    expect(failed.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('a flush span without links is a plain root span', () => {
    tracer.endFlush(tracer.flushSpan('jobs', [], 2));
    expect(sdk.span('batch.flush.jobs').links).toEqual([]);
  });
});

describe('OpenTelemetryJobTracer with a sampler that drops everything', () => {
  let sdk: TracingSdk;

  beforeEach(() => {
    sdk = installTracing({ sampler: new AlwaysOffSampler() });
  });

  afterEach(async () => {
    await sdk.uninstall();
  });

  it('gives an empty traceId but still propagates the unsampled context to what runs inside', () => {
    const tracer = new OpenTelemetryJobTracer();
    const handle = tracer.startRun(job);
    expect(handle).not.toBe(UNTRACED);
    expect(handle.span?.isRecording()).toBe(false);
    expect(tracer.traceId(handle)).toBe('');
    const inner = tracer.runInContext(handle, () => trace.getTracer('pg').startSpan('query'));
    expect(inner.spanContext().traceId).toBe(handle.span?.spanContext().traceId);
    expect(inner.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    inner.end();
    tracer.handlerExecuting(handle);
    tracer.endRun(handle, { status: 'failed', durationMs: 1, error: new Error('x') });
    expect(sdk.spans()).toEqual([]);
  });
});

describe('OpenTelemetryJobTracer without an SDK', () => {
  it('hands out the shared UNTRACED handle and calls functions directly', () => {
    const tracer = new OpenTelemetryJobTracer();
    const handle = tracer.startRun(job, undefined, run);
    expect(handle).toBe(UNTRACED);
    expect(tracer.traceId(handle)).toBe('');
    expect(tracer.spanContext(handle)).toBeUndefined();
    expect(tracer.activeSpanContext()).toBeUndefined();
    expect(tracer.runInContext(handle, (a: number) => a + 1, undefined, 1)).toBe(2);
    tracer.handlerExecuting(handle);
    tracer.endRun(handle, { status: 'failed', durationMs: 1, error: new Error('x') });
    const flush = tracer.flushSpan('runs', [], 1);
    expect(flush).toBe(UNTRACED);
    tracer.endFlush(flush, new Error('x'));
  });

  it('starts recording once an SDK is registered after it was made (the proxy tracer)', async () => {
    const tracer = new OpenTelemetryJobTracer();
    const sdk = installTracing();
    try {
      const handle = tracer.startRun(job);
      expect(handle).not.toBe(UNTRACED);
      tracer.endRun(handle, { status: 'success', durationMs: 1 });
      expect(sdk.span('job.execute').attributes['job.id']).toBe('job-1');
    } finally {
      await sdk.uninstall();
    }
  });

  it('can take a tracer provider instead of the global one', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = new OpenTelemetryJobTracer({ tracerProvider: provider });
    tracer.endRun(tracer.startRun(job), { status: 'success', durationMs: 1 });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['job.execute']);
    await provider.shutdown();
  });
});

describe('NoopJobTracer and createJobTracer', () => {
  it('NoopJobTracer traces nothing and still runs the functions', () => {
    const tracer = new NoopJobTracer();
    const handle = tracer.startRun();
    expect(handle).toBe(UNTRACED);
    expect(tracer.traceId()).toBe('');
    expect(tracer.spanContext()).toBeUndefined();
    expect(tracer.activeSpanContext()).toBeUndefined();
    const target = { n: 2 };
    expect(
      tracer.runInContext(
        handle,
        function (this: { n: number }, x: number) {
          return this.n * x;
        },
        target,
        21,
      ),
    ).toBe(42);
    expect(tracer.flushSpan()).toBe(UNTRACED);
    tracer.handlerExecuting();
    tracer.endRun();
    tracer.endFlush();
  });

  it('createJobTracer gives the OpenTelemetry tracer when @opentelemetry/api is installed', () => {
    expect(createJobTracer()).toBeInstanceOf(OpenTelemetryJobTracer);
  });
});
