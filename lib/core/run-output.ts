import { inspect } from 'node:util';

/**
 * Turns what a handler returned into the run's output: a string as is, `undefined` as `''`, anything
 * else JSON-encoded (or inspected when JSON cannot encode it), bounded to `maxBytes` UTF-8 bytes.
 */
export function formatOutput(value: unknown, maxBytes: number): string {
  if (value === undefined || value === null) return value === null ? 'null' : '';
  if (typeof value === 'string') return bound(value, maxBytes);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  // JSON.stringify gives undefined for functions and symbols, and throws on cycles and BigInt.
  if (text === undefined) text = safeInspect(value);
  return bound(text, maxBytes);
}

/**
 * Readable text for a thrown value of any kind: an `Error` as `Name: message` (with its `cause`),
 * a string as is, anything else inspected (cycles and getters that throw included). Never throws.
 */
export function formatError(error: unknown, maxBytes: number): string {
  let text: string;
  if (error instanceof Error) {
    text = describeError(error);
  } else if (typeof error === 'string') {
    text = error === '' ? 'an empty string was thrown' : error;
  } else if (error === undefined || error === null) {
    text = `${String(error)} was thrown`;
  } else {
    text = safeInspect(error);
  }
  return bound(text, maxBytes);
}

/** How much of an error a log line shows. */
export const LOG_ERROR_BYTES = 1000;

/** An error as a log line shows it: `formatError`, bounded to `LOG_ERROR_BYTES`. */
export function errorForLog(error: unknown): string {
  return formatError(error, LOG_ERROR_BYTES);
}

function describeError(error: Error): string {
  let name: string;
  let message: string;
  try {
    name = error.name || 'Error';
    message = String(error.message ?? '');
  } catch {
    return safeInspect(error);
  }
  let text = message ? `${name}: ${message}` : name;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined) {
    text += ` (cause: ${cause instanceof Error ? describeError(cause) : safeInspect(cause)})`;
  }
  return text;
}

function safeInspect(value: unknown): string {
  try {
    return inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: 10_000 });
  } catch (err) {
    return `[uninspectable ${typeof value}: ${err instanceof Error ? err.message : 'unknown'}]`;
  }
}

/** The marker that ends truncated text. */
export const TRUNCATION_MARKER = '…[truncated]';
const MARKER_BYTES = Buffer.byteLength(TRUNCATION_MARKER);

/** Cuts `text` to at most `maxBytes` UTF-8 bytes (marker included), never inside a character. */
export function bound(text: string, maxBytes: number): string {
  // Fast path: a UTF-16 length of maxBytes/3 or less can never exceed maxBytes in UTF-8.
  if (text.length * 3 <= maxBytes) return text;
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const budget = Math.max(0, maxBytes - MARKER_BYTES);
  const bytes = Buffer.from(text);
  let end = budget;
  // Step back to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + TRUNCATION_MARKER;
}
