import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * With `JOB_TRACE_CONSOLE=1`, registers an OpenTelemetry SDK that prints every span to the console:
 * a `job.execute` span per run (and `batch.flush.*` spans with batching). Any exporter works the
 * same way (OTLP, Jaeger...): register the SDK before the app is created.
 */
export function setUpConsoleTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.JOB_TRACE_CONSOLE) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
    }),
  );
}
