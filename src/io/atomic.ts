import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HibikiError } from '../errors.js';

/**
 * Writes a file so that it is either complete under its final name or not
 * there at all: a temp file beside it, fsynced, then renamed over it.
 * `what` names the kind of file in the error ("WAV file", …).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, what: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeFileSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new HibikiError('E_IO', `${path}: cannot write ${what}: ${(err as Error).message}`, { cause: err });
  }
}
