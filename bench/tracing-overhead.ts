/**
 * What tracing costs the scheduler per run: `startRun` + `traceId` + `runInContext` (with
 * `handlerExecuting` inside) + `endRun`, in ns per run, with no tracer, with `NoopJobTracer`, with
 * `OpenTelemetryJobTracer` and no SDK registered, and with a real SDK (AsyncLocalStorage context
 * manager; sampler off; sampler on with a BatchSpanProcessor whose exporter discards), and for
 * reference the SDK's own floor (`startActiveSpan` + `end`, no attributes). Also the `JobMetrics`
 * call of one run (`runEnded`: the duration histogram and window), without and with a MeterProvider.
 *
 *   node --expose-gc --import tsx bench/tracing-overhead.ts [--runs=1000000]
 *
 * Each scenario runs in a fresh child process (the SDK is global, and JIT feedback of one scenario
 * must not colour the next). "sync" calls a no-op function in the run's context; "async" an async
 * one that awaits once (what `execute` is). "bytes/run" is heap growth over 2,000 runs between
 * forced GCs (median of 15 samples): a rough figure. Asserts nothing.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { JobMetrics } from '../lib/telemetry/job-metrics.js';
import type { JobTracer, RunOutcome, TraceHandle } from '../lib/interfaces/job-tracer.js';
import { NoopJobTracer } from '../lib/telemetry/noop-job-tracer.js';
import { OpenTelemetryJobTracer } from '../lib/telemetry/otel-job-tracer.js';
import { intArg, report, RESULT_PREFIX, settledHeap } from './common.js';

const SCENARIOS = [
  'none',
  'noop-tracer',
  'otel-no-sdk',
  'otel-sdk-sampled-out',
  'otel-sdk-sampled',
  'sdk-floor-sampled',
  'metrics-no-sdk',
  'metrics-sdk',
] as const;
type Scenario = (typeof SCENARIOS)[number];

const job = { id: 'job-1', name: 'Nightly report', handlerName: 'report', retryCount: 0 };
const run = { id: 'run-1', attempt: 1, traceId: '' };

/** An exporter that drops what it is given. */
class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function installSdk(sampled: boolean): void {
  const provider = new BasicTracerProvider({
    sampler: sampled ? undefined : new AlwaysOffSampler(),
    spanProcessors: [
      new BatchSpanProcessor(new DiscardingExporter(), {
        maxQueueSize: 100_000,
        maxExportBatchSize: 10_000,
        scheduledDelayMillis: 50,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/** One run's tracing calls. */
function tracedRun(tracer: JobTracer, body: (handle: TraceHandle) => unknown): unknown {
  const handle = tracer.startRun(job, undefined, run);
  run.traceId = tracer.traceId(handle);
  const result = tracer.runInContext(handle, body, undefined, handle);
  const outcome: RunOutcome = { status: 'success', durationMs: 3 };
  tracer.endRun(handle, outcome);
  return result;
}

/** ns per call of `step`, best of 5 rounds of `runs` calls. */
function timeSync(runs: number, step: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) step();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / runs);
  }
  return best;
}

async function timeAsync(runs: number, step: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await step();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / runs);
  }
  return best;
}

/** Median heap growth per call over batches of 2,000 calls between forced GCs. */
function bytesPerCall(step: () => void): number {
  const samples: number[] = [];
  for (let s = 0; s < 15; s++) {
    const before = settledHeap();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 2_000; i++) step();
    samples.push((process.memoryUsage().heapUsed - heap0) / 2_000);
    void before;
  }
  samples.sort((a, b) => a - b);
  return Math.max(0, Math.round(samples[7]));
}

async function child(scenario: Scenario, runs: number): Promise<void> {
  if (scenario === 'metrics-no-sdk' || scenario === 'metrics-sdk') {
    if (scenario === 'metrics-sdk')
      metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new IdleReader()] }));
    const m = new JobMetrics();
    const step = (): void => m.runEnded('report', 'success', 3);
    timeSync(runs / 10, step);
    report({ scenario, sync: timeSync(runs, step), bytes: bytesPerCall(step) });
    return;
  }
  if (scenario === 'otel-sdk-sampled-out') installSdk(false);
  if (scenario === 'otel-sdk-sampled' || scenario === 'sdk-floor-sampled') installSdk(true);
  if (scenario === 'sdk-floor-sampled') return floor(scenario, runs);
  const tracer: JobTracer | null =
    scenario === 'none'
      ? null
      : scenario === 'noop-tracer'
        ? new NoopJobTracer()
        : new OpenTelemetryJobTracer();
  let sink = 0;
  const syncBody = (handle: TraceHandle): number => {
    tracer?.handlerExecuting(handle);
    return ++sink;
  };
  const asyncBody = async (handle: TraceHandle): Promise<number> => {
    tracer?.handlerExecuting(handle);
    await Promise.resolve();
    return ++sink;
  };
  const syncStep =
    tracer === null
      ? (): void => void syncBody(undefined as unknown as TraceHandle)
      : (): void => void tracedRun(tracer, syncBody);
  const asyncStep =
    tracer === null
      ? (): Promise<number> => asyncBody(undefined as unknown as TraceHandle)
      : (): Promise<number> => tracedRun(tracer, asyncBody) as Promise<number>;
  timeSync(runs / 10, syncStep);
  await timeAsync(runs / 10, asyncStep);
  const sync = timeSync(runs, syncStep);
  const asyncNs = await timeAsync(runs, asyncStep);
  report({ scenario, sync, async: asyncNs, bytes: bytesPerCall(syncStep), sink });
}

/** The SDK's own cost for a span made active around a call, without this library. */
async function floor(scenario: Scenario, runs: number): Promise<void> {
  const otel = trace.getTracer('floor');
  const options = { root: true };
  let sink = 0;
  const syncStep = (): void =>
    otel.startActiveSpan('job.execute', options, (span) => {
      sink++;
      span.end();
    });
  const asyncStep = (): Promise<void> =>
    otel.startActiveSpan('job.execute', options, async (span) => {
      await Promise.resolve();
      sink++;
      span.end();
    });
  timeSync(runs / 10, syncStep);
  await timeAsync(runs / 10, asyncStep);
  const sync = timeSync(runs, syncStep);
  const asyncNs = await timeAsync(runs, asyncStep);
  report({ scenario, sync, async: asyncNs, bytes: bytesPerCall(syncStep), sink });
}

function spawnScenario(scenario: Scenario, runs: number): Promise<Record<string, number>> {
  const script = fileURLToPath(import.meta.url);
  const proc = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, `--scenario=${scenario}`, `--runs=${runs}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) reject(new Error(`${scenario} failed (exit ${code})`));
      else resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, number>);
    });
  });
}

async function main(): Promise<void> {
  const runs = intArg('runs', 1_000_000);
  const arg = process.argv.find((a) => a.startsWith('--scenario='));
  if (arg !== undefined) return child(arg.slice('--scenario='.length) as Scenario, runs);
  console.log(
    `cpu: ${cpus()[0]?.model ?? 'unknown'}; node ${process.version}; load ${loadavg()[0].toFixed(2)}`,
  );
  console.log(`${runs} runs per round, best of 5 rounds\n`);
  console.log('| scenario | sync ns/run | async ns/run | bytes/run (sync) |');
  console.log('|---|---:|---:|---:|');
  for (const scenario of SCENARIOS) {
    const r = await spawnScenario(scenario, scenario.includes('sdk-') ? runs / 10 : runs);
    const fmt = (n: number | undefined): string => (n === undefined ? '–' : n.toFixed(0));
    console.log(`| ${scenario} | ${fmt(r.sync)} | ${fmt(r.async)} | ${fmt(r.bytes)} |`);
  }
}

await main();
