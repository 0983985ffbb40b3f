/**
 * An array-backed binary min-heap: `peek()` and `pop()` give the least item by `less`.
 * Items with equal keys come out in no particular order. `push` and `pop` are O(log n) and
 * allocate nothing beyond the backing array's growth.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  /** @param less `true` when `a` must come out before `b`. */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  /** How many items the heap holds. */
  get size(): number {
    return this.items.length;
  }

  /** Adds an item. */
  push(item: T): void {
    const items = this.items;
    const less = this.less;
    let i = items.length;
    items.push(item);
    // Sift up: move parents down into the hole until the item's place is found.
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const p = items[parent] as T;
      if (!less(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the least item, or `undefined` when empty. */
  pop(): T | undefined {
    const items = this.items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0];
    const last = items.pop() as T;
    if (n > 1) this.siftDown(last, n - 1);
    return top;
  }

  /** The least item without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes every item. */
  clear(): void {
    this.items.length = 0;
  }

  /** Places `item` from the root down, in a heap of `n` items whose root is a hole. */
  private siftDown(item: T, n: number): void {
    const items = this.items;
    const less = this.less;
    let i = 0;
    const half = n >>> 1;
    while (i < half) {
      let child = 2 * i + 1;
      let c = items[child] as T;
      const right = child + 1;
      if (right < n) {
        const r = items[right] as T;
        if (less(r, c)) {
          child = right;
          c = r;
        }
      }
      if (!less(c, item)) break;
      items[i] = c;
      i = child;
    }
    items[i] = item;
  }
}
