// The fixtures moved to lib/testing (shipped as nestjs-job-scheduler/testing).
export * from '../../lib/testing/fixtures.js';
