import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../../lib/core/min-heap.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Item {
  key: number;
  id: number;
}

const byKey = (a: Item, b: Item): boolean => a.key < b.key;

function drain<T>(heap: MinHeap<T>): T[] {
  const out: T[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) out.push(item);
  return out;
}

describe('MinHeap', () => {
  it('is empty at first', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('holds one item', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    heap.push(7);
    expect(heap.size).toBe(1);
    expect(heap.peek()).toBe(7);
    expect(heap.size).toBe(1);
    expect(heap.pop()).toBe(7);
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
  });

  it('peeks at the least item without removing it', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    for (const n of [5, 3, 8, 1, 9]) heap.push(n);
    expect(heap.peek()).toBe(1);
    expect(heap.peek()).toBe(1);
    expect(heap.size).toBe(5);
  });

  it('pops in ascending order', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    for (const n of [5, 3, 8, 1, 9, 2, 7]) heap.push(n);
    expect(drain(heap)).toEqual([1, 2, 3, 5, 7, 8, 9]);
  });

  it('follows the given order (a max-heap with a reversed `less`)', () => {
    const heap = new MinHeap<number>((a, b) => a > b);
    for (const n of [5, 3, 8, 1, 9]) heap.push(n);
    expect(drain(heap)).toEqual([9, 8, 5, 3, 1]);
  });

  it('handles ascending and descending input', () => {
    const up = new MinHeap<number>((a, b) => a < b);
    const down = new MinHeap<number>((a, b) => a < b);
    for (let i = 0; i < 1000; i++) {
      up.push(i);
      down.push(999 - i);
    }
    const expected = Array.from({ length: 1000 }, (_, i) => i);
    expect(drain(up)).toEqual(expected);
    expect(drain(down)).toEqual(expected);
  });

  it('matches a sort on random data with many equal keys', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const next = random(seed);
      const heap = new MinHeap<Item>(byKey);
      const items: Item[] = [];
      const n = 1 + Math.floor(next() * 3000);
      for (let id = 0; id < n; id++) {
        // Keys from a small range: most keys repeat.
        const item = { key: Math.floor(next() * 50), id };
        items.push(item);
        heap.push(item);
      }
      expect(heap.size).toBe(n);
      const out = drain(heap);
      expect(out.map((i) => i.key)).toEqual(items.map((i) => i.key).sort((a, b) => a - b));
      // Every item comes out exactly once.
      expect(new Set(out.map((i) => i.id)).size).toBe(n);
      expect(heap.size).toBe(0);
    }
  });

  it('matches a sorted reference under interleaved pushes and pops', () => {
    const next = random(99);
    const heap = new MinHeap<Item>(byKey);
    const reference: Item[] = []; // kept sorted by key
    let id = 0;
    for (let step = 0; step < 20_000; step++) {
      if (next() < 0.6 || reference.length === 0) {
        const item = { key: Math.floor(next() * 1000), id: id++ };
        heap.push(item);
        let at = reference.findIndex((r) => r.key > item.key);
        if (at === -1) at = reference.length;
        reference.splice(at, 0, item);
      } else {
        const popped = heap.pop()!;
        expect(popped.key).toBe(reference[0]!.key);
        // Equal keys may come out in any order: remove the popped one itself.
        reference.splice(reference.indexOf(popped), 1);
      }
      expect(heap.size).toBe(reference.length);
      if (reference.length > 0) expect(heap.peek()!.key).toBe(reference[0]!.key);
    }
  });

  it('handles floating-point keys and negative numbers', () => {
    const next = random(7);
    const heap = new MinHeap<number>((a, b) => a < b);
    const values = Array.from({ length: 500 }, () => (next() - 0.5) * 1e6);
    for (const v of values) heap.push(v);
    expect(drain(heap)).toEqual([...values].sort((a, b) => a - b));
  });

  it('clear() empties it and it stays usable', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    for (const n of [3, 1, 2]) heap.push(n);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    heap.push(4);
    heap.push(0);
    expect(drain(heap)).toEqual([0, 4]);
  });

  it('keeps separate instances apart', () => {
    const a = new MinHeap<number>((x, y) => x < y);
    const b = new MinHeap<number>((x, y) => x < y);
    a.push(1);
    expect(b.size).toBe(0);
    expect(b.peek()).toBeUndefined();
  });
});
