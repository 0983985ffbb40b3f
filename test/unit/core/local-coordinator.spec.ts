import { describe, expect, it } from 'vitest';
import { LocalCoordinator } from '../../../lib/core/local-coordinator.js';
import type { RunCoordinator } from '../../../lib/core/run-coordinator.js';
import { JobNotFoundError } from '../../../lib/errors/job-not-found.error.js';
import { RunAlreadyRecordedError } from '../../../lib/errors/run-already-recorded.error.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { activeRun, coordinatorHost, hold } from '../../utils/coordinator-host.js';
import { makeJob } from '../../../lib/testing/fixtures.js';

async function setUp() {
  const storage = new MemoryStorage();
  const { host, logger } = coordinatorHost(storage);
  const job = makeJob({ handlerName: 'h' });
  await storage.createJob(job);
  const entry = hold(host, job);
  const coordinator: RunCoordinator = new LocalCoordinator(host);
  return { storage, host, logger, entry, coordinator };
}

describe('LocalCoordinator (a scheduler alone with its storage)', () => {
  it('is the only writer: no lease, no poll, nothing runs elsewhere, nothing is handed off', async () => {
    const { coordinator, entry, host } = await setUp();
    await coordinator.join();
    coordinator.start();
    expect(coordinator.round).toBe(0);
    expect(coordinator.health()).toBeUndefined();
    expect(coordinator.runningElsewhere({ ...entry.job, status: 'running' })).toBe(false);
    expect(coordinator.storesRegularNext).toBe(false);
    const active = activeRun(host, entry);
    expect(coordinator.handsOff(active.fire)).toBe(false);
    coordinator.stopPolling();
    await coordinator.leave();
  });

  it('saves a change as a plain update, and refreshes nothing before one', async () => {
    const { coordinator, entry, storage, host } = await setUp();
    await coordinator.refresh(entry);
    expect(host.adopt).not.toHaveBeenCalled();
    entry.job.name = 'renamed';
    host.table.touch(entry.job);
    expect(await coordinator.saveJob(entry, entry.job.version - 1)).toBe(true);
    expect((await storage.getJob(entry.job.id))?.name).toBe('renamed');
  });

  it('launches a run at once: the job is written running before the run is inserted', async () => {
    const { coordinator, entry, storage, host } = await setUp();
    const active = activeRun(host, entry);
    coordinator.launch(active);
    expect(host.execute).toHaveBeenCalledWith(active);
    await coordinator.beforeRecord(active);
    expect((await storage.getJob(entry.job.id))?.status).toBe('running');
    expect(await coordinator.insertRun(active)).not.toBe(false);
    expect((await storage.getRuns(entry.job.id, 5)).map((r) => r.id)).toStrictEqual([
      active.run.id,
    ]);
  });

  it('writes nothing before the record of a run of a job removed meanwhile', async () => {
    const { coordinator, entry, storage, host } = await setUp();
    const active = activeRun(host, entry);
    entry.removed = true;
    await coordinator.beforeRecord(active);
    expect((await storage.getJob(entry.job.id))?.status).toBe('pending');
  });

  it('after a start that failed: starts over (fault logged), or drops a fire recorded already or a job gone', async () => {
    const { coordinator, entry, storage, host, logger } = await setUp();
    const active = activeRun(host, entry);
    expect(coordinator.startFailed(active, new Error('connection reset'), false)).toBe(true);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(coordinator.startFailed(active, new JobNotFoundError(entry.job.id), false)).toBe(false);
    entry.removed = true;
    expect(coordinator.startFailed(active, new Error('connection reset'), false)).toBe(false);
    entry.removed = false;
    // Recorded already: the job, written running just before, is written back.
    await coordinator.beforeRecord(active);
    entry.job.status = 'pending';
    const skipped = new RunAlreadyRecordedError(entry.job.id, active.run.scheduledAt, 1);
    expect(coordinator.startFailed(active, skipped, true)).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await storage.getJob(entry.job.id))?.status).toBe('pending');
  });

  it('writes a run end and the job, retrying a write that fails until it lands', async () => {
    const { coordinator, entry, storage, host } = await setUp();
    const active = activeRun(host, entry);
    await coordinator.beforeRecord(active);
    await coordinator.insertRun(active);
    const updateRun = storage.updateRun.bind(storage);
    let failures = 1;
    storage.updateRun = async (run) => {
      if (failures-- > 0) throw new Error('connection reset');
      return updateRun(run);
    };
    active.run.status = 'success';
    active.run.endAt = new Date();
    entry.job.status = 'pending';
    expect(await coordinator.writeEnd(active, 0, false)).toBe(true);
    expect((await storage.getRuns(entry.job.id, 1))[0]?.status).toBe('success');
    expect((await storage.getJob(entry.job.id))?.status).toBe('pending');
  });
});
