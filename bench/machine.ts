/**
 * The machine a run is on, as the header of `npm run bench` and of its results file shows it: CPU,
 * cores, RAM, Node, the date, the load (`uptime`), and the other processes busy on it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** The load averages over 1, 5 and 15 minutes, e.g. `0.57, 0.34, 0.15`. */
export function loadAverages(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

/** What `uptime` prints, or the load averages when it cannot be run. */
export function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8', timeout: 2_000 }).trim();
  } catch {
    return `load average: ${loadAverages()}`;
  }
}

/** CPU ticks (utime + stime) of every process, and a short name for each. */
function processTicks(): Map<number, { ticks: number; name: string }> {
  const all = new Map<number, { ticks: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      all.set(Number(entry), {
        ticks: Number(fields[11]) + Number(fields[12]),
        name: (cmdline || stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))).slice(0, 90),
      });
    } catch {
      // Gone meanwhile, or not Linux.
    }
  }
  return all;
}

/**
 * The processes other than this one that kept a tenth of a core or more busy over `ms`, busiest
 * first, e.g. `node .../vitest ... 95%`; `none` when there were none.
 */
export async function busyProcesses(ms = 1_000): Promise<string> {
  const before = processTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const busy: [string, number][] = [];
  for (const [pid, now] of processTicks()) {
    if (pid === process.pid) continue;
    const share = (now.ticks - (before.get(pid)?.ticks ?? now.ticks)) / (ms / 10); // USER_HZ 100
    if (share >= 0.1) busy.push([now.name, share]);
  }
  busy.sort((a, b) => b[1] - a[1]);
  return busy.length === 0
    ? 'none'
    : busy.map(([name, share]) => `${name} ${Math.round(share * 100)}%`).join('; ');
}

/** The 1-minute load average. */
export const load = (): string => loadavg()[0]!.toFixed(2);

function cpuModel(): { model: string; logical: number } {
  let model = cpus()[0]?.model ?? 'unknown';
  let logical = cpus().length;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? model;
    logical = (info.match(/^processor\s*:/gm) ?? []).length || logical;
  } catch {
    // Not Linux: keep what os.cpus() said.
  }
  return { model, logical };
}

/** RAM in GiB, from /proc/meminfo (MemTotal), else from Node. */
function ramGiB(): string {
  let bytes = totalmem();
  try {
    const kb = /^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kb !== undefined) bytes = Number(kb) * 1024;
  } catch {
    // Not Linux.
  }
  return (bytes / 1024 ** 3).toFixed(1);
}

/** The header lines: date, CPU, RAM, Node. */
export function machineLines(): string[] {
  const { model, logical } = cpuModel();
  return [
    `date:    ${new Date().toISOString()}`,
    `cpu:     ${model}, ${logical} logical cores (${availableParallelism()} available to Node)`,
    `ram:     ${ramGiB()} GiB (/proc/meminfo MemTotal)`,
    `node:    ${process.version} (${process.platform}/${process.arch}), V8 ${process.versions.v8}`,
  ];
}
