import type { SpanContext } from '@opentelemetry/api';
import { JobTracer, UNTRACED, type TraceHandle } from '../interfaces/job-tracer.js';

/** A `JobTracer` that traces nothing (used when `@opentelemetry/api` is not installed). */
export class NoopJobTracer extends JobTracer {
  startRun(): TraceHandle {
    return UNTRACED;
  }

  runInContext<A extends unknown[], R, T = undefined>(
    _handle: TraceHandle,
    fn: (this: T, ...args: A) => R,
    thisArg?: T,
    ...args: A
  ): R {
    return fn.apply(thisArg as T, args);
  }

  handlerExecuting(): void {}

  endRun(): void {}

  traceId(): string {
    return '';
  }

  spanContext(): SpanContext | undefined {
    return undefined;
  }

  activeSpanContext(): SpanContext | undefined {
    return undefined;
  }

  flushSpan(): TraceHandle {
    return UNTRACED;
  }

  endFlush(): void {}
}
