export * from './job-scheduler.health-indicator.js';
