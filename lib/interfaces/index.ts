export * from './job.interface.js';
export * from './run.interface.js';
export * from './handler.interface.js';
export * from './logger.interface.js';
export * from './scheduler-options.interface.js';
export * from './job-event.interface.js';
export * from './metrics.interface.js';
