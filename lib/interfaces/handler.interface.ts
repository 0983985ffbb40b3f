import type { Job } from './job.interface.js';
import type { Run } from './run.interface.js';

/** What a handler receives beside the payload. */
export interface JobContext<TPayload = unknown> {
  /** The job, as it was when the run started (read-only snapshot). */
  readonly job: Readonly<Job<TPayload>>;
  /** The run record, with its `scheduledAt` and `attempt`. */
  readonly run: Readonly<Run>;
  /** 1 for the first try, 2 for the first retry, ... */
  readonly attempt: number;
  /** Fires on timeout (`jobTimeout`) or on shutdown past `shutdownTimeout`. */
  readonly signal: AbortSignal;
}

/** A job handler: `execute(payload, ctx)`; its return value becomes the run's output. */
export interface Handler<TPayload = any, TResult = unknown> {
  execute(payload: TPayload, ctx: JobContext<TPayload>): TResult | Promise<TResult>;
}

/** How a handler is registered (`registerHandler`, `registerHandlerFunc`, `@JobHandler`). */
export interface HandlerRegistrationOptions {
  /**
   * At most this many runs of the handler at once on this instance (within `concurrentRuns`);
   * fires of other handlers are not held up behind them. Default: no limit of its own.
   */
  concurrency?: number;
  /** Where the handler comes from, named when its name is registered twice. */
  source?: string;
}

/** A handler as a plain function, for `registerHandlerFunc`. */
export type HandlerFunc<TPayload = any, TResult = unknown> = (
  payload: TPayload,
  ctx: JobContext<TPayload>,
) => TResult | Promise<TResult>;
