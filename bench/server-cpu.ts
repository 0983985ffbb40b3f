/**
 * CPU time of processes, read from Linux's /proc: this machine's database servers (PostgreSQL,
 * Redis) share its cores with the process measured, so their CPU is part of what a run costs.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ms used so far by a process (utime + stime), or NaN. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ 100
  } catch {
    return NaN;
  }
}

/** CPU ms used so far by every process whose name (`/proc/<pid>/comm`) starts with `name`. */
export function localServerCpuMs(name: string): number {
  let total = 0;
  let seen = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue;
    }
    if (!comm.startsWith(name)) continue;
    seen = true;
    total += processCpuMs(Number(pid)) || 0;
  }
  return seen ? total : NaN;
}

/** Whether a server URL points at this machine (so its processes can be read from /proc). */
export function isLocalUrl(url: string): boolean {
  return /@?(127\.0\.0\.1|localhost)[:/]/.test(url);
}
