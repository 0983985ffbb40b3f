/**
 * Where a run's time goes: the drain of `bench/drain-ours.ts` (once-jobs already due, in memory,
 * an async no-op handler) with the CPU profiler (and, with `--heap`, the allocation sampler) on for
 * the drain only, adds and load excluded. Prints the functions by self time (and by bytes
 * allocated), and writes the profiles to `--out` (default `/tmp`) for a closer look in DevTools.
 *
 *   node --expose-gc --import tsx bench/profile-drain.ts --jobs=100000 --concurrent=50 [--heap]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Scheduler } from '../lib/scheduler.js';
import { NopLogger } from '../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../lib/storage/memory/memory.storage.js';
import { intArg, settledHeap } from './common.js';

const jobs = intArg('jobs', 100_000);
const concurrentRuns = intArg('concurrent', 50);
const heap = process.argv.includes('--heap');
const out = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? '/tmp';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize?: number;
  children?: (number | ProfileNode)[];
}

const scheduler = new Scheduler(new MemoryStorage(), { concurrentRuns, logger: new NopLogger() });
scheduler.registerHandlerFunc('noop', async () => {});
const runAt = new Date(Date.now() - 1000);
for (let i = 0; i < jobs; i++) await scheduler.addJob({ runAt, handlerName: 'noop' });
settledHeap();

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
if (heap) {
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    // Every allocation, not only what is still alive at the end.
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}
await session.post('Profiler.start');
const start = performance.now();
await scheduler.start();
const loaded = performance.now() - start;
await new Promise<void>((resolve) => {
  const poll = setInterval(() => {
    const m = scheduler.metrics();
    if (m.runsSucceeded + m.runsFailed < jobs) return;
    clearInterval(poll);
    resolve();
  }, 1);
});
const drainMs = performance.now() - start;
const { profile } = await session.post('Profiler.stop');
await scheduler.stop();

const where = (n: ProfileNode): string =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;

const selfUs = new Map<string, number>();
const byId = new Map((profile.nodes as ProfileNode[]).map((n) => [n.id, n]));
profile.samples?.forEach((id, i) => {
  const key = where(byId.get(id) as ProfileNode);
  selfUs.set(key, (selfUs.get(key) ?? 0) + (profile.timeDeltas?.[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
console.log(
  `drain of ${jobs} runs: ${drainMs.toFixed(0)} ms (${Math.round(jobs / (drainMs / 1000))} runs/s), of which start() ${loaded.toFixed(0)} ms`,
);
console.log('self time (top 30):');
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(
    `  ${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`,
  );
}
writeFileSync(`${out}/drain.cpuprofile`, JSON.stringify(profile));

if (heap) {
  const { profile: sampled } = await session.post('HeapProfiler.stopSampling');
  const bytes = new Map<string, number>();
  const walk = (n: ProfileNode): void => {
    const key = where(n);
    bytes.set(key, (bytes.get(key) ?? 0) + (n.selfSize ?? 0));
    for (const c of n.children ?? []) walk(c as ProfileNode);
  };
  walk(sampled.head as unknown as ProfileNode);
  console.log('bytes allocated (sampled, top 25):');
  for (const [key, b] of [...bytes].sort((a, z) => z[1] - a[1]).slice(0, 25)) {
    console.log(`  ${(b / jobs).toFixed(0).padStart(6)} B/run  ${key}`);
  }
  writeFileSync(`${out}/drain.heapprofile`, JSON.stringify(sampled));
}
session.disconnect();
