/**
 * The parts of a test framework the conformance suites use, as Jest and Vitest both provide them:
 * pass `{ describe, it, expect, beforeEach, afterEach }` from either (their globals, or their
 * imports). Only the matchers below are used, so another framework with them works too.
 */
export interface TestApi {
  describe(name: string, body: () => void): void;
  /** Every test of the suites is async. */
  it: (name: string, test: () => Promise<unknown>, timeout?: number) => void;
  expect: ExpectFn;
  beforeEach(hook: () => Promise<unknown>): void;
  afterEach(hook: () => Promise<unknown>): void;
}

/** `expect(actual)` (one argument: Jest refuses a message), and `expect.any(Number)`. */
export interface ExpectFn {
  (actual: unknown): Matchers;
  any(constructor: unknown): unknown;
}

/** The matchers the suites use. */
export interface Matchers extends BasicMatchers {
  readonly not: BasicMatchers;
  readonly resolves: { toBeUndefined(): Promise<unknown> };
}

export interface BasicMatchers {
  toBe(expected: unknown): void;
  toStrictEqual(expected: unknown): void;
  toBeNull(): void;
  toContain(item: unknown): void;
  toHaveLength(length: number): void;
  toBeInstanceOf(constructor: unknown): void;
  toBeGreaterThan(n: number): void;
  toBeGreaterThanOrEqual(n: number): void;
  toBeLessThan(n: number): void;
  toBeLessThanOrEqual(n: number): void;
}
