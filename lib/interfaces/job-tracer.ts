import type { Context, Span, SpanContext } from '@opentelemetry/api';

/** What a run's span reads from its job (a `Job` fits as is). */
export interface TracedJob {
  readonly id: string;
  readonly name: string;
  readonly handlerName: string;
  readonly retryCount: number;
}

/** What a run's span reads from its run record (a `Run` fits as is). */
export interface TracedRun {
  readonly id: string;
  readonly attempt: number;
}

/**
 * How a run ended: `skipped` is a run whose start could not be recorded because the fire was
 * recorded already (another instance ran it): no error status.
 */
export interface RunOutcome {
  status: 'success' | 'failed' | 'skipped';
  /** Handler time, milliseconds. */
  durationMs: number;
  /** What the handler threw or rejected with (or the time-out / abort error), on failure. */
  error?: unknown;
  /** The span status message on failure; default: the error's message. */
  message?: string;
}

/** Which records a batch flush writes. */
export type FlushKind = 'jobs' | 'runs';

/**
 * A span started by a `JobTracer` and the context in which it is the active span. Both are
 * undefined when nothing is traced (no `@opentelemetry/api`, no SDK registered), which is the one
 * shared `UNTRACED` handle: tracing then allocates nothing per run, and the scheduler calls neither
 * `runInContext` nor `endRun` with it (there is no span to make active or to end).
 */
export interface TraceHandle {
  readonly span: Span | undefined;
  readonly context: Context | undefined;
}

/** The handle of everything not traced. */
export const UNTRACED: TraceHandle = Object.freeze({ span: undefined, context: undefined });

/**
 * Tracing of runs and batch flushes: the one seam between the scheduler and OpenTelemetry. Swap it
 * with `{ provide: JobTracer, useClass: MyTracer }`. The default is `OpenTelemetryJobTracer` when
 * `@opentelemetry/api` is installed, else `NoopJobTracer`.
 *
 * Calls come from the scheduler's hot path: implementations must be cheap when nothing records.
 */
export abstract class JobTracer {
  /**
   * Starts the span `job.execute` of a run: a root span (the context the scheduler happens to run in
   * is never its parent), linked to `link` (the span that called `triggerJob`, or the previous
   * attempt's span for a retry), with `job.id`, `job.name`, `job.handler`, `job.retry_count` (and
   * `run.id`, `run.attempt` when `run` is given).
   */
  abstract startRun(job: TracedJob, link?: SpanContext, run?: TracedRun): TraceHandle;

  /**
   * Calls `fn` (with `thisArg` and `args`) with the handle's span active, so that what it starts
   * (storage queries, the handler's own spans) are its children. Without a span, just calls it.
   */
  abstract runInContext<A extends unknown[], R, T = undefined>(
    handle: TraceHandle,
    fn: (this: T, ...args: A) => R,
    thisArg?: T,
    ...args: A
  ): R;

  /** Adds the event `handler_executing` to a run's span (right before the handler is called). */
  abstract handlerExecuting(handle: TraceHandle): void;

  /** Sets `run.duration_ms` and `run.status` (and the error on failure) and ends a run's span. */
  abstract endRun(handle: TraceHandle, outcome: RunOutcome): void;

  /** The trace id to store in `Run.traceId`: `''` unless the span is sampled. */
  abstract traceId(handle: TraceHandle): string;

  /** The span's context, to link other spans to it; undefined when nothing is traced. */
  abstract spanContext(handle: TraceHandle): SpanContext | undefined;

  /** The context of the span active now (valid ones only), e.g. the request calling `triggerJob`. */
  abstract activeSpanContext(): SpanContext | undefined;

  /**
   * Starts the root span `batch.flush.jobs` / `batch.flush.runs`, linked to the spans whose writes
   * the flush carries, with `batch.size` = `count` (and `batch.links_dropped` when over the limit).
   */
  abstract flushSpan(
    kind: FlushKind,
    links: readonly SpanContext[],
    count: number,
    droppedLinks?: number,
  ): TraceHandle;

  /** Ends a flush span, with an error status when `error` is given. */
  abstract endFlush(handle: TraceHandle, error?: unknown): void;
}
