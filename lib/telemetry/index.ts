// Nothing here loads @opentelemetry/api at import time (an optional peer dependency): the
// OpenTelemetry classes require it when they are constructed.
export * from '../interfaces/job-tracer.js';
export * from './noop-job-tracer.js';
export * from './otel-job-tracer.js';
export * from './create-job-tracer.js';
export * from './job-metrics.js';
export * from './duration-window.js';
export * from './span-links.js';
export { INSTRUMENTATION_NAME, loadOpenTelemetryApi, type OtelApi } from './otel-api.js';
