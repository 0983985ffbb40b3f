/**
 * The database faults the fault suites and `npm run soak` inject, each resolving once it is over to
 * how many faults it injected.
 */
import type { ChaosApp } from './chaos-app.js';
import type { FaultProxy } from './fault-proxy.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Kills `count` random connections of the app every `everyMs`, for `forMs`. */
export async function randomKills(
  app: ChaosApp,
  { count = 3, everyMs = 100, forMs }: { count?: number; everyMs?: number; forMs: number },
): Promise<number> {
  let injected = 0;
  const timer = setInterval(() => {
    app.killer.kill(count).then(
      (n) => (injected += n),
      () => undefined,
    );
  }, everyMs);
  await sleep(forMs);
  clearInterval(timer);
  return injected;
}

/** Kills every connection of the apps at once, `times` times, `gapMs` apart (what a restart does). */
export async function killAll(
  apps: readonly ChaosApp[],
  { times, gapMs }: { times: number; gapMs: number },
): Promise<number> {
  let injected = 0;
  for (let round = 0; round < times; round++) {
    await sleep(round === 0 ? 250 : gapMs);
    for (const n of await Promise.all(apps.map((app) => app.killer.kill().catch(() => 0)))) {
      injected += n;
    }
  }
  return injected;
}

/** The server unreachable for `ms`: connections cut, new ones refused. */
export async function unreachable(proxy: FaultProxy, ms: number): Promise<number> {
  await proxy.refuse();
  await sleep(ms);
  await proxy.pass();
  return 1;
}

/** Every connection hung for `ms` (open, nothing forwarded), then healed (what was held goes on). */
export async function hung(proxy: FaultProxy, ms: number): Promise<number> {
  proxy.hang();
  await sleep(ms);
  await proxy.pass();
  return 1;
}

/** `latencyMs` added to every round trip for `ms`. */
export async function slow(proxy: FaultProxy, latencyMs: number, ms: number): Promise<number> {
  proxy.latency(latencyMs);
  await sleep(ms);
  proxy.latency(0);
  return 1;
}

/** Waits until half-way between two whole seconds (so that a fault begins between two fires). */
export function halfSecond(): Promise<void> {
  return sleep(1_500 - (Date.now() % 1_000));
}
