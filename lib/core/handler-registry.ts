import { DuplicateJobHandlerError } from '../errors/duplicate-job-handler.error.js';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type {
  Handler,
  HandlerFunc,
  HandlerRegistrationOptions,
} from '../interfaces/handler.interface.js';

interface Registration {
  handler: Handler;
  source: string;
  /** Runs of it at once on this instance (Infinity: no limit of its own). */
  concurrency: number;
}

/** Handlers by name; a name is registered once, and both places are named when it is not. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, Registration>();
  /** Whether any handler was registered with a concurrency of its own. */
  limited = false;

  register(name: string, handler: Handler, options: HandlerRegistrationOptions = {}): void {
    const { source = `registerHandler("${name}")`, concurrency } = optionsOf(options);
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
    const limit = concurrencyOf(concurrency);
    const existing = this.handlers.get(name);
    if (existing) throw new DuplicateJobHandlerError(name, existing.source, source);
    this.handlers.set(name, { handler, source, concurrency: limit });
    if (limit !== Infinity) this.limited = true;
  }

  registerFunc(name: string, fn: HandlerFunc, options: HandlerRegistrationOptions = {}): void {
    if (typeof fn !== 'function') {
      throw new InvalidOptionsError(`handler "${name}"`, fn, 'a function (payload, ctx) => result');
    }
    const given = optionsOf(options);
    this.register(
      name,
      { execute: fn },
      { ...given, source: given.source ?? `registerHandlerFunc("${name}")` },
    );
  }

  /** How many runs of the handler may go on at once here (Infinity when unregistered or unlimited). */
  concurrency(name: string): number {
    return this.handlers.get(name)?.concurrency ?? Infinity;
  }

  get(name: string): Handler | undefined {
    return this.handlers.get(name)?.handler;
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }
}

function optionsOf(options: HandlerRegistrationOptions): HandlerRegistrationOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError(
      'handler options',
      options,
      'an object such as { concurrency: 2 }',
    );
  }
  return options;
}

function concurrencyOf(value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return value;
  throw new InvalidOptionsError('concurrency', value, 'a whole number of at least 1');
}
