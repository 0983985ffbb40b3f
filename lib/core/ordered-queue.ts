import { MinHeap } from './min-heap.js';

/**
 * A priority queue for items that mostly arrive in order: an item not before the last one in its
 * in-order lane is appended to the lane (O(1)); any other goes to a binary heap. `pop()` takes the
 * least of the lane's head and the heap's top. The scheduler's fires arrive so: a recurring job's
 * next fire is booked as its fire is taken, after the fires booked before it, and due fires reach
 * the slots in due order; a burst of 10,000 then costs no heap work at all.
 */
export class OrderedQueue<T> {
  private lane: (T | undefined)[] = [];
  /** Index of the lane's first item still in the queue. */
  private head = 0;
  private readonly heap: MinHeap<T>;

  /** @param less `true` when `a` must come out before `b`. */
  constructor(private readonly less: (a: T, b: T) => boolean) {
    this.heap = new MinHeap(less);
  }

  get size(): number {
    return this.lane.length - this.head + this.heap.size;
  }

  push(item: T): void {
    const lane = this.lane;
    const last = lane.length - 1;
    if (last < this.head || !this.less(item, lane[last] as T)) lane.push(item);
    else this.heap.push(item);
  }

  /** The least item without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    const first = this.head < this.lane.length ? (this.lane[this.head] as T) : undefined;
    const top = this.heap.peek();
    if (first === undefined) return top;
    return top !== undefined && this.less(top, first) ? top : first;
  }

  /** Removes and returns the least item, or `undefined` when empty. */
  pop(): T | undefined {
    const lane = this.lane;
    const head = this.head;
    const first = head < lane.length ? (lane[head] as T) : undefined;
    const top = this.heap.peek();
    if (first === undefined || (top !== undefined && this.less(top, first))) return this.heap.pop();
    lane[head] = undefined;
    this.head = head + 1;
    if (this.head === lane.length) {
      lane.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_FROM && this.head * 2 >= lane.length) {
      this.lane = lane.slice(this.head);
      this.head = 0;
    }
    return first;
  }

  clear(): void {
    this.lane = [];
    this.head = 0;
    this.heap.clear();
  }
}

/** The lane drops the slots of items taken once this many are taken and they are half of it. */
const COMPACT_FROM = 1024;
