import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { advance } from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');

/** A MemoryStorage whose writes fail while `down` is set, as a database that dropped would. */
class FlakyStorage extends MemoryStorage {
  down = false;
  failedWrites = 0;

  override updateRun(run: Run): Promise<void> {
    if (this.down) {
      this.failedWrites++;
      return Promise.reject(new Error('connection terminated'));
    }
    return super.updateRun(run);
  }

  override updateJob(...args: Parameters<MemoryStorage['updateJob']>): Promise<void> {
    if (this.down) {
      this.failedWrites++;
      return Promise.reject(new Error('connection terminated'));
    }
    return super.updateJob(...args);
  }
}

describe('Scheduler when the storage drops', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the result of a run that ended while the storage was down once it is back', async () => {
    const storage = new FlakyStorage();
    const logger = new NopLogger();
    const warn = vi.spyOn(logger, 'warn');
    const scheduler = new Scheduler(storage, { logger });
    scheduler.registerHandlerFunc('work', async () => {
      storage.down = true; // the connection drops while the handler runs
      return 'result';
    });
    const job = await scheduler.addJob({ runAt: T0, handlerName: 'work' });
    await scheduler.start();
    await advance(5_000);
    expect(storage.failedWrites).toBeGreaterThan(3);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('connection terminated'));
    expect((await storage.getRuns(job.id, 1))[0]!.status).toBe('running');
    storage.down = false;
    await advance(10_000);
    const [run] = await storage.getRuns(job.id, 1);
    expect(run).toMatchObject({ status: 'success', output: 'result' });
    expect((await storage.getJob(job.id))!.status).toBe('completed');
    await scheduler.stop();
  });

  it('keeps firing other jobs meanwhile', async () => {
    const storage = new FlakyStorage();
    const scheduler = new Scheduler(storage, { logger: new NopLogger() });
    let dropped = false;
    scheduler.registerHandlerFunc('drop', () => {
      if (!dropped) storage.down = dropped = true;
      return 'x';
    });
    const ticks = vi.fn();
    scheduler.registerHandlerFunc('tick', ticks);
    await scheduler.addJob({ runAt: T0, handlerName: 'drop' });
    await scheduler.addJob({ interval: '1s', handlerName: 'tick' });
    await scheduler.start();
    await advance(500);
    storage.down = false;
    await advance(5_000);
    expect(ticks.mock.calls.length).toBeGreaterThanOrEqual(4);
    await scheduler.stop();
  });

  it('gives up on a write only after stop() has waited shutdownTimeout for it', async () => {
    const storage = new FlakyStorage();
    const logger = new NopLogger();
    const error = vi.spyOn(logger, 'error');
    const scheduler = new Scheduler(storage, { logger, shutdownTimeout: '2s' });
    scheduler.registerHandlerFunc('work', () => {
      storage.down = true;
      return 'lost';
    });
    await scheduler.addJob({ runAt: T0, handlerName: 'work' });
    await scheduler.start();
    await advance(1_000);
    const stopping = scheduler.stop();
    await advance(15_000);
    await stopping;
    expect(error).toHaveBeenCalledWith(
      expect.stringMatching(/Could not record the end of run .*giving up/),
    );
  });
});
