export * from './job-storage.js';
export * from './memory/index.js';
export * from './cluster-storage.js';
