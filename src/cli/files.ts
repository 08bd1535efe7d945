// Files named on the command line: '-' is stdin or stdout in every command,
// an input that cannot be read is a data error (exit code 1) that names the
// flag, and outputs are written whole. paths.ts checks output paths before
// any work.
import { readFileSync } from 'node:fs';
import { HibikiError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/** The file name that means stdin (as an input) or stdout (as an output). */
export const STDIO = '-';

/** How an input is named in messages: its path, or stdin. */
export const inputName = (path: string) => (path === STDIO ? 'stdin' : path);

/** A file's bytes, or stdin's for '-'. */
export function readInput(flag: string, path: string): Buffer {
  try {
    return readFileSync(path === STDIO ? 0 : path);
  } catch (cause) {
    throw new HibikiError('E_IO', `${flag}: cannot read ${inputName(path)}: ${(cause as Error).message}`, { cause });
  }
}

/** Writes `bytes` whole: to a file atomically (never half-written under its name), or to stdout for '-'. */
export async function writeOutput(path: string, bytes: Uint8Array | string, what: string): Promise<void> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  if (path !== STDIO) {
    writeFileAtomic(path, data, what);
    return;
  }
  await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
}
