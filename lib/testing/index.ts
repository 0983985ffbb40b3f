// `nestjs-job-scheduler/testing`: what a custom storage's own tests use. The conformance suites
// check a storage against the contracts the scheduler relies on (run them with Jest or Vitest:
// pass the framework's `describe`, `it`, `expect`, `beforeEach` and `afterEach`), and the fixtures
// make complete, valid records.
export { describeStorageConformance } from './storage-conformance/index.js';
export { describeClusterStorageConformance } from './cluster-conformance/index.js';
export type { SharedStorage } from './cluster-conformance/support.js';
export { makeJob, makeRun } from './fixtures.js';
export type { BasicMatchers, ExpectFn, Matchers, TestApi } from './test-api.js';
