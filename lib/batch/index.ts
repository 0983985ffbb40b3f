export * from './batching.storage.js';
export * from './batching-storage-options.interface.js';
