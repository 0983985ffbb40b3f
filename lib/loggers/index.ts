export * from './std-logger.js';
export * from './nop-logger.js';
