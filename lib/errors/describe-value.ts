import { inspect } from 'node:util';

/** A short, readable rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return inspect(value, {
    depth: 2,
    breakLength: Infinity,
    maxArrayLength: 10,
    maxStringLength: 200,
  });
}
