import { describe, expect, it } from 'vitest';
import { afterRun } from '../../../lib/core/after-run.js';

const cron = { type: 'cron', retryCount: 0, maxRetry: 2 } as const;
const once = { type: 'once', retryCount: 0, maxRetry: 2 } as const;

describe('afterRun', () => {
  it('sends a recurring job back to its schedule after a success', () => {
    expect(afterRun(cron, true, false, 1_000, 500)).toStrictEqual({ kind: 'next' });
  });

  it('completes a once job after a success, whatever retries it has left', () => {
    expect(afterRun(once, true, false, 1_000, 500)).toStrictEqual({ kind: 'completed' });
  });

  it('retries a failed run retryDelay later while retries are left', () => {
    expect(afterRun(cron, false, false, 1_000, 500)).toStrictEqual({ kind: 'retry', at: 1_500 });
    expect(afterRun({ ...once, retryCount: 1 }, false, false, 1_000, 0)).toStrictEqual({
      kind: 'retry',
      at: 1_000,
    });
  });

  it('ends the retries once they are used up', () => {
    expect(afterRun({ ...cron, retryCount: 2 }, false, false, 1_000, 500)).toStrictEqual({
      kind: 'next',
    });
    expect(afterRun({ ...once, retryCount: 2 }, false, false, 1_000, 500)).toStrictEqual({
      kind: 'failed',
    });
    expect(afterRun({ ...once, maxRetry: 0 }, false, false, 1_000, 500)).toStrictEqual({
      kind: 'failed',
    });
  });

  it('does not retry a job removed while it ran', () => {
    expect(afterRun(cron, false, true, 1_000, 500)).toStrictEqual({ kind: 'next' });
    expect(afterRun(once, false, true, 1_000, 500)).toStrictEqual({ kind: 'failed' });
  });
});
