import type { NormalizedSchedulerOptions } from '../interfaces/scheduler-options.interface.js';
import type { JobStorage } from '../interfaces/job-storage.js';
import type { JobMetrics } from '../telemetry/job-metrics.js';
import type { JobTracer } from '../interfaces/job-tracer.js';
import type { Dispatcher } from './dispatcher.js';
import type { FireTimer } from './fire-timer.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { HandlerWait } from './handler-wait.js';
import type { IdGenerator } from './ids.js';
import type { InFlight } from './in-flight.js';
import type { JobTable } from './job-table.js';
import type { RetriedWrites } from './retried-writes.js';
import type { SchedulerSignals } from './scheduler-signals.js';
import type { StorageFaultLog } from './storage-fault-log.js';

/**
 * The parts of one scheduler, as its other parts see them: made once by `SchedulerCore` and passed
 * to each. Each part owns its own state; this only says where the others are.
 */
export interface SchedulerContext {
  readonly options: NormalizedSchedulerOptions;
  /** The storage as given (reads that must see what is stored, not what is cached). */
  readonly storage: JobStorage;
  /** What the scheduler reads and writes through: the storage, wrapped by the cache and the batch buffer when enabled. */
  readonly store: JobStorage;
  readonly table: JobTable;
  /** Fires not yet due, and the one wake-up timer. */
  readonly timers: FireTimer;
  /** The slots, and the due fires waiting for one. */
  readonly slots: Dispatcher;
  readonly signals: SchedulerSignals;
  /** Record writes retried until they land (given up past `writes.deadline`, set by stop()). */
  readonly writes: RetriedWrites;
  /** Where storage failures are reported: once per episode, not per call. */
  readonly faults: StorageFaultLog;
  readonly tracer: JobTracer;
  readonly telemetry: JobMetrics;
  readonly handlers: HandlerRegistry;
  /** The jobs whose handler is not registered here, waiting for it. */
  readonly waits: HandlerWait;
  readonly ids: IdGenerator;
  readonly flight: InFlight;
  isStarted(): boolean;
  /** The clock (epoch ms). */
  now(): number;
}
