export * from '../interfaces/job-storage.js';
export * from './memory/index.js';
export * from '../interfaces/cluster-storage.js';
