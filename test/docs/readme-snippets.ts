import { readFileSync } from 'node:fs';

/** A ```ts block of the README, with what is needed to compile it and to point back at it. */
export interface Snippet {
  /** README line of the snippet's first code line (1-based). */
  line: number;
  /** The nearest heading above it, as a directory name: snippets of one section share a folder. */
  section: string;
  /** File name: from a first line such as `// app.module.ts`, else `line-<n>.ts`. */
  file: string;
  /** The wrapper named by `<!-- snippet: <name> -->` on the line before the fence, if any. */
  wrapper?: string;
  code: string;
}

/** Code put around a fragment: `before` ends with a newline, so the fragment starts on a new line. */
export interface Wrapper {
  before: string;
  after: string;
}

/** The wrappers a README fragment may name; add one here when a new kind of fragment appears. */
export const WRAPPERS: Record<string, Wrapper> = {
  // An entry of a Nest module's `imports` array (e.g. `JobModule.forRootAsync({ ... }),`).
  'module-imports': {
    before: [
      "import { Module } from '@nestjs/common';",
      "import { DataSource } from 'typeorm';",
      "import { JobModule } from 'nestjs-job-scheduler';",
      "import { TypeOrmStorage } from 'nestjs-job-scheduler/typeorm';",
      '@Module({',
      '  imports: [',
      '',
    ].join('\n'),
    after: '\n  ],\n})\nexport class SnippetModule {}\n',
  },
  // A test file of the user's, where the test framework provides `describe`, `it`, `expect`...
  'spec-file': {
    before: "import { afterEach, beforeEach, describe, expect, it } from 'vitest';\n",
    after: '',
  },
};

const FENCE = /^\s*```(ts|typescript)\s*$/;
const DIRECTIVE = /^<!--\s*snippet:\s*([\w-]+)\s*-->\s*$/;
const FILE_COMMENT = /^\/\/\s*([\w.-]+\.ts)\b/;

/** Every ```ts / ```typescript block of the markdown file, in order. */
export function extractSnippets(path: string): Snippet[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const snippets: Snippet[] = [];
  let section = 'top';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#+\s+(.*)$/.exec(lines[i]);
    if (heading) section = slug(heading[1]);
    if (lines[i].trimStart().startsWith('```') && !FENCE.test(lines[i])) {
      i = closingFence(lines, i); // another language: skip its body (a `#` there is no heading)
      continue;
    }
    if (!FENCE.test(lines[i])) continue;
    const end = closingFence(lines, i);
    const code = lines.slice(i + 1, end).join('\n');
    const line = i + 2;
    const directive = i > 0 ? DIRECTIVE.exec(lines[i - 1].trim()) : null;
    const named = FILE_COMMENT.exec((lines[i + 1] ?? '').trim());
    snippets.push({
      line,
      section,
      file: named ? named[1] : `line-${line}.ts`,
      wrapper: directive?.[1],
      code,
    });
    i = end;
  }
  return snippets;
}

/** The source to compile for a snippet, and how many lines come before the snippet's own. */
export function snippetSource(snippet: Snippet): { text: string; offset: number } {
  const wrapper = snippet.wrapper === undefined ? undefined : WRAPPERS[snippet.wrapper];
  if (snippet.wrapper !== undefined && !wrapper) {
    throw new Error(
      `README.md:${snippet.line - 1}: unknown <!-- snippet: ${snippet.wrapper} --> ` +
        `(known: ${Object.keys(WRAPPERS).join(', ')}; wrappers live in test/docs/readme-snippets.ts)`,
    );
  }
  const before = wrapper?.before ?? '';
  // `export {}` makes every snippet a module, so that snippets never share a global scope.
  const text = `${before}${snippet.code}${wrapper?.after ?? '\n'}\nexport {};\n`;
  return { text, offset: before.split('\n').length - 1 };
}

function closingFence(lines: string[], open: number): number {
  for (let i = open + 1; i < lines.length; i++) if (lines[i].trim() === '```') return i;
  throw new Error(`README.md:${open + 1}: code block never closed`);
}

function slug(heading: string): string {
  return (
    heading
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'section'
  );
}
