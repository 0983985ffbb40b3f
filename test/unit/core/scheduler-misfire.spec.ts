import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidJobError } from '../../../lib/errors/invalid-job.error.js';
import type { MisfirePolicy } from '../../../lib/interfaces/job.interface.js';
import { advance, makeScheduler } from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');
const at = (seconds: number) => T0.getTime() + seconds * 1000;

/** A per-second job added at T0, a scheduler down for `downSeconds`, then started. */
async function downtime(
  policy: MisfirePolicy | undefined,
  downSeconds: number,
  maxMisfires?: number,
) {
  const harness = makeScheduler();
  const fired: number[] = [];
  harness.scheduler.registerHandlerFunc(
    'tick',
    (_p, ctx) => void fired.push(ctx.run.scheduledAt.getTime()),
  );
  const job = await harness.scheduler.addJob({
    cron: '* * * * * *',
    handlerName: 'tick',
    ...(policy ? { misfirePolicy: policy } : {}),
    ...(maxMisfires ? { maxMisfires } : {}),
  });
  await advance(downSeconds * 1000 + 500); // nobody fires: not started
  await harness.scheduler.start();
  return { ...harness, fired, job };
}

describe('misfire policy', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("'fire-once' (the default) runs one missed fire at once, then the regular ones", async () => {
    const { scheduler, fired, job } = await downtime(undefined, 10);
    expect(job.misfirePolicy).toBe('fire-once');
    await advance(0);
    expect(fired).toEqual([at(1)]);
    await advance(1000);
    expect(fired).toEqual([at(1), at(11)]);
    await scheduler.stop();
  });

  it("'skip' runs none of the missed fires and waits for the next", async () => {
    const { scheduler, fired } = await downtime('skip', 10);
    await advance(0);
    expect(fired).toEqual([]);
    expect(scheduler.metrics().firesMissed).toBe(1);
    await advance(1000);
    expect(fired).toEqual([at(11)]);
    await scheduler.stop();
  });

  it("'fire-all' runs each missed fire in order, then goes back to the schedule", async () => {
    const { scheduler, fired, job } = await downtime('fire-all', 5);
    await advance(100);
    expect(fired).toEqual([at(1), at(2), at(3), at(4), at(5)]);
    await advance(1000);
    expect(fired).toEqual([at(1), at(2), at(3), at(4), at(5), at(6)]);
    const runs = await scheduler.getRuns(job.id, 10);
    expect(runs.map((r) => r.scheduledAt.getTime())).toEqual([
      at(6),
      at(5),
      at(4),
      at(3),
      at(2),
      at(1),
    ]);
    await scheduler.stop();
  });

  it("'fire-all' runs at most maxMisfires of them", async () => {
    const { scheduler, fired } = await downtime('fire-all', 10, 3);
    await advance(100);
    expect(fired).toEqual([at(1), at(2), at(3)]);
    expect(scheduler.metrics().firesMissed).toBe(1);
    await advance(1000);
    expect(fired).toEqual([at(1), at(2), at(3), at(11)]);
    await scheduler.stop();
  });

  it('treats a clock jump forward like downtime', async () => {
    const { scheduler, fired } = await downtime('skip', 0);
    await advance(2000);
    expect(fired).toEqual([at(1), at(2)]);
    vi.setSystemTime(at(60) + 200); // the wall clock jumps a minute ahead
    await advance(1000);
    expect(fired).toEqual([at(1), at(2), at(61)]);
    expect(scheduler.metrics().firesMissed).toBe(1);
    await scheduler.stop();
  });

  it('never runs a fire twice when the clock is moved back', async () => {
    const { scheduler, fired } = await downtime(undefined, 0);
    await advance(3000);
    expect(fired).toEqual([at(1), at(2), at(3)]);
    vi.setSystemTime(at(-7)); // ten seconds back
    await advance(12_000);
    expect(new Set(fired).size).toBe(fired.length);
    expect(fired).toEqual([at(1), at(2), at(3), at(4), at(5)]);
    await scheduler.stop();
  });

  it('rejects a bad policy or maxMisfires, naming the field', async () => {
    const { scheduler } = makeScheduler();
    scheduler.registerHandlerFunc('h', () => 'ok');
    for (const [fields, field] of [
      [{ misfirePolicy: 'later' }, 'misfirePolicy'],
      [{ maxMisfires: 0 }, 'maxMisfires'],
    ] as const) {
      const error = await scheduler
        .addJob({ cron: '* * * * * *', handlerName: 'h', ...(fields as object) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidJobError);
      expect((error as InvalidJobError).field).toBe(field);
    }
    expect(await scheduler.listJobs()).toEqual([]);
  });
});
