import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import { uiDirectory } from './ui-directory.cjs';

/** One file of the dashboard, held in memory. */
export interface UiFile {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The dashboard's files (`ui/`, shipped in the package), read once: `index.html` (its `<head>`
 * gets a `<base>` per request, so that relative URLs work wherever the module is mounted) and the
 * assets, served by exact name only.
 */
export class UiFiles {
  private readonly index: string;
  private readonly assets = new Map<string, UiFile>();

  constructor(directory: string = uiDirectory) {
    if (!existsSync(join(directory, 'index.html'))) {
      throw new InvalidOptionsError(
        'JobAdminModule',
        directory,
        "the dashboard's files beside the module (ui/index.html): this copy of the package was built without them",
      );
    }
    for (const name of readdirSync(directory)) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType === undefined || name === 'index.html') continue;
      this.assets.set(name, { body: readFileSync(join(directory, name)), contentType });
    }
    this.index = readFileSync(join(directory, 'index.html'), 'utf8');
  }

  /** The page, with `<base href="<basePath>">` (escaped) first in its `<head>`. */
  page(basePath: string): string {
    const base = `<base href="${escapeAttribute(basePath)}">`;
    return this.index.replace(/<head([^>]*)>/i, (head) => `${head}\n    ${base}`);
  }

  /** An asset by exact name, or `undefined`. */
  asset(name: string): UiFile | undefined {
    return this.assets.get(name);
  }

  /** Every asset's name and size (the page weight). */
  sizes(): Array<{ name: string; bytes: number }> {
    return [...this.assets].map(([name, file]) => ({ name, bytes: file.body.length }));
  }
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
