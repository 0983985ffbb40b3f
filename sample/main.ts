import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { setUpConsoleTracing } from './tracing.js';

async function bootstrap(): Promise<void> {
  setUpConsoleTracing(); // JOB_TRACE_CONSOLE=1 prints a span per run
  const app = await NestFactory.create(AppModule);
  // Without this, SIGINT / SIGTERM kill the process at once: with it, the scheduler stops firing,
  // lets runs in flight finish (up to shutdownTimeout), records them, then the process exits.
  app.enableShutdownHooks();
  // Loopback only: the dashboard serves this machine unless it is given guards or allowRemote.
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const url = `${(await app.getUrl()).replace('[::1]', 'localhost')}`;
  Logger.log(
    `Dashboard: ${url}/jobs/  (add a user: curl -X POST ${url}/users -H 'content-type: application/json' -d '{"email":"ada@example.com"}')`,
    'Sample',
  );
  Logger.log('Scheduler running; press Ctrl+C to stop gracefully.', 'Sample');
}

void bootstrap();
