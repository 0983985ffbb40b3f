/**
 * A Redis server of the benchmark's own, with AOF persistence (`appendonly yes`, `appendfsync
 * everysec`: what BullMQ's docs recommend for production), on a free port of 127.0.0.1 and a
 * temporary directory, so that BullMQ can also be measured as it would be deployed without touching
 * the shared server's settings. Stopped (by its pid) and its directory removed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './common.js';

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts it; rejects (with nothing left behind) when `redis-server` is missing or does not start. */
export async function startPrivateRedis(binary = 'redis-server'): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--daemonize',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let exited = false;
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => (exited = true));
  child.once('error', (error) => (log += String(error)));
  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await Promise.race([ended, sleep(5_000)]);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let waited = 0; !/Ready to accept connections/.test(log); waited += 20) {
    if (exited || waited > 5_000) {
      await stop();
      throw new Error(`redis-server did not start: ${log.trim().slice(-300) || 'no output'}`);
    }
    await sleep(20);
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}
