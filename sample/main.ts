import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { setUpConsoleTracing } from './tracing.js';

async function bootstrap(): Promise<void> {
  setUpConsoleTracing(); // JOB_TRACE_CONSOLE=1 prints a span per run
  // No HTTP server is needed to run jobs: an application context is enough.
  const app = await NestFactory.createApplicationContext(AppModule);
  // Without this, SIGINT / SIGTERM kill the process at once: with it, the scheduler stops firing,
  // lets runs in flight finish (up to shutdownTimeout), records them, then the process exits.
  app.enableShutdownHooks();
  Logger.log('Scheduler running; press Ctrl+C to stop gracefully.', 'Sample');
}

void bootstrap();
