import { describe, expect, it } from 'vitest';
import { HandlerRegistry } from '../../../lib/core/handler-registry.js';
import { DuplicateJobHandlerError } from '../../../lib/errors/duplicate-job-handler.error.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';

describe('HandlerRegistry', () => {
  it('registers objects and functions by name', async () => {
    const registry = new HandlerRegistry();
    const object = { execute: () => 'object' };
    registry.register('a', object);
    registry.registerFunc('b', () => 'function');
    expect(registry.get('a')).toBe(object);
    expect(await registry.get('b')!.execute(null, {} as never)).toBe('function');
    expect(registry.has('c')).toBe(false);
  });

  it('refuses a second handler under one name, naming both places', () => {
    const registry = new HandlerRegistry();
    registry.register('report', { execute: () => 1 }, { source: 'ReportHandler' });
    let error: unknown;
    try {
      registry.registerFunc('report', () => 2, { source: 'BillingService#report' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DuplicateJobHandlerError);
    expect((error as Error).message).toContain('ReportHandler');
    expect((error as Error).message).toContain('BillingService#report');
  });

  it('rejects a blank name and a handler without execute', () => {
    const registry = new HandlerRegistry();
    expect(() => registry.register(' ', { execute: () => 1 })).toThrow(InvalidOptionsError);
    expect(() => registry.register('x', {} as never)).toThrow(/execute\(payload, ctx\)/);
    expect(() => registry.registerFunc('y', 'nope' as never)).toThrow(InvalidOptionsError);
  });
});
