export * from './schedule.js';
export * from './interval-schedule.js';
export * from './cron-schedule.js';
