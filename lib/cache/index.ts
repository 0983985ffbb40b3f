export * from './caching.storage.js';
export * from './caching-storage-options.interface.js';
