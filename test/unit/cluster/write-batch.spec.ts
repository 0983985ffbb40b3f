import { describe, expect, it } from 'vitest';
import { WriteBatch } from '../../../lib/cluster/write-batch.js';

/** A send that records each batch and answers when released. */
function recorder() {
  const batches: number[][] = [];
  const pending: Array<{ release: () => void; fail: (err: unknown) => void }> = [];
  const send = (items: number[]): Promise<number[]> => {
    batches.push(items);
    return new Promise((resolve, reject) => {
      pending.push({ release: () => resolve(items.map((i) => i * 10)), fail: reject });
    });
  };
  return { batches, pending, send };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatch', () => {
  it('sends the items submitted in one turn together, and answers each in order', async () => {
    const r = recorder();
    const batch = new WriteBatch(r.send, 100, 1);
    const answers = [1, 2, 3].map((i) => batch.submit(i));
    await tick();
    expect(r.batches).toStrictEqual([[1, 2, 3]]);
    r.pending[0]!.release();
    expect(await Promise.all(answers)).toStrictEqual([10, 20, 30]);
  });

  it('holds what comes while a batch is out, and sends it in one batch when it is back', async () => {
    const r = recorder();
    const batch = new WriteBatch(r.send, 100, 1);
    const first = batch.submit(1);
    await tick();
    const later = [2, 3, 4].map((i) => batch.submit(i));
    await tick();
    expect(r.batches).toStrictEqual([[1]]);
    r.pending[0]!.release();
    expect(await first).toBe(10);
    await tick();
    expect(r.batches).toStrictEqual([[1], [2, 3, 4]]);
    r.pending[1]!.release();
    expect(await Promise.all(later)).toStrictEqual([20, 30, 40]);
  });

  it('sends at most maxSize items per batch, and up to maxInFlight batches at once', async () => {
    const r = recorder();
    const batch = new WriteBatch(r.send, 2, 2);
    const answers = [1, 2, 3, 4, 5].map((i) => batch.submit(i));
    await tick();
    expect(r.batches).toStrictEqual([
      [1, 2],
      [3, 4],
    ]);
    r.pending[0]!.release();
    await tick();
    expect(r.batches.at(-1)).toStrictEqual([5]);
    r.pending[1]!.release();
    r.pending[2]!.release();
    expect(await Promise.all(answers)).toStrictEqual([10, 20, 30, 40, 50]);
  });

  it('rejects every item of a failed batch with its error, and goes on with the next', async () => {
    const r = recorder();
    const batch = new WriteBatch(r.send, 100, 1);
    const failed = [1, 2].map((i) => batch.submit(i).catch((err: unknown) => err));
    await tick();
    const next = batch.submit(3);
    const boom = new Error('connection lost');
    r.pending[0]!.fail(boom);
    expect(await Promise.all(failed)).toStrictEqual([boom, boom]);
    await tick();
    r.pending[1]!.release();
    expect(await next).toBe(30);
  });

  it('sends the next batch once the one out has stalled, and still answers the stalled one', async () => {
    const r = recorder();
    const batch = new WriteBatch(r.send, 100, 1, 20);
    const first = batch.submit(1);
    await tick();
    const second = batch.submit(2);
    await tick();
    expect(r.batches).toStrictEqual([[1]]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await tick();
    expect(r.batches).toStrictEqual([[1], [2]]);
    r.pending[1]!.release();
    expect(await second).toBe(20);
    r.pending[0]!.release();
    expect(await first).toBe(10);
    // Both counted back once: one batch out at a time again.
    const third = [3, 4].map((i) => batch.submit(i));
    await tick();
    expect(r.batches.at(-1)).toStrictEqual([3, 4]);
    r.pending[2]!.release();
    expect(await Promise.all(third)).toStrictEqual([30, 40]);
  });

  it('rejects the items when the send throws at once', async () => {
    const batch = new WriteBatch<number, number>(
      () => {
        throw new Error('bad batch');
      },
      100,
      1,
    );
    await expect(batch.submit(1)).rejects.toThrow('bad batch');
  });
});
