/**
 * Runs one scenario file in a child process (fresh heap: figures are not polluted by other
 * scenarios) and returns the figures it reported on its `RESULT {json}` line.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RESULT_PREFIX } from './common.js';
import type { Transcript } from './transcript.js';

/** What a scenario reported. */
export type Figures = Record<string, number | boolean | string | undefined>;

/**
 * Runs `file` (relative to bench/) with `args` and `env` added to this process's environment.
 * Resolves to undefined, after printing its output, when it fails or reports nothing.
 */
export function scenario(
  out: Transcript,
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Figures | undefined> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let text = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const line = text.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) {
        out.write(`  ! ${file} ${args.join(' ')} failed (exit ${code})\n${text}`);
        resolve(undefined);
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as Figures);
    });
  });
}

/** A figure of a skipped scenario (its server was not reachable). */
export const isSkipped = (f: Figures | undefined): boolean => f?.skipped === true;
