import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QueryRunner } from 'typeorm';
import { TransactionWatch } from '../../../../lib/storage/typeorm/transaction-watch.js';

/** A query runner as far as the watch looks at it. */
const runner = (active = true): QueryRunner & { isTransactionActive: boolean } =>
  ({ isTransactionActive: active, isReleased: false }) as QueryRunner & {
    isTransactionActive: boolean;
  };

describe('TransactionWatch', () => {
  afterEach(() => vi.useRealTimers());

  it('reads the outcome only once the transaction ended, then stops its timer', async () => {
    vi.useFakeTimers();
    const watch = new TransactionWatch();
    const open = runner();
    let reads = 0;
    const committed = watch.watch(open, async () => {
      reads++;
      return true;
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toBe(0);
    open.isTransactionActive = false;
    await vi.advanceTimersByTimeAsync(100);
    await expect(committed).resolves.toBe(true);
    expect(reads).toBe(1);
    expect(watch.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells a rollback (the write is not there), and ends every watch as not committed on close', async () => {
    vi.useFakeTimers();
    const watch = new TransactionWatch();
    const rolledBack = watch.watch(runner(false), async () => false);
    await vi.advanceTimersByTimeAsync(100);
    await expect(rolledBack).resolves.toBe(false);
    const pending = watch.watch(runner(), async () => true);
    watch.close();
    await expect(pending).resolves.toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries an outcome it cannot read, and rejects after 30 s of failures', async () => {
    vi.useFakeTimers();
    const watch = new TransactionWatch();
    let reads = 0;
    const outcome = watch.watch(runner(false), async () => {
      reads++;
      throw new Error('connection refused');
    });
    const settled = outcome.catch((err: unknown) => err);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(reads).toBeGreaterThan(100);
    await vi.advanceTimersByTimeAsync(1_200);
    expect(((await settled) as Error).message).toBe('connection refused');
  });
});
