import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import type { RunPruneCriteria } from '../interfaces/job-storage.js';

/** Checks the criteria of `pruneRuns` (`InvalidArgumentError` naming the first that is wrong). */
export function checkPruneCriteria(criteria: RunPruneCriteria): RunPruneCriteria {
  if (typeof criteria !== 'object' || criteria === null) {
    throw new InvalidArgumentError('criteria', criteria, 'an object with limit');
  }
  const { maxRunsPerJob, olderThan, limit } = criteria;
  if (
    maxRunsPerJob !== undefined &&
    (typeof maxRunsPerJob !== 'number' || !Number.isSafeInteger(maxRunsPerJob) || maxRunsPerJob < 0)
  ) {
    throw new InvalidArgumentError('maxRunsPerJob', maxRunsPerJob, 'an integer >= 0');
  }
  if (
    olderThan !== undefined &&
    (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime()))
  ) {
    throw new InvalidArgumentError('olderThan', olderThan, 'a valid Date');
  }
  if (typeof limit !== 'number' || Number.isNaN(limit)) {
    throw new InvalidArgumentError('limit', limit, 'a number (at most this many runs go)');
  }
  return criteria;
}
