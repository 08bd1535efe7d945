// Files named on the command line: '-' is stdin or stdout in every command,
// a file that cannot be read or written is a data error (exit code 1) that
// names the flag, and outputs are checked before any work and written whole.
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HibikiError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/** The file name that means stdin (as an input) or stdout (as an output). */
export const STDIO = '-';

const nameOf = (path: string, output = false) => (path === STDIO ? (output ? 'stdout' : 'stdin') : path);

/** A file's bytes, or stdin's for '-'. */
export function readInput(flag: string, path: string): Buffer {
  try {
    return readFileSync(path === STDIO ? 0 : path);
  } catch (cause) {
    throw new HibikiError('E_IO', `${flag}: cannot read ${nameOf(path)}: ${(cause as Error).message}`, { cause });
  }
}

/** Checks, before any work, that `path` can be created: its folder exists and is writable. Stdout always can. */
export function checkWritable(flag: string, path: string): void {
  if (path === STDIO) return;
  const folder = dirname(path);
  let problem = '';
  try {
    if (!statSync(folder).isDirectory()) problem = `${folder} is not a folder`;
    else accessSync(folder, constants.W_OK);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem) throw new HibikiError('E_IO', `${flag}: cannot write ${path}: ${problem}`);
}

/** Creates an output folder (and its parents) for a command that writes several files. */
export function makeFolder(flag: string, path: string): void {
  try {
    mkdirSync(path, { recursive: true });
    accessSync(path, constants.W_OK);
  } catch (cause) {
    throw new HibikiError('E_IO', `${flag}: cannot write to the folder ${path}: ${(cause as Error).message}`, { cause });
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
