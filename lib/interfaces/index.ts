export * from './job.interface.js';
export * from './run.interface.js';
export * from './history-query.interface.js';
export * from './handler.interface.js';
export * from './logger.interface.js';
// The options as given; their normalized forms (`Normalized*`) are the scheduler's own.
export type {
  ClusterOptions,
  HistoryRetentionOptions,
  SchedulerOptions,
} from './scheduler-options.interface.js';
export * from './job-event.interface.js';
export * from './metrics.interface.js';
export type {
  JobModuleAsyncOptions,
  JobModuleExtraOptions,
  JobModuleOptions,
  JobOptionsFactory,
} from './job-module-options.interface.js';
export * from './job-handler-options.interface.js';
export * from './scheduler-health.interface.js';
