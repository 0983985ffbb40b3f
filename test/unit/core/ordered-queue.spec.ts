import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../lib/core/min-heap.js';
import { OrderedQueue } from '../../../lib/core/ordered-queue.js';

interface Item {
  at: number;
  seq: number;
}
const before = (a: Item, b: Item): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let t = seed;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe('OrderedQueue', () => {
  it('gives items back in the same order as a binary heap, however they arrive', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed);
      const queue = new OrderedQueue<Item>(before);
      const heap = new MinHeap<Item>(before);
      let seq = 0;
      let clock = 0;
      for (let step = 0; step < 20_000; step++) {
        const roll = next();
        if (roll < 0.55) {
          // Mostly in order (a clock that moves on), sometimes earlier than the last item.
          clock += Math.floor(next() * 3);
          const at = next() < 0.8 ? clock : clock - Math.floor(next() * 50);
          const item = { at, seq: seq++ };
          queue.push(item);
          heap.push(item);
        } else if (roll < 0.97) {
          expect(queue.peek()).toBe(heap.peek());
          expect(queue.pop()).toBe(heap.pop());
        } else {
          expect(queue.size).toBe(heap.size);
        }
      }
      while (heap.size > 0) expect(queue.pop()).toBe(heap.pop());
      expect(queue.pop()).toBeUndefined();
      expect(queue.size).toBe(0);
    }
  });

  it('takes a burst booked in order without a heap, and compacts what it took', () => {
    const queue = new OrderedQueue<Item>(before);
    for (let i = 0; i < 5_000; i++) queue.push({ at: 1_000, seq: i });
    for (let i = 0; i < 3_000; i++) expect(queue.pop()?.seq).toBe(i);
    queue.push({ at: 2_000, seq: 5_000 }); // still in order: after the lane's last
    queue.push({ at: 500, seq: 5_001 }); // before it: the heap
    expect(queue.size).toBe(2_002);
    expect(queue.pop()).toStrictEqual({ at: 500, seq: 5_001 });
    for (let i = 3_000; i < 5_000; i++) expect(queue.pop()?.seq).toBe(i);
    expect(queue.pop()?.seq).toBe(5_000);
    queue.push({ at: 1, seq: 0 });
    queue.clear();
    expect(queue.peek()).toBeUndefined();
  });
});
