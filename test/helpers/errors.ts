import { expect } from 'vitest';
import { HibikiError } from '../../src/errors.js';

/** "CODE: message" of the HibikiError `fn` throws; undefined if it returns. */
export function errorOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof HibikiError ? `${e.code}: ${e.message}` : `not a HibikiError: ${e}`;
  }
  return undefined;
}

/** Asserts `fn` throws a HibikiError with `code` whose message matches `mentions`. */
export function expectError(fn: () => unknown, code: string, mentions: RegExp): void {
  const got = errorOf(fn);
  expect(got, 'expected a HibikiError').toBeDefined();
  expect(got!.slice(0, got!.indexOf(':'))).toBe(code);
  expect(got).toMatch(mentions);
}

/** Asserts the promise `fn` returns rejects with a HibikiError with `code` whose "CODE: message" matches `mentions`. */
export async function expectRejection(fn: () => Promise<unknown>, code: string, mentions: RegExp): Promise<void> {
  let got: string | undefined;
  try {
    await fn();
  } catch (e) {
    got = e instanceof HibikiError ? `${e.code}: ${e.message}` : `not a HibikiError: ${e}`;
  }
  expect(got, 'expected a rejection with a HibikiError').toBeDefined();
  expect(got!.slice(0, got!.indexOf(':'))).toBe(code);
  expect(got).toMatch(mentions);
}
