import { describe, expect, it } from 'vitest';
import {
  bound,
  formatError,
  formatOutput,
  TRUNCATION_MARKER,
} from '../../../lib/core/run-output.js';

describe('formatOutput', () => {
  it('keeps strings, encodes everything else as JSON', () => {
    expect(formatOutput('done', 100)).toBe('done');
    expect(formatOutput({ a: 1, b: [true, null] }, 100)).toBe('{"a":1,"b":[true,null]}');
    expect(formatOutput(42, 100)).toBe('42');
    expect(formatOutput(null, 100)).toBe('null');
    expect(formatOutput(undefined, 100)).toBe('');
  });

  it('renders what JSON cannot encode instead of throwing', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    expect(formatOutput(circular, 1000)).toContain('[Circular *1]');
    expect(formatOutput(10n, 100)).toBe('10n');
    expect(formatOutput(() => 1, 100)).toContain('Function');
  });

  it('bounds the output in UTF-8 bytes, with a marker, never splitting a character', () => {
    const out = formatOutput('é'.repeat(1000), 101);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(101);
    expect(out.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(out).not.toContain('\uFFFD');
    const emoji = bound('😀'.repeat(100), 64);
    expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(64);
    expect(emoji).not.toContain('\uFFFD');
    expect(bound('short', 64)).toBe('short');
  });
});

describe('formatError', () => {
  it('reads every kind of thrown value', () => {
    expect(formatError(new TypeError('bad thing'), 1000)).toBe('TypeError: bad thing');
    expect(formatError(new Error('outer', { cause: new Error('inner') }), 1000)).toBe(
      'Error: outer (cause: Error: inner)',
    );
    expect(formatError('plain string', 1000)).toBe('plain string');
    expect(formatError('', 1000)).toBe('an empty string was thrown');
    expect(formatError(undefined, 1000)).toBe('undefined was thrown');
    expect(formatError(null, 1000)).toBe('null was thrown');
    expect(formatError(404, 1000)).toBe('404');
    expect(formatError({ code: 'E42' }, 1000)).toBe("{ code: 'E42' }");
    const circular: Record<string, unknown> = {};
    circular.me = circular;
    expect(formatError(circular, 1000)).toContain('Circular');
  });

  it('survives errors whose getters throw', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('nope');
      },
    });
    expect(typeof formatError(hostile, 1000)).toBe('string');
  });

  it('bounds long messages', () => {
    const text = formatError(new Error('x'.repeat(10_000)), 200);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(200);
  });
});
