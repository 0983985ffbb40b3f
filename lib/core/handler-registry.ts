import { DuplicateJobHandlerError } from '../errors/duplicate-job-handler.error.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type { Handler, HandlerFunc } from '../interfaces/handler.interface.js';

interface Registration {
  handler: Handler;
  source: string;
}

/** Handlers by name; a name is registered once, and both places are named when it is not. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, Registration>();

  register(name: string, handler: Handler, source = `registerHandler("${name}")`): void {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new InvalidOptionsError('handler name', name, 'a non-blank string');
    }
    if (typeof handler?.execute !== 'function') {
      throw new InvalidOptionsError(
        `handler "${name}"`,
        handler,
        'an object with an execute(payload, ctx) method (or use registerHandlerFunc for a function)',
      );
    }
    const existing = this.handlers.get(name);
    if (existing) throw new DuplicateJobHandlerError(name, existing.source, source);
    this.handlers.set(name, { handler, source });
  }

  registerFunc(name: string, fn: HandlerFunc, source = `registerHandlerFunc("${name}")`): void {
    if (typeof fn !== 'function') {
      throw new InvalidOptionsError(`handler "${name}"`, fn, 'a function (payload, ctx) => result');
    }
    this.register(name, { execute: fn }, source);
  }

  get(name: string): Handler | undefined {
    return this.handlers.get(name)?.handler;
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }
}
