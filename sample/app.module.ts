import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobAdminModule } from '../lib/admin/index.js';
import { JobModule } from '../lib/index.js';
import { TypeOrmStorage } from '../lib/storage/typeorm/index.js';
import { sampleDatabase } from './database.config.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import { RunReporter } from './monitoring/run-reporter.service.js';
import { ReportsModule } from './reports/reports.module.js';
import { UsersModule } from './users/users.module.js';

@Module({
  imports: [
    // The app's own DataSource: SQLite by default, PostgreSQL or MySQL with JOB_DATABASE_URL.
    TypeOrmModule.forRoot(sampleDatabase()),
    // Global: every module can inject SchedulerService. The storage keeps jobs and every run in
    // the app's database (tables `sample_jobs` / `sample_job_runs`, created if missing).
    JobModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({
        storage: new TypeOrmStorage(dataSource, { tablePrefix: 'sample_' }),
        concurrentRuns: 5,
        jobTimeout: '1m',
        retryDelay: '2s',
        shutdownTimeout: '10s',
        historyRetention: { maxRunsPerJob: 100 },
        // JOB_CLUSTER=1 (on PostgreSQL or MySQL): start the sample twice and each fire runs once.
        ...(process.env.JOB_CLUSTER ? { cluster: { instanceId: `sample-${process.pid}` } } : {}),
      }),
    }),
    // The dashboard at /jobs/ and its JSON API at /jobs/api (loopback clients only, by default).
    JobAdminModule.register({ path: 'jobs' }),
    MaintenanceModule,
    ReportsModule,
    UsersModule,
  ],
  providers: [RunReporter],
})
export class AppModule {}
