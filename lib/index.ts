// The public API: what an application writes in its code, and what a custom storage implements
// (test/unit/public-surface.spec.ts lists it, so that it changes only on purpose). Nothing inside
// lib imports this file.

// Nest integration
export { JobModule } from './job.module.js';
export { SchedulerService } from './scheduler.service.js';
export * from './decorators/index.js';
export { declaredJobId } from './declared-job-id.js';

// Interfaces
export * from './interfaces/index.js';

// Errors
export * from './errors/index.js';

// The plain-TypeScript core, usable without Nest
export { Scheduler } from './scheduler.js';

// Storage and loggers
export * from './storage/index.js';
export * from './loggers/index.js';

// Tracing and metrics (OpenTelemetry API loaded only when installed)
export { JobTracer, UNTRACED, type TraceHandle } from './interfaces/job-tracer.js';
export { NoopJobTracer } from './telemetry/noop-job-tracer.js';
export { OpenTelemetryJobTracer } from './telemetry/otel-job-tracer.js';
export { createJobTracer } from './telemetry/create-job-tracer.js';
