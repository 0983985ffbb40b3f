import { describe, expect, it } from 'vitest';
import { isDefinite, isJobStoredAs, isRunStoredAs } from '../../../lib/core/write-outcome.js';
import { InvalidArgumentError } from '../../../lib/errors/invalid-argument.error.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import { RunAlreadyRecordedError } from '../../../lib/errors/run-already-recorded.error.js';
import { StorageClosedError } from '../../../lib/errors/storage-closed.error.js';
import { makeJob, makeRun } from '../../../lib/testing/fixtures.js';

describe('write outcomes', () => {
  it('isDefinite: refusals that a retry cannot change, not connection faults', () => {
    expect(isDefinite(new JobNotFoundError('j'))).toBe(true);
    expect(isDefinite(new RunAlreadyRecordedError('j', new Date(0), 1))).toBe(true);
    expect(isDefinite(new StorageClosedError('TypeOrmStorage'))).toBe(true);
    expect(isDefinite(new InvalidArgumentError('ids', 1, 'an array'))).toBe(true);
    expect(isDefinite(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isDefinite(new Error('Failed to read auto-increment value from storage engine'))).toBe(
      false,
    );
    expect(isDefinite('down')).toBe(false);
  });

  it('isJobStoredAs: the same version and last update, or not', () => {
    const written = makeJob({ version: 4, updatedAt: new Date(1_000) });
    expect(isJobStoredAs({ ...written }, written)).toBe(true);
    expect(isJobStoredAs({ ...written, version: 5 }, written)).toBe(false);
    expect(isJobStoredAs({ ...written, updatedAt: new Date(1_001) }, written)).toBe(false);
    expect(isJobStoredAs(null, written)).toBe(false);
  });

  it('isRunStoredAs: the run is among those stored, ended as written', () => {
    const ended = { ...makeRun('j'), status: 'success' as const, endAt: new Date(2_000) };
    expect(isRunStoredAs([makeRun('j'), { ...ended }], ended)).toBe(true);
    expect(isRunStoredAs([{ ...ended, status: 'running', endAt: null }], ended)).toBe(false);
    expect(isRunStoredAs([{ ...ended, status: 'failed' }], ended)).toBe(false);
    expect(isRunStoredAs([{ ...ended, endAt: new Date(2_001) }], ended)).toBe(false);
    expect(isRunStoredAs([], ended)).toBe(false);
  });
});
