import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from '../package/consumer-app.js';

/**
 * The sample app as `npm run start:sample` runs it: built the way `nest start` builds it
 * (tsconfig.sample.json, the dashboard's files copied as nest-cli.json's assets say), on a fresh
 * SQLite file, on a free port (`PORT=0`). Inside the tree (.scratch is ignored by git), so that the
 * build finds node_modules.
 */
export class SampleApp {
  readonly dir: string;
  private child: ChildProcessWithoutNullStreams | null = null;
  private exit: Promise<string> | null = null;
  /** Everything the app printed so far. */
  output = '';

  constructor(name: string) {
    mkdirSync('.scratch', { recursive: true });
    this.dir = mkdtempSync(join('.scratch', `${name}-`));
  }

  async build(): Promise<void> {
    const out = join(this.dir, 'out');
    await mustRun('npx', ['tsc', '-p', 'tsconfig.sample.json', '--outDir', out], '.', 120_000);
    cpSync('lib/admin/ui', join(out, 'lib', 'admin', 'ui'), { recursive: true });
  }

  /** Starts the built app; resolves to its base URL once it prints its dashboard's. */
  async start(timeoutMs = 30_000): Promise<string> {
    const child = spawn(process.execPath, [join(this.dir, 'out', 'sample', 'main.js')], {
      env: {
        ...process.env,
        SAMPLE_SQLITE_FILE: join(this.dir, 'sample.sqlite'),
        NO_COLOR: '1',
        PORT: '0',
      },
    });
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // Nest's shutdown hook closes the app, then raises the signal again: it ends by SIGTERM.
    this.exit = new Promise<string>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
    );
    await this.waitFor(/Dashboard: http:\/\/127\.0\.0\.1:\d+\/jobs\//, timeoutMs);
    return /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/jobs\//.exec(this.output)![1]!;
  }

  /** Resolves once the output matches, rejects after `timeoutMs` with the output so far. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) {
        throw new Error(`the sample did not print ${pattern} in ${timeoutMs} ms:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends SIGTERM; resolves to how it ended (`'SIGTERM'` after a graceful stop). */
  async stop(): Promise<string> {
    if (this.child === null || this.exit === null) return 'not started';
    this.child.kill('SIGTERM');
    return this.exit;
  }

  /** Stops it if running, and removes its files. */
  async dispose(): Promise<void> {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
