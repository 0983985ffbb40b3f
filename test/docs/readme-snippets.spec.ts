/**
 * A README that cannot rot: every ```ts / ```typescript block of README.md is type-checked against the
 * package as a user imports it (`nestjs-job-scheduler`, `/typeorm`, `/terminus`, resolved by package
 * name through package.json `exports` to the built `dist/`: run `npm run build` first), and the quick
 * start is compiled and run in Node: its cron job must fire and SIGTERM must shut it down cleanly.
 *
 * How snippets become files (the README stays plain markdown):
 * - Each snippet is its own module, in a folder per README section (the nearest heading above it).
 * - A snippet whose first line is a comment naming a file (`// app.module.ts`) is written under that
 *   name, so that another snippet of the same section can import it (`./app.module.js`); others are
 *   `line-<n>.ts`. Two snippets of one section may not share a name.
 * - A fragment (an entry of a module's `imports`, an options object...) is preceded, on the line just
 *   before its fence, by `<!-- snippet: <wrapper> -->` (an HTML comment: invisible on GitHub and npm),
 *   naming code put around it: the wrappers are in `WRAPPERS` (readme-snippets.ts). A snippet is
 *   never skipped: one that does not compile against the real API is a README to fix.
 * Errors are reported at README line and column; generated files live in test/docs/.snippets/
 * (gitignored), removed after the run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileSnippets,
  resolveTypes,
  writeSnippets,
  type WrittenSnippet,
} from './compile-snippets.js';
import { extractSnippets } from './readme-snippets.js';

const here = dirname(fileURLToPath(import.meta.url));
const README = resolve(here, '../../README.md');
const TMP_ROOT = join(here, '.snippets');
const snippets = extractSnippets(README);

let dir: string;
let written: WrittenSnippet[];
let compiled: ReturnType<typeof compileSnippets>;

beforeAll(() => {
  mkdirSync(TMP_ROOT, { recursive: true });
  dir = mkdtempSync(join(TMP_ROOT, 'run-'));
  written = writeSnippets(dir, snippets);
  compiled = compileSnippets(written);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(TMP_ROOT); // only when empty: a parallel run may still use it
  } catch {
    // not empty
  }
});

describe('README.md TypeScript snippets', () => {
  it.each([
    'nestjs-job-scheduler',
    'nestjs-job-scheduler/typeorm',
    'nestjs-job-scheduler/terminus',
    'nestjs-job-scheduler/testing',
  ])('%s resolves by package name to the built declarations', (specifier) => {
    const resolved = resolveTypes(specifier, written[0].path);
    expect(resolved, `${specifier} does not resolve: run \`npm run build\` first`).toMatch(
      /\/dist\/.*\.d\.ts$/,
    );
  });

  it('has snippets, the quick start among them, and no compiler problem outside them', () => {
    expect(snippets.length).toBeGreaterThan(5);
    expect(snippets.filter((s) => s.section === 'quick-start').map((s) => s.file)).toEqual(
      expect.arrayContaining(['app.module.ts', 'main.ts']),
    );
    expect(compiled.global).toEqual([]);
  });

  it.each(snippets.map((s) => [`line ${s.line} (${s.section}/${s.file})`, s] as const))(
    'README.md %s compiles against the package',
    (_, snippet) => {
      const w = written.find((x) => x.snippet === snippet)!;
      const problems = compiled.problems(w);
      if (problems.length > 0) {
        throw new Error(
          `the README.md snippet at line ${snippet.line} does not compile:\n${problems.join('\n')}\n` +
            'Fix the README; a fragment names a wrapper (see the top of this file).',
        );
      }
    },
  );
});

describe('README.md quick start', () => {
  it('runs: the cron job fires, and SIGTERM shuts the app down cleanly', async () => {
    const files = written.filter((w) => w.snippet.section === 'quick-start');
    expect(compiled.emit(files)).toEqual([]);
    // A no-op SIGTERM listener: Nest's shutdown hook re-raises the signal once the app is closed, and
    // the process must then end by itself (exit code 0). It hangs if the hooks did not run or if
    // something still holds the event loop.
    const preload = join(dir, 'hold-sigterm.mjs');
    writeFileSync(preload, "process.on('SIGTERM', () => {});\n");
    const main = files.find((w) => w.snippet.file === 'main.ts')!;
    const child = spawn(
      process.execPath,
      ['--import', preload, main.path.replace(/\.ts$/, '.js')],
      {
        cwd: dirname(main.path),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | string | null>((done) =>
      child.on('exit', (code, signal) => done(code ?? signal)),
    );
    const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
    try {
      const fired = await Promise.race([
        until(() => /cleanup due at \d{4}-\d\d-\d\dT/.test(stdout), 12_000),
        exited.then((code) => `exited early (${code})`),
      ]);
      expect(fired, `no "cleanup due at <ISO date>" line: the job did not fire\n${output()}`).toBe(
        true,
      );
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
      expect(code, `the quick start did not shut down cleanly on SIGTERM\n${output()}`).toBe(0);
      expect(stderr, output()).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (check()) return true;
  return check();
}
