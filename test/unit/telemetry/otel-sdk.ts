import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';

/** A real tracing SDK registered globally, exporting to memory. */
export interface TracingSdk {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** The finished spans, in end order. */
  spans(): ReadableSpan[];
  /** The one finished span of that name. */
  span(name: string): ReadableSpan;
  /** Unregisters everything (globals restored) and shuts the provider down. */
  uninstall(): Promise<void>;
}

/** Registers a BasicTracerProvider and an AsyncLocalStorage context manager as the globals. */
export function installTracing(options: { sampler?: Sampler } = {}): TracingSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: options.sampler,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is registered');
  if (!context.setGlobalContextManager(contextManager))
    throw new Error('a context manager is registered');
  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  return {
    provider,
    exporter,
    spans,
    span(name) {
      const found = spans().filter((s) => s.name === name);
      if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length}`);
      return found[0];
    },
    async uninstall() {
      trace.disable();
      context.disable();
      contextManager.disable();
      await provider.shutdown();
    },
  };
}

/** A reader collected on demand. */
export class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  protected async onForceFlush(): Promise<void> {}

  protected async onShutdown(): Promise<void> {}

  /** The metrics of one collection, by instrument name. */
  async read(): Promise<Map<string, MetricData>> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length > 0) throw errors[0];
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    }
    return byName;
  }
}

/** A real MeterProvider registered globally, read by a `TestMetricReader`. */
export interface MetricsSdk {
  readonly provider: MeterProvider;
  readonly reader: TestMetricReader;
  uninstall(): Promise<void>;
}

export function installMetrics(): MetricsSdk {
  const reader = new TestMetricReader();
  const provider = new MeterProvider({ readers: [reader] });
  if (!metrics.setGlobalMeterProvider(provider)) throw new Error('a meter provider is registered');
  return {
    provider,
    reader,
    async uninstall() {
      metrics.disable();
      await provider.shutdown();
    },
  };
}

/** The value of the data point with these attributes (undefined when there is none). */
export function pointValue(
  metric: MetricData | undefined,
  attributes: Record<string, unknown> = {},
): unknown {
  const points = (metric?.dataPoints ?? []) as DataPoint<unknown>[];
  const key = JSON.stringify(sortKeys(attributes));
  return points.find((p) => JSON.stringify(sortKeys(p.attributes)) === key)?.value;
}

/** The histogram value of the data point with these attributes. */
export function histogramValue(
  metric: MetricData | undefined,
  attributes: Record<string, unknown> = {},
): Histogram | undefined {
  return pointValue(metric, attributes) as Histogram | undefined;
}

function sortKeys(attributes: Record<string, unknown>): [string, unknown][] {
  return Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
