import type { JobTracer } from '../interfaces/job-tracer.js';
import { NoopJobTracer } from './noop-job-tracer.js';
import { loadOpenTelemetryApi } from './otel-api.js';
import { OpenTelemetryJobTracer } from './otel-job-tracer.js';

/** The default tracer: `OpenTelemetryJobTracer` when `@opentelemetry/api` is installed, else `NoopJobTracer`. */
export function createJobTracer(): JobTracer {
  const api = loadOpenTelemetryApi();
  return api === null ? new NoopJobTracer() : new OpenTelemetryJobTracer({ api });
}
