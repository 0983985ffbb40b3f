import type {
  Context,
  ContextAPI,
  Exception,
  Span,
  SpanContext,
  SpanOptions,
  TraceAPI,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import {
  JobTracer,
  UNTRACED,
  type FlushKind,
  type RunOutcome,
  type TraceHandle,
  type TracedJob,
  type TracedRun,
} from '../interfaces/job-tracer.js';
import {
  INSTRUMENTATION_NAME,
  instrumentationVersion,
  loadOpenTelemetryApi,
  type OtelApi,
} from './otel-api.js';

/** `TraceFlags.SAMPLED`. */
const SAMPLED = 1;
/** Longest span status message taken from an error. */
const MAX_MESSAGE = 1024;

/** Options of `OpenTelemetryJobTracer`. */
export interface OpenTelemetryJobTracerOptions {
  /** The `@opentelemetry/api` module; default: the installed one. */
  api?: OtelApi;
  /** Where to get the tracer; default: the global one (`trace.setGlobalTracerProvider`). */
  tracerProvider?: TracerProvider;
}

/**
 * The default `JobTracer`, on `@opentelemetry/api` only: spans go to whatever SDK the application
 * registers. With none registered every run gets the shared `UNTRACED` handle: one non-recording
 * span is made and dropped per run, no attributes, no context.
 *
 * The tracer is taken from the global provider once, at construction; before an SDK is registered
 * that is the API's proxy tracer, which starts recording once one is.
 */
export class OpenTelemetryJobTracer extends JobTracer {
  private readonly tracer: Tracer;
  private readonly trace: TraceAPI;
  private readonly context: ContextAPI;
  private readonly root: Context;
  private readonly invalid: SpanContext;
  private readonly internal: SpanOptions['kind'];
  private readonly errorCode: number;
  /** The options of a run span without a link, and of a flush span without links. */
  private readonly rootOptions: SpanOptions;

  constructor(options: OpenTelemetryJobTracerOptions = {}) {
    super();
    const api = options.api ?? loadOpenTelemetryApi();
    if (api === null)
      throw new InvalidOptionsError(
        'api',
        api,
        'the @opentelemetry/api module: install it (npm install @opentelemetry/api), or use NoopJobTracer',
      );
    this.trace = api.trace;
    this.context = api.context;
    this.root = api.ROOT_CONTEXT;
    this.invalid = api.INVALID_SPAN_CONTEXT;
    this.internal = api.SpanKind.INTERNAL;
    this.errorCode = api.SpanStatusCode.ERROR;
    this.rootOptions = Object.freeze({ kind: this.internal, root: true });
    this.tracer = (options.tracerProvider ?? api.trace).getTracer(
      INSTRUMENTATION_NAME,
      instrumentationVersion(),
    );
  }

  startRun(job: TracedJob, link?: SpanContext, run?: TracedRun): TraceHandle {
    const span = this.tracer.startSpan('job.execute', this.options(link), this.root);
    if (!span.isRecording()) return this.unrecorded(span);
    span.setAttribute('job.id', job.id);
    span.setAttribute('job.name', job.name);
    span.setAttribute('job.handler', job.handlerName);
    span.setAttribute('job.retry_count', job.retryCount);
    if (run !== undefined) {
      span.setAttribute('run.id', run.id);
      span.setAttribute('run.attempt', run.attempt);
    }
    return { span, context: this.trace.setSpan(this.root, span) };
  }

  runInContext<A extends unknown[], R, T = undefined>(
    handle: TraceHandle,
    fn: (this: T, ...args: A) => R,
    thisArg?: T,
    ...args: A
  ): R {
    const ctx = handle.context;
    if (ctx === undefined) return fn.apply(thisArg as T, args);
    return this.context.with(ctx, fn, thisArg, ...args);
  }

  handlerExecuting(handle: TraceHandle): void {
    handle.span?.addEvent('handler_executing');
  }

  endRun(handle: TraceHandle, outcome: RunOutcome): void {
    const span = handle.span;
    if (span === undefined) return;
    if (span.isRecording()) {
      span.setAttribute('run.duration_ms', outcome.durationMs);
      span.setAttribute('run.status', outcome.status);
      if (outcome.status === 'failed') this.failed(span, outcome.error, outcome.message);
    }
    span.end();
  }

  traceId(handle: TraceHandle): string {
    const span = handle.span;
    if (span === undefined) return '';
    const sc = span.spanContext();
    return (sc.traceFlags & SAMPLED) === SAMPLED ? sc.traceId : '';
  }

  spanContext(handle: TraceHandle): SpanContext | undefined {
    return handle.span?.spanContext();
  }

  activeSpanContext(): SpanContext | undefined {
    const sc = this.trace.getSpanContext(this.context.active());
    return sc !== undefined && this.trace.isSpanContextValid(sc) ? sc : undefined;
  }

  flushSpan(
    kind: FlushKind,
    links: readonly SpanContext[],
    count: number,
    droppedLinks = 0,
  ): TraceHandle {
    const options: SpanOptions =
      links.length === 0
        ? this.rootOptions
        : { kind: this.internal, root: true, links: links.map((context) => ({ context })) };
    const name = kind === 'jobs' ? 'batch.flush.jobs' : 'batch.flush.runs';
    const span = this.tracer.startSpan(name, options, this.root);
    if (!span.isRecording()) return this.unrecorded(span);
    span.setAttribute('batch.size', count);
    if (droppedLinks > 0) span.setAttribute('batch.links_dropped', droppedLinks);
    return { span, context: this.trace.setSpan(this.root, span) };
  }

  endFlush(handle: TraceHandle, error?: unknown): void {
    const span = handle.span;
    if (span === undefined) return;
    if (error !== undefined && span.isRecording()) this.failed(span, error);
    span.end();
  }

  private options(link: SpanContext | undefined): SpanOptions {
    if (link === undefined) return this.rootOptions;
    return { kind: this.internal, root: true, links: [{ context: link }] };
  }

  /**
   * A span that records nothing: no SDK (an invalid context: nothing to propagate, so the shared
   * handle), or one the sampler dropped (its context is still made active, so that what runs inside
   * sees the decision and is dropped too).
   */
  private unrecorded(span: Span): TraceHandle {
    const sc = span.spanContext();
    if (sc === this.invalid || !this.trace.isSpanContextValid(sc)) return UNTRACED;
    return { span, context: this.trace.setSpan(this.root, span) };
  }

  private failed(span: Span, error: unknown, message?: string): void {
    span.recordException(toException(error, message));
    if (error instanceof Error) span.setAttribute('error.type', errorType(error));
    span.setStatus({ code: this.errorCode, message: message ?? errorMessage(error) });
  }
}

/**
 * What `recordException` gets. An `Error` is passed as name, message and stack: given the error
 * itself the SDK would report a `code` property (ours, Node's `ECONNRESET`) as `exception.type`.
 */
function toException(error: unknown, message: string | undefined): Exception {
  if (error instanceof Error) {
    return { name: errorType(error), message: errorMessage(error), stack: errorStack(error) };
  }
  if (typeof error === 'string') return error;
  return { name: 'NonErrorThrown', message: message ?? errorMessage(error) };
}

function errorType(error: Error): string {
  try {
    return error.name || error.constructor.name || 'Error';
  } catch {
    return 'Error';
  }
}

function errorStack(error: Error): string | undefined {
  try {
    return typeof error.stack === 'string' ? error.stack : undefined;
  } catch {
    return undefined;
  }
}

/** A short message for a thrown value of any kind; never throws. */
function errorMessage(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? String(error.message) : String(error);
  } catch {
    text = `[${typeof error}]`;
  }
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}
