import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../lib/errors/invalid-argument.error.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { makeScheduler } from '../../utils/scheduler-harness.js';

describe("Scheduler addJob with the app's transaction", () => {
  it('is refused with InvalidOptionsError by a storage that cannot write in it, storing nothing', async () => {
    const { scheduler, storage } = makeScheduler();
    scheduler.registerHandlerFunc('welcome', () => 'sent');
    const error = await scheduler
      .addJob({ id: 'welcome-1', handlerName: 'welcome', runAt: Date.now() }, { manager: {} })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).option).toBe('manager');
    expect((error as Error).message).toContain('MemoryStorage');
    expect(await storage.listJobs()).toStrictEqual([]);
  });

  it('takes no options, or options without a manager, as a plain add', async () => {
    const { scheduler, storage } = makeScheduler();
    scheduler.registerHandlerFunc('welcome', () => 'sent');
    await scheduler.addJob({ id: 'a', handlerName: 'welcome', interval: '1h' }, {});
    await scheduler.addJob({ id: 'b', handlerName: 'welcome', interval: '1h' }, undefined);
    expect((await storage.listJobs()).map((job) => job.id)).toStrictEqual(['a', 'b']);
    await expect(
      scheduler.addJob({ handlerName: 'welcome', interval: '1h' }, 'manager' as never),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
