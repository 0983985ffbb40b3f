import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobModule } from 'nestjs-job-scheduler';
import { JobAdminModule } from 'nestjs-job-scheduler/admin';
import { JobSchedulerHealthIndicator } from 'nestjs-job-scheduler/terminus';
import { TypeOrmStorage } from 'nestjs-job-scheduler/typeorm';
import { DataSource } from 'typeorm';
import { HealthController } from './health.controller.js';
import { GreetingService, TickHandler } from './jobs.js';

@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL }),
    JobModule.forRootAsync({
      inject: [DataSource],
      useFactory: (dataSource: DataSource) => ({
        storage: new TypeOrmStorage(dataSource, { tablePrefix: process.env.TABLE_PREFIX }),
      }),
    }),
    TerminusModule,
    JobAdminModule.register(),
  ],
  controllers: [HealthController],
  providers: [TickHandler, GreetingService, JobSchedulerHealthIndicator],
})
export class AppModule {}
