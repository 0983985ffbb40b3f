/**
 * The parent's side of `cluster-child.ts`: starts scheduler instances as child processes, reads
 * their JSON lines, waits for lines, signals them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildLine, ClusterChildConfig } from './cluster-child.js';

/** The child's entry point. */
export const CLUSTER_CHILD_SCRIPT = fileURLToPath(new URL('./cluster-child.ts', import.meta.url));
/** The repository's root (where `tsx` resolves from). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The `run.*` lines of a child. */
export type RunLine = Extract<ChildLine, { jobId: string }>;

/** One scheduler instance in a child process. */
export class ClusterChild {
  /** Every line it printed on stdout, in order. */
  readonly lines: ChildLine[] = [];
  /** What it wrote on stderr (its scheduler's warnings and errors), and stdout that was not JSON. */
  readonly stderr: string[] = [];
  /** Resolves when the process has ended. */
  readonly exited: Promise<ChildExit>;
  readonly process: ChildProcess;
  private exit: ChildExit | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    config: ClusterChildConfig,
  ) {
    // CLUSTER_CHILD_NODE_ARGS: extra node flags for the children (e.g. `--cpu-prof` to profile them).
    const extra = process.env.CLUSTER_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    this.process = spawn(process.execPath, [...extra, '--import', 'tsx', CLUSTER_CHILD_SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.process.stdout?.setEncoding('utf8');
    this.process.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      let end = pending.indexOf('\n');
      while (end >= 0) {
        const text = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (text.startsWith('{')) this.lines.push(JSON.parse(text) as ChildLine);
        else if (text.trim() !== '') this.stderr.push(`(stdout) ${text}`);
        end = pending.indexOf('\n');
      }
      this.notify();
    });
    this.process.stderr?.setEncoding('utf8');
    this.process.stderr?.on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The `run.*` lines it printed, optionally of one type. */
  runs(type?: RunLine['event']): RunLine[] {
    return this.lines.filter(
      (l): l is RunLine => 'jobId' in l && (type === undefined || l.event === type),
    );
  }

  /**
   * Resolves with the first line (from the start) that matches; rejects after `timeout` ms, or when
   * the process ends (or printed an `error` line) first.
   */
  waitForLine(
    what: string,
    match: (line: ChildLine) => boolean,
    timeout = 15_000,
  ): Promise<ChildLine> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        outcome();
      };
      /** Settles when the line is there, or when it can no longer come. */
      const check = (): void => {
        const found = this.lines.find(match);
        if (found !== undefined) return settle(() => resolve(found));
        const error = this.lines.find((l) => l.event === 'error');
        if (error !== undefined || this.exit !== undefined) {
          settle(() =>
            reject(
              new Error(
                `${this.name} ended (${JSON.stringify(this.exit ?? error)}) before ${what}\n${this.stderrTail()}`,
              ),
            ),
          );
        }
      };
      timer = setTimeout(
        () =>
          settle(() =>
            reject(
              new Error(
                `Timed out after ${timeout} ms waiting for ${this.name}: ${what}\n${this.stderrTail()}`,
              ),
            ),
          ),
        timeout,
      );
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for its `ready` line. */
  ready(timeout = 20_000): Promise<ChildLine> {
    return this.waitForLine('ready', (l) => l.event === 'ready', timeout);
  }

  /** Sends a signal (if it still runs). */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.process.kill(signal);
  }

  /** SIGTERM, then waits for it to end; kills it (SIGKILL) past `timeout` ms and rejects. */
  async stop(timeout = 15_000): Promise<ChildExit> {
    if (!this.alive) return this.exited;
    this.signal('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), timeout)),
    );
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      this.signal('SIGKILL');
      await this.exited;
      throw new Error(
        `${this.name} did not stop within ${timeout} ms of SIGTERM\n${this.stderrTail()}`,
      );
    }
    return result;
  }

  /** SIGKILL, then waits for it to end. */
  async kill(): Promise<ChildExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** The end of what it wrote on stderr, for error messages. */
  stderrTail(chars = 4_000): string {
    const text = this.stderr.join('');
    return text.length > chars ? `...${text.slice(-chars)}` : text;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Starts a child instance. */
export function startClusterChild(name: string, config: ClusterChildConfig): ClusterChild {
  return new ClusterChild(name, config);
}
