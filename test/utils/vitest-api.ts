import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestApi } from '../../lib/testing/index.js';

/** Vitest, as the conformance suites of `nestjs-job-scheduler/testing` take it. */
export const vitestApi: TestApi = { describe, it, expect, beforeEach, afterEach };
