export * from './job-storage.js';
export * from './memory/index.js';
