import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const APPS = join(dirname(fileURLToPath(import.meta.url)), 'apps');

/** What a finished command printed. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end (or kills it after `timeoutMs`), resolving with its output whatever
 * its exit code. `node` means the Node.js running the tests, and npm runs on it too.
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<CommandResult> {
  const nodeDir = dirname(process.execPath);
  return new Promise((resolve) => {
    execFile(
      command === 'node' ? process.execPath : command,
      args,
      {
        cwd,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, PATH: `${nodeDir}:${process.env.PATH ?? ''}`, ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like `run`, but throws with the command's output when it does not exit with 0. */
export async function mustRun(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<CommandResult> {
  const result = await run(command, args, cwd, timeoutMs, env);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` in ${cwd} exited with ${result.code}:\n` +
        `${tail(result.stdout)}\n${tail(result.stderr)}`,
    );
  }
  return result;
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** The packed package: where its tarball is, and the files it holds. */
export interface PackedPackage {
  readonly dir: string;
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * Packs this package (`npm pack` of the built dist/) into a new temp directory, as
 * `nestjs-job-scheduler.tgz`, the name the app fixtures depend on.
 */
export async function packPackage(): Promise<PackedPackage> {
  if (!existsSync(join(ROOT, 'dist', 'cjs', 'package.json'))) {
    throw new Error('dist/ is not built: run `npm run build` first (`npm test` does)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'job-scheduler-consumer-'));
  // --ignore-scripts: no prepack build, which would empty dist/ under the suites that read it;
  // `npm test` builds first (pretest).
  const { stdout } = await mustRun(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    ROOT,
    120_000,
  );
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(dir, 'nestjs-job-scheduler.tgz');
  cpSync(join(dir, packed!.filename), tarball);
  return { dir, tarball, files: packed!.files.map((file) => file.path) };
}

/**
 * Copies an app fixture (`test/package/apps/<name>`, plus `apps/shared` into its `src`) next to the
 * tarball and installs it.
 */
export async function installApp(packed: PackedPackage, name: string): Promise<string> {
  const dir = join(packed.dir, name);
  cpSync(join(APPS, name), dir, { recursive: true });
  // The files both apps hold alike (no relative imports, so the same in ESM and CommonJS).
  cpSync(join(APPS, 'shared'), join(dir, 'src'), { recursive: true });
  // A plain install, as a user types it: no --force, no --legacy-peer-deps.
  await mustRun('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], dir, 600_000);
  return dir;
}

/** The version of a package installed in an app. */
export function installedVersion(appDir: string, pkg: string): string {
  const json = readFileSync(join(appDir, 'node_modules', pkg, 'package.json'), 'utf8');
  return (JSON.parse(json) as { version: string }).version;
}

/**
 * Runs an app's `dist/main.js`, which prints one JSON line of what it saw and must then exit on its
 * own with 0 (a leaked timer or connection would keep it alive until `timeoutMs` kills it).
 */
export async function runApp(
  appDir: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const { stdout } = await mustRun('node', ['dist/main.js'], appDir, timeoutMs, env);
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the app printed no JSON line:\n${stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}

/** Removes the temp directory of a packed package and its apps. */
export function removePacked(packed: PackedPackage | undefined): void {
  if (packed) rmSync(packed.dir, { recursive: true, force: true });
}
