/**
 * The seed's trace diagram, end to end: a Scheduler on a TypeOrmStorage over PostgreSQL with the
 * OpenTelemetry pg instrumentation registered. The run's own queries (record the start, record the
 * end) and the handler's query are `pg.query` spans under its `job.execute` span.
 *
 * The instrumentation patches `pg` when it is loaded: it is enabled before `typeorm` (which loads
 * `pg` when a postgres DataSource is made) is imported, dynamically.
 */
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import {
  TEST_DATABASES,
  describeWithDatabase,
  unavailableReason,
  uniqueTablePrefix,
} from '../../utils/databases.js';
import { installTracing, type TracingSdk } from '../../unit/telemetry/otel-sdk.js';

const instrumentation = new PgInstrumentation({ enabled: false });
instrumentation.enable();
const { DataSource } = await import('typeorm');
const { TypeOrmStorage } = await import('../../../lib/storage/typeorm/index.js');

const database = TEST_DATABASES.postgres;

describeWithDatabase(
  database,
  await unavailableReason(database),
  'Scheduler on PostgreSQL, traced',
  () => {
    let sdk: TracingSdk;
    let dataSource: InstanceType<typeof DataSource>;
    let storage: InstanceType<typeof TypeOrmStorage>;

    beforeEach(async () => {
      sdk = installTracing();
      instrumentation.setTracerProvider(sdk.provider);
      dataSource = new DataSource(database.options());
      await dataSource.initialize();
      storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
      await storage.initialize();
    });

    afterEach(async () => {
      await dataSource.query(
        `DROP TABLE IF EXISTS "${storage.jobTableName}", "${storage.runTableName}", "${storage.leaseTableName}"`,
      );
      await dataSource.destroy();
      await sdk.uninstall();
    });

    it('puts the run’s storage queries and the handler’s query under job.execute', async () => {
      const scheduler = new Scheduler(storage, { logger: new NopLogger() });
      scheduler.registerHandlerFunc('report', async () => {
        const rows = await dataSource.query('SELECT 40 + 2 AS answer');
        return rows[0].answer;
      });
      const job = await scheduler.addJob({
        name: 'Nightly report',
        runAt: new Date(),
        handlerName: 'report',
      });
      await scheduler.start();
      for (let i = 0; i < 100 && !sdk.spans().some((s) => s.name === 'job.execute'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await scheduler.stop();

      const run = sdk.span('job.execute');
      expect(run.attributes).toMatchObject({
        'job.id': job.id,
        'job.name': 'Nightly report',
        'job.handler': 'report',
        'job.retry_count': 0,
        'run.status': 'success',
      });
      expect(run.events.map((e) => e.name)).toEqual(['handler_executing']);
      const children = sdk
        .spans()
        .filter(
          (s) =>
            s.name.startsWith('pg.query') &&
            s.parentSpanContext?.spanId === run.spanContext().spanId,
        );
      const texts = children.map((s) => String(s.attributes['db.query.text']));
      // Start: the job written running and the run created; the handler's query; end: the run and
      // the job in one statement (PostgreSQL).
      expect(texts.some((t) => t.includes(storage.runTableName) && /insert/i.test(t))).toBe(true);
      expect(texts.some((t) => t.includes(storage.jobTableName) && /update/i.test(t))).toBe(true);
      expect(texts.some((t) => t.startsWith('WITH ') && t.includes(storage.runTableName))).toBe(
        true,
      );
      expect(texts).toContain('SELECT 40 + 2 AS answer');
      expect(children.length).toBeGreaterThanOrEqual(4);
      const [stored] = await scheduler.getRuns(job.id, 1);
      expect(stored!.traceId).toBe(run.spanContext().traceId);
      expect(stored!.output).toBe('42');
    });
  },
);
