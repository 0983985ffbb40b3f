/**
 * Drain, the bound: a min-heap of `--jobs` due items and no storage; `--concurrent` workers each pop
 * the earliest item and await an async no-op for it. Run `--rounds` times in this process (a fresh
 * heap each time); the first round is cold, like ours.
 */
import { intArg, report } from './common.js';

const jobs = intArg('jobs', 100_000);
const concurrent = intArg('concurrent', 50);
const rounds = intArg('rounds', 5);

interface Item {
  at: number;
  seq: number;
}

/** A plain binary min-heap by (at, seq). */
class Heap {
  private readonly items: Item[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Item): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      const p = items[parent] as Item;
      if (!before(item, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): Item | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (n === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(items[child + 1] as Item, items[child] as Item)) child++;
      const c = items[child] as Item;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Item, b: Item): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

async function noop(_item: Item): Promise<void> {}

async function worker(heap: Heap): Promise<number> {
  let n = 0;
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) {
    await noop(item);
    n++;
  }
  return n;
}

async function round(): Promise<number> {
  const heap = new Heap();
  const due = Date.now() - 1000;
  for (let i = 0; i < jobs; i++) heap.push({ at: due + (i % 7), seq: i });
  const start = performance.now();
  const workers: Promise<number>[] = [];
  for (let i = 0; i < concurrent; i++) workers.push(worker(heap));
  const counts = await Promise.all(workers);
  const ms = performance.now() - start;
  if (counts.reduce((a, b) => a + b, 0) !== jobs) throw new Error('lost items');
  return ms;
}

const times: number[] = [];
for (let r = 0; r < rounds; r++) times.push(await round());
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor((sorted.length - 1) / 2)] as number;

report({
  jobs,
  concurrent,
  rounds,
  firstMs: times[0],
  medianMs: median,
  runsPerSecFirst: jobs / ((times[0] as number) / 1000),
  runsPerSec: jobs / (median / 1000),
});
