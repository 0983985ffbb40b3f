import { vi } from 'vitest';
import { Scheduler } from '../../lib/scheduler.js';
import type { JobEvent } from '../../lib/interfaces/job-event.interface.js';
import type { SchedulerOptions } from '../../lib/interfaces/scheduler-options.interface.js';
import { NopLogger } from '../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../lib/storage/memory/memory.storage.js';

/** A scheduler on a fresh MemoryStorage, silent, with its events recorded. */
export function makeScheduler(options: SchedulerOptions = {}) {
  const storage = new MemoryStorage();
  const scheduler = new Scheduler(storage, { logger: new NopLogger(), ...options });
  const events: JobEvent[] = [];
  scheduler.events$.subscribe((e) => events.push(e));
  return { scheduler, storage, events };
}

/** Lets fake time pass, running timers and the promise chains they start. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that resolves after `ms` of (fake) time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stops a scheduler under fake timers, letting time pass so runs in flight can end. */
export async function stopLettingTimePass(scheduler: Scheduler, ms = 60_000): Promise<void> {
  const stopping = scheduler.stop();
  await advance(ms);
  await stopping;
}
