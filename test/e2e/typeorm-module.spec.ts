import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobHandler, JobModule, NopLogger, SchedulerService } from '../../lib/index.js';
import { TypeOrmStorage } from '../../lib/storage/typeorm/index.js';

@Injectable()
class Billing {
  @JobHandler('billing.invoice')
  invoice(payload: { customer: string }): string {
    return `invoiced ${payload.customer}`;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'job-e2e-'));
const database = join(dir, 'app.sqlite');

async function bootApp(
  options: { enableBatchUpdate?: boolean } = {},
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database }),
      JobModule.forRootAsync({
        inject: [DataSource],
        useFactory: (dataSource: DataSource) => ({
          storage: new TypeOrmStorage(dataSource, { tablePrefix: 'e2e_' }),
          logger: new NopLogger(),
          ...options,
        }),
      }),
    ],
    providers: [Billing],
  }).compile();
  const app = moduleRef.createNestApplication();
  app.enableShutdownHooks();
  await app.init();
  return app;
}

describe('JobModule on TypeOrmStorage (the app’s own SQLite DataSource)', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job and keeps its history across a restart of the app', async () => {
    app = await bootApp();
    const scheduler = app.get(SchedulerService);
    const done = firstValueFrom(scheduler.events$.pipe(filter((e) => e.type === 'run.succeeded')));
    const job = await scheduler.addJob({
      id: 'invoice-acme',
      runAt: new Date(),
      handlerName: 'billing.invoice',
      payload: { customer: 'ACME' },
    });
    await done;
    await app.close();

    app = await bootApp();
    const again = app.get(SchedulerService);
    expect(await again.getJob(job.id)).toMatchObject({
      status: 'completed',
      lastResult: 'invoiced ACME',
    });
    const runs = await again.getRuns(job.id, 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'success', output: 'invoiced ACME', attempt: 1 });
    const rows = await app.get(DataSource).query('SELECT count(*) AS n FROM e2e_job_runs');
    expect(Number(rows[0].n)).toBe(1);
  });

  it('flushes batched writes before TypeORM closes the DataSource on shutdown', async () => {
    app = await bootApp({ enableBatchUpdate: true });
    const scheduler = app.get(SchedulerService);
    const done = firstValueFrom(scheduler.events$.pipe(filter((e) => e.type === 'run.succeeded')));
    const job = await scheduler.addJob({
      runAt: new Date(),
      handlerName: 'billing.invoice',
      payload: { customer: 'Globex' },
    });
    await done;
    await app.close(); // beforeApplicationShutdown flushes; TypeORM closes afterwards

    app = await bootApp();
    const runs = await app.get(SchedulerService).getRuns(job.id, 10);
    expect(runs.map((r) => [r.status, r.output])).toEqual([['success', 'invoiced Globex']]);
  });
});
