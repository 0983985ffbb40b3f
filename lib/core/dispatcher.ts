import { fireBefore, fireBeforeWithinSecond, type ActiveRun, type Fire } from './job-entry.js';
import { OrderedQueue } from './ordered-queue.js';

/** The handlers' own concurrency limits, as the dispatcher reads them. */
export interface HandlerLimits {
  /** Whether any handler has a limit (when none has, the dispatcher counts nothing per handler). */
  readonly limited: boolean;
  /** The handler's limit (Infinity: none). */
  concurrency(handlerName: string): number;
}

const NO_LIMITS: HandlerLimits = { limited: false, concurrency: () => Infinity };

/**
 * The `concurrentRuns` slots. A due fire starts at once when a slot is free, else waits, in due
 * order, for one. A run holds its slot from its start until its handler settles; in cluster mode a
 * fire holds one while its claim is written too. A handler registered with a `concurrency` holds at
 * most that many slots: a fire of it beyond that waits in its handler's own line, so that fires of
 * other handlers are not held up behind it, and goes back in due order when one of its runs ends.
 */
export class Dispatcher {
  /** Runs holding a slot: their start being recorded, or their handler going on. */
  readonly active = new Set<ActiveRun>();
  /** Due fires waiting for a free slot, by due time. */
  private readonly waiting: OrderedQueue<Fire>;
  /** Cluster mode: fires holding a slot while their claim is written. */
  private claiming = 0;
  /** Slots held by each handler with a concurrency of its own (runs and claims). */
  private readonly held = new Map<string, number>();
  /** Due fires of a handler at its concurrency, by handler name, waiting for one of its runs to end. */
  private readonly lines = new Map<string, OrderedQueue<Fire>>();
  private readonly order: (a: Fire, b: Fire) => boolean;

  /**
   * `cluster`: waiting fires are taken in an order of this instance's own within each second (its
   * `seq` drawn at random), so instances draining the same backlog mostly claim different jobs
   * instead of racing for the same one. `limits`: the handlers' own limits.
   */
  constructor(
    private readonly slots: number,
    private readonly cluster: boolean,
    private readonly limits: HandlerLimits = NO_LIMITS,
  ) {
    this.order = cluster ? fireBeforeWithinSecond : fireBefore;
    this.waiting = new OrderedQueue<Fire>(this.order);
  }

  /** Fires waiting for a slot (or for their handler's). */
  get queued(): number {
    let size = this.waiting.size;
    for (const line of this.lines.values()) size += line.size;
    return size;
  }

  /** When the oldest waiting fire fell due (Infinity when none waits). */
  get oldestDue(): number {
    let oldest = this.waiting.peek()?.at ?? Infinity;
    for (const line of this.lines.values()) oldest = Math.min(oldest, line.peek()?.at ?? Infinity);
    return oldest;
  }

  /** Whether a slot is free. */
  hasSlot(): boolean {
    return this.active.size + this.claiming < this.slots;
  }

  /** Whether `fire` may start now: a slot is free, and its handler is below its concurrency. */
  canStart(fire: Fire): boolean {
    return this.hasSlot() && this.handlerFree(fire.entry.job.handlerName);
  }

  /** Lets `fire` wait for a slot; its job holds it as queued until it starts or is dropped. */
  enqueue(fire: Fire): void {
    fire.entry.queued = fire;
    if (this.cluster) fire.seq = Math.random();
    const name = fire.entry.job.handlerName;
    if (this.handlerFree(name)) this.waiting.push(fire);
    else this.lineOf(name).push(fire);
  }

  /**
   * The next waiting fire to start now that a slot is free: the job lets it go from queued. Fires a
   * job dropped meanwhile (paused, removed, redefined: the job was freed then) are passed over, and
   * fires of a handler at its concurrency step into its line. Undefined when no slot is free or
   * nothing waits.
   */
  next(): Fire | undefined {
    while (this.hasSlot()) {
      const fire = this.waiting.pop();
      if (fire === undefined) return undefined;
      if (fire.entry.queued !== fire) continue;
      const name = fire.entry.job.handlerName;
      if (!this.handlerFree(name)) {
        this.lineOf(name).push(fire);
        continue;
      }
      fire.entry.queued = null;
      return fire;
    }
    return undefined;
  }

  /** Takes out the next waiting fire whatever the slots (emptying at stop). */
  take(): Fire | undefined {
    const fire = this.waiting.pop();
    if (fire !== undefined) return fire;
    for (const [name, line] of this.lines) {
      const lined = line.pop();
      if (lined !== undefined) return lined;
      this.lines.delete(name);
    }
    return undefined;
  }

  /** A run takes its slot (its handler about to be called, or its start about to be recorded). */
  occupy(active: ActiveRun): void {
    this.active.add(active);
    this.hold(active.handlerName, 1);
  }

  /** A run gives its slot back (its handler settled, or its start failed). */
  release(active: ActiveRun): void {
    if (this.active.delete(active)) this.hold(active.handlerName, -1);
  }

  /** Cluster mode: a fire takes a slot while its claim is written. */
  claimBegun(active: ActiveRun): void {
    this.claiming++;
    this.hold(active.handlerName, 1);
  }

  /** Cluster mode: the claim is written (won or not); the slot is the run's if it was won. */
  claimEnded(active: ActiveRun): void {
    this.claiming--;
    this.hold(active.handlerName, -1);
  }

  private handlerFree(name: string): boolean {
    if (!this.limits.limited) return true;
    const limit = this.limits.concurrency(name);
    return limit === Infinity || (this.held.get(name) ?? 0) < limit;
  }

  /** Counts a slot taken (+1) or given back (-1) by a handler with a limit; a freed one lets its line go on. */
  private hold(name: string, change: 1 | -1): void {
    if (!this.limits.limited || this.limits.concurrency(name) === Infinity) return;
    const count = (this.held.get(name) ?? 0) + change;
    if (count > 0) this.held.set(name, count);
    else this.held.delete(name);
    if (change > 0) return;
    const line = this.lines.get(name);
    const next = line?.pop();
    if (next !== undefined) this.waiting.push(next);
    if (line !== undefined && line.size === 0) this.lines.delete(name);
  }

  private lineOf(name: string): OrderedQueue<Fire> {
    let line = this.lines.get(name);
    if (line === undefined) this.lines.set(name, (line = new OrderedQueue<Fire>(this.order)));
    return line;
  }
}
