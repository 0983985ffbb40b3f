import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { DurationStats } from '../interfaces/metrics.interface.js';

export type { DurationStats };

/** Default number of durations kept. */
export const DEFAULT_DURATION_WINDOW = 1024;

/**
 * The last `capacity` durations in a ring buffer: `record` is O(1) and allocates nothing; quantiles
 * (nearest rank, by selection) and max are computed on read over the window in O(capacity); count
 * and sum are all-time.
 * Negative and non-finite values are recorded as 0.
 */
export class DurationWindow {
  readonly capacity: number;
  private readonly ring: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private filled = 0;
  private total = 0;
  private sum = 0;

  constructor(capacity = DEFAULT_DURATION_WINDOW) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new InvalidOptionsError('durationWindow', capacity, 'an integer of at least 1');
    this.capacity = capacity;
    this.ring = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  record(ms: number): void {
    const value = ms > 0 && ms !== Infinity ? ms : 0;
    this.ring[this.next] = value;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.filled < this.capacity) this.filled++;
    this.total++;
    this.sum += value;
  }

  /** The nearest-rank `q` quantile (0 < q <= 1) over the window; 0 when empty. */
  quantile(q: number): number {
    const n = this.copy();
    return n === 0 ? 0 : select(this.scratch, rank(n, q), 0, n - 1);
  }

  /** O(window): max by a scan, the quantiles by selection (no sort), on a scratch copy. */
  stats(): DurationStats {
    const n = this.copy();
    if (n === 0) return { count: this.total, sum: this.sum, p50: 0, p95: 0, max: 0, window: 0 };
    const values = this.scratch;
    let max = values[0];
    for (let i = 1; i < n; i++) if (values[i] > max) max = values[i];
    const k95 = rank(n, 0.95);
    const p95 = select(values, k95, 0, n - 1);
    // Selection left everything before k95 at most p95: p50 is among them.
    const p50 = select(values, rank(n, 0.5), 0, k95);
    return { count: this.total, sum: this.sum, p50, p95, max, window: n };
  }

  /** Copies the window into `scratch`; returns its length. */
  private copy(): number {
    const n = this.filled;
    this.scratch.set(n === this.capacity ? this.ring : this.ring.subarray(0, n));
    return n;
  }
}

/** The index of the nearest-rank `q` quantile among `n` sorted values. */
function rank(n: number, q: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
}

/**
 * The `k`-th smallest of `a[lo..hi]` (quickselect, three-way partitioning so that runs of equal
 * durations stay linear). Leaves `a[lo..k-1]` at most, and `a[k+1..hi]` at least, the result.
 */
function select(a: Float64Array, k: number, lo: number, hi: number): number {
  while (lo < hi) {
    const pivot = median3(a[lo], a[(lo + hi) >>> 1], a[hi]);
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i] = a[lt];
        a[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k];
}

function median3(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : a < c ? c : a;
  return a < c ? a : b < c ? c : b;
}
