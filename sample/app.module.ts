import { Module } from '@nestjs/common';
import { JobModule } from '../lib/index.js';
import { MaintenanceModule } from './maintenance/maintenance.module.js';
import { RunReporter } from './monitoring/run-reporter.service.js';
import { ReportsModule } from './reports/reports.module.js';

@Module({
  imports: [
    // Global: every module can inject SchedulerService. Without `storage`, jobs live in memory;
    // with TypeORM: JobModule.forRootAsync({ inject: [DataSource], useFactory: (ds) => ({
    //   storage: new TypeOrmStorage(ds, { tablePrefix: 'myapp_' }) }) }).
    JobModule.forRoot({
      concurrentRuns: 5,
      jobTimeout: '1m',
      retryDelay: '2s',
      shutdownTimeout: '10s',
    }),
    MaintenanceModule,
    ReportsModule,
  ],
  providers: [RunReporter],
})
export class AppModule {}
