import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { snippetSource, type Snippet } from './readme-snippets.js';

/**
 * A Nest app's compiler options (the Nest starter's, made strict): `nodenext` resolves
 * `nestjs-job-scheduler` through the package.json `exports`, to the built `dist/`.
 */
export const APP_COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2023,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  isolatedModules: true,
  esModuleInterop: true,
  skipLibCheck: true,
  types: ['node'],
};

/** The file TypeScript resolves `specifier` to from `fromFile`, as the snippets see it (or undefined). */
export function resolveTypes(specifier: string, fromFile: string): string | undefined {
  return ts.resolveModuleName(
    specifier,
    fromFile,
    APP_COMPILER_OPTIONS,
    ts.sys,
    undefined,
    undefined,
    ts.ModuleKind.ESNext,
  ).resolvedModule?.resolvedFileName;
}

/** A snippet written to disk: `offset` lines of wrapper come before the snippet's first line. */
export interface WrittenSnippet {
  snippet: Snippet;
  path: string;
  offset: number;
}

/** Writes each snippet to `<dir>/<section>/<file>`; two snippets of one section may not share a name. */
export function writeSnippets(dir: string, snippets: Snippet[]): WrittenSnippet[] {
  return snippets.map((snippet) => {
    const path = join(dir, snippet.section, snippet.file);
    if (existsSync(path)) {
      throw new Error(
        `README.md:${snippet.line}: a second snippet named ${snippet.file} in section "${snippet.section}"`,
      );
    }
    mkdirSync(dirname(path), { recursive: true });
    const { text, offset } = snippetSource(snippet);
    writeFileSync(path, text);
    return { snippet, path, offset };
  });
}

/** One program for all snippets; `problems(path)` gives a snippet's errors, at README lines. */
export function compileSnippets(written: WrittenSnippet[]) {
  const program = ts.createProgram(
    written.map((w) => w.path),
    APP_COMPILER_OPTIONS,
  );
  const byPath = new Map(written.map((w) => [w.path, w]));
  const problems = new Map<string, string[]>();
  const global: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const w = diagnostic.file && byPath.get(diagnostic.file.fileName);
    const text = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    if (!w || !diagnostic.file || diagnostic.start === undefined) {
      global.push(`${diagnostic.file?.fileName ?? '(options)'}: ${text}`);
      continue;
    }
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const codeLine = line - w.offset;
    const where =
      codeLine >= 0 && codeLine < w.snippet.code.split('\n').length
        ? `README.md:${w.snippet.line + codeLine}:${character + 1}`
        : `README.md:${w.snippet.line} (${w.snippet.wrapper ? `in wrapper "${w.snippet.wrapper}"` : 'at its end'})`;
    const list = problems.get(w.path) ?? [];
    list.push(`${where} ${text}`);
    problems.set(w.path, list);
  }
  return {
    global,
    problems: (w: WrittenSnippet) => problems.get(w.path) ?? [],
    /** Emits JavaScript next to the given snippets' files (ESM: the package is `"type": "module"`). */
    emit(files: WrittenSnippet[]): string[] {
      return files.flatMap((w) => {
        const result = program.emit(program.getSourceFile(w.path));
        return result.emitSkipped ? [`README.md:${w.snippet.line}: emit skipped`] : [];
      });
    },
  };
}
