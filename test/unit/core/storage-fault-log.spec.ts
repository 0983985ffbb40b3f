import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FAULT_EPISODE_QUIET_MS,
  FAULT_REMINDER_MS,
  StorageFaultLog,
} from '../../../lib/core/storage-fault-log.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';

describe('StorageFaultLog', () => {
  let logger: NopLogger;
  let warn: ReturnType<typeof vi.spyOn>;
  let log: ReturnType<typeof vi.spyOn>;
  let faults: StorageFaultLog;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    logger = new NopLogger();
    warn = vi.spyOn(logger, 'warn');
    log = vi.spyOn(logger, 'log');
    faults = new StorageFaultLog(logger);
  });

  afterEach(() => {
    faults.dispose();
    vi.useRealTimers();
  });

  const down = new Error('connect ECONNREFUSED 127.0.0.1:5432');

  it('logs the first failure of an episode once (warn, naming what failed and why), and counts the rest', () => {
    faults.failed('the start of a run of job "a"', down);
    for (let i = 0; i < 50; i++) {
      vi.advanceTimersByTime(100);
      faults.failed('the cluster poll', down);
    }
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /^Storage fault: the start of a run of job "a" failed: Error: connect ECONNREFUSED 127\.0\.0\.1:5432\./,
    );
    expect(faults.failing).toBe(true);
    expect(faults.failedCalls).toBe(51);
    expect(log).not.toHaveBeenCalled();
  });

  it(`ends the episode once the storage has answered for ${FAULT_EPISODE_QUIET_MS} ms without a failure (one log line)`, () => {
    faults.failed('a write', down);
    faults.failed('a write', down);
    vi.advanceTimersByTime(1_000);
    faults.succeeded();
    // A failure after the success keeps the episode going.
    vi.advanceTimersByTime(1_000);
    faults.failed('a write', down);
    faults.succeeded();
    vi.advanceTimersByTime(FAULT_EPISODE_QUIET_MS - 1);
    expect(log).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]?.[0]).toMatch(
      /^Storage recovered: it answers again; 3 call\(s\) failed over 2\.0 s \(the last: Error: connect ECONNREFUSED/,
    );
    expect(faults.failing).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('does not end an episode without a success, however long it lasts; recalls it every minute', () => {
    faults.failed('a write', down);
    vi.advanceTimersByTime(FAULT_REMINDER_MS - 1);
    faults.failed('a write', down);
    expect(warn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    faults.failed('a write', down);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1]?.[0]).toMatch(/^Storage still failing after 60\.0 s: 3 failed calls/);
    vi.advanceTimersByTime(10 * FAULT_EPISODE_QUIET_MS);
    expect(log).not.toHaveBeenCalled();
  });

  it('a success outside an episode does nothing; a new failure after an episode ended begins another', () => {
    faults.succeeded();
    expect(faults.failing).toBe(false);
    faults.failed('a write', down);
    faults.succeeded();
    vi.advanceTimersByTime(FAULT_EPISODE_QUIET_MS);
    faults.failed('a read', down);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1]?.[0]).toMatch(/^Storage fault: a read failed/);
    expect(log).toHaveBeenCalledTimes(1);
  });

  it('survives a logger that throws', () => {
    warn.mockImplementation(() => {
      throw new Error('logger down');
    });
    log.mockImplementation(() => {
      throw new Error('logger down');
    });
    expect(() => faults.failed('a write', down)).not.toThrow();
    faults.succeeded();
    expect(() => vi.advanceTimersByTime(FAULT_EPISODE_QUIET_MS)).not.toThrow();
    expect(faults.failing).toBe(false);
  });
});
