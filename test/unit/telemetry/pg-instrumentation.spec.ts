/**
 * The seed's trace with a real database: the storage queries of a run and its handler's own query
 * are children of `job.execute`; the batch flush's query is a child of `batch.flush.runs`, which
 * links to the run.
 *
 * `PgInstrumentation` patches `pg` when it is loaded, so it is enabled first and `pg` is imported
 * dynamically afterwards (a static `import pg from 'pg'` is hoisted above the instrumentation and
 * stays unpatched: no `pg.query` spans). In Vitest, `pg` is an external module loaded by Node, so the
 * dynamic import goes through the require hook like a plain `require('pg')` would.
 */
import type { SpanContext } from '@opentelemetry/api';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import type { Client as PgClient } from 'pg';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { OpenTelemetryJobTracer } from '../../../lib/telemetry/otel-job-tracer.js';
import { SpanLinks } from '../../../lib/telemetry/span-links.js';
import { TEST_DATABASES, describeWithDatabase } from '../../utils/databases.js';
import { installTracing, type TracingSdk } from './otel-sdk.js';

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const instrumentation = new PgInstrumentation({ enabled: false });
instrumentation.enable();
const { default: pg } = await import('pg');

/** Why PostgreSQL cannot be used, tried with the (instrumented) driver itself. */
async function unreachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const reason = await unreachable();

afterAll(() => {
  instrumentation.disable();
});

describeWithDatabase(TEST_DATABASES.postgres, reason, 'job.execute with PgInstrumentation', () => {
  let sdk: TracingSdk;
  let client: PgClient;

  beforeEach(async () => {
    sdk = installTracing();
    instrumentation.setTracerProvider(sdk.provider);
    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(
      'CREATE TEMP TABLE otel_runs (id text PRIMARY KEY, job_id text NOT NULL, status text NOT NULL)',
    );
    sdk.exporter.reset();
  });

  afterEach(async () => {
    await client.end();
    await sdk.uninstall();
  });

  it('makes the start writes and the handler’s query children of job.execute, and the flush query a child of batch.flush.runs', async () => {
    const tracer = new OpenTelemetryJobTracer();
    const links = new SpanLinks();
    const job = { id: 'job-1', name: 'Nightly', handlerName: 'report', retryCount: 0 };
    const handle = tracer.startRun(job);

    // The scheduler's execute(): start writes, the event, then the handler, all in the run's context.
    const result = await tracer.runInContext(handle, async () => {
      await client.query('INSERT INTO otel_runs VALUES ($1, $2, $3)', [
        'run-1',
        'job-1',
        'running',
      ]);
      links.add(tracer.activeSpanContext()); // what BatchingStorage does on each buffered write
      tracer.handlerExecuting(handle);
      const { rows } = await client.query<{ n: number }>('SELECT 41 + 1 AS n');
      return rows[0].n;
    });
    expect(result).toBe(42);
    tracer.endRun(handle, { status: 'success', durationMs: 3 });

    // The batch flush, later, from a timer: a root span linked to the run, its query inside it.
    const taken = links.take();
    const flush = tracer.flushSpan('runs', taken.links, 1);
    await tracer.runInContext(flush, () =>
      client.query('UPDATE otel_runs SET status = $1 WHERE id = $2', ['success', 'run-1']),
    );
    tracer.endFlush(flush);

    const run = sdk.span('job.execute');
    const runContext: SpanContext = run.spanContext();
    const queries = sdk.spans().filter((s) => s.name.startsWith('pg.query'));
    expect(queries.map((q) => q.name)).toEqual([
      'pg.query:INSERT test',
      'pg.query:SELECT test',
      'pg.query:UPDATE test',
    ]);
    const [insert, select, update] = queries;
    for (const child of [insert, select]) {
      expect(child.parentSpanContext?.spanId).toBe(runContext.spanId);
      expect(child.spanContext().traceId).toBe(runContext.traceId);
      expect(child.attributes['db.system.name']).toBe('postgresql');
    }
    expect(select.attributes['db.query.text']).toBe('SELECT 41 + 1 AS n');
    // (Not compared with the queries' times: each SDK span keeps its own anchored clock.)
    expect(run.events.map((e) => e.name)).toEqual(['handler_executing']);

    const flushSpan = sdk.span('batch.flush.runs');
    expect(flushSpan.parentSpanContext).toBeUndefined();
    expect(flushSpan.links.map((l) => l.context)).toEqual([runContext]);
    expect(update.parentSpanContext?.spanId).toBe(flushSpan.spanContext().spanId);
    expect(update.spanContext().traceId).not.toBe(runContext.traceId);
  });

  it('records a failing query of the handler under a failed job.execute', async () => {
    const tracer = new OpenTelemetryJobTracer();
    const handle = tracer.startRun({
      id: 'job-2',
      name: 'Broken',
      handlerName: 'broken',
      retryCount: 1,
    });
    const error = await tracer
      .runInContext(handle, () => client.query('SELECT * FROM no_such_table'))
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(Error);
    tracer.endRun(handle, { status: 'failed', durationMs: 1, error });

    const run = sdk.span('job.execute');
    expect(run.status.code).toBe(2);
    expect(run.attributes['job.retry_count']).toBe(1);
    const query = sdk.spans().find((s) => s.name.startsWith('pg.query'));
    expect(query?.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(query?.status.code).toBe(2);
  });
});
