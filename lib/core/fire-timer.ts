import type { SpanContext } from '@opentelemetry/api';
import { fireBefore, type Fire, type JobEntry } from './job-entry.js';
import { OrderedQueue } from './ordered-queue.js';
import { WakeTimer } from './wake-timer.js';

/**
 * The fires not yet due, in due order (equal instants in the order they were booked), and the
 * scheduler's one wake-up timer, which also serves the runs' time-outs (`wakeAt`).
 */
export class FireTimer {
  private readonly heap = new OrderedQueue<Fire>(fireBefore);
  private seq = 0;
  private readonly timer: WakeTimer;

  constructor(onWake: () => void, now: () => number) {
    this.timer = new WakeTimer(onWake, now);
  }

  /** How many fires are booked. */
  get size(): number {
    return this.heap.size;
  }

  /** The next fire, still booked. */
  peek(): Fire | undefined {
    return this.heap.peek();
  }

  /** The next place in the order of equal instants. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Books a new fire of `entry` at `at`; arms the timer for it when `arm`. Ignores NaN and Infinity. */
  book(
    entry: JobEntry,
    at: number,
    attempt: number,
    scheduledAt: number,
    link: SpanContext | undefined,
    arm: boolean,
  ): void {
    if (!Number.isFinite(at)) return;
    this.heap.push({
      at,
      seq: this.seq++,
      entry,
      gen: entry.gen,
      attempt,
      scheduledAt,
      manual: false,
      deferred: false,
      link,
      restarts: 0,
      missed: false,
      unsure: null,
    });
    if (arm) this.timer.wakeAt(at);
  }

  /** Books a fire again at its (new) `at`, after the fires already booked for that instant. */
  rebook(fire: Fire, arm: boolean): void {
    fire.seq = this.seq++;
    this.heap.push(fire);
    if (arm) this.timer.wakeAt(fire.at);
  }

  /** Takes out the next fire due at `now` or before; undefined when none is. */
  takeDue(now: number): Fire | undefined {
    const next = this.heap.peek();
    return next !== undefined && next.at <= now ? this.heap.pop() : undefined;
  }

  /** Takes out the next fire whatever its instant (emptying at stop); undefined when none is left. */
  take(): Fire | undefined {
    return this.heap.pop();
  }

  /** Forgets every fire (a new load). */
  clear(): void {
    this.heap.clear();
  }

  /** Arms the timer for the next fire. */
  armNext(): void {
    const next = this.heap.peek();
    if (next !== undefined) this.timer.wakeAt(next.at);
  }

  /** Arms the timer for `at` too (a run's time-out), unless it is armed earlier. */
  wakeAt(at: number): void {
    this.timer.wakeAt(at);
  }

  /** Disarms the timer; the fires stay booked. */
  cancel(): void {
    this.timer.cancel();
  }
}
