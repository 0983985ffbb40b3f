import { randomUUID } from 'node:crypto';
import type { Job } from '../../interfaces/job.interface.js';
import type { JobStorage } from '../../interfaces/job-storage.js';
import type { Run } from '../../interfaces/run.interface.js';
import { makeJob, makeRun } from '../fixtures.js';
import type { TestApi } from '../test-api.js';
import { batchStorageSection } from './batch.js';
import { closeAndPingSection } from './close.js';
import { copiesSection, listJobsSection, payloadsSection } from './copies.js';
import { historySection } from './history.js';
import { jobsSection } from './jobs.js';
import { runsSection } from './runs.js';
import type { StorageSuite } from './support.js';

/**
 * Defines, with the test framework's `api`, a `describe` block that checks a storage against the `JobStorage` contract (and the
 * `BatchStorage` one when `isBatchStorage(storage)`): a fresh storage per test from `createStorage`,
 * handed to `cleanup` (if given; it may be closed already) and then closed after the test.
 *
 * Written against the abstract contract only: every test uses ids of its own, so a storage whose data
 * outlives one test (a shared database) passes too.
 */ export function describeStorageConformance(
  api: TestApi,
  name: string,
  createStorage: () => Promise<JobStorage> | JobStorage,
  cleanup?: (s: JobStorage) => Promise<void>,
  /** Whether the storage implements BatchStorage; when true (the default), the batch contract is required. */
  { batch = true }: { batch?: boolean } = {},
): void {
  const { describe, beforeEach, afterEach } = api;
  describe(`${name}: JobStorage conformance`, () => {
    let storage: JobStorage;
    let counter = 0;

    /** A fresh id, unique across tests and runs (and at most 64 characters). */
    const uid = (prefix = 'job'): string => `${prefix}-${++counter}-${randomUUID().slice(0, 8)}`;

    /** Creates and stores a job with a fresh id; returns what was given. */
    const addJob = async (overrides: Partial<Job> = {}): Promise<Job> => {
      const job = makeJob({ id: uid(), ...overrides });
      await storage.createJob(job);
      return job;
    };

    /** Creates and stores a run of `jobId`; returns what was given. */
    const addRun = async (jobId: string, overrides: Partial<Run> = {}): Promise<Run> => {
      const run = makeRun(jobId, { id: uid('run'), ...overrides });
      await storage.createRun(run);
      return run;
    };

    /** The jobs of `list` whose id is in `ids`, in the order of `list`. */
    const only = (list: Job[], ids: readonly string[]): Job[] => {
      const wanted = new Set(ids);
      return list.filter((job) => wanted.has(job.id));
    };

    beforeEach(async () => {
      storage = await createStorage();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(storage);
      await storage.close();
    });

    const ctx: StorageSuite = {
      api,
      get storage() {
        return storage;
      },
      batch,
      uid,
      addJob,
      addRun,
      only,
    };
    jobsSection(ctx);
    copiesSection(ctx);
    payloadsSection(ctx);
    listJobsSection(ctx);
    runsSection(ctx);
    historySection(ctx);
    batchStorageSection(ctx);
    closeAndPingSection(ctx);
  });
}
