import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HibikiError } from '../errors.js';

/**
 * Writes a file so that it is either complete under its final name or not
 * there at all: a temp file beside it, fsynced, then renamed over it.
 * `what` names the kind of file in the error ("WAV file", …).
 *
 * A symbolic link is written through (its target is replaced, the link
 * stays), and a path that is not a regular file (/dev/null, a FIFO,
 * /dev/stdout) is written in place: renaming over it would replace the
 * device or pipe with a file, as root even /dev/null.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, what: string): void {
  let temp: string | undefined;
  try {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing && !existing.isFile() && !existing.isDirectory()) {
      writeFileSync(path, bytes);
      return;
    }
    const target = existing ? realpathSync(path) : path;
    temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = openSync(temp, 'wx');
    try {
      writeFileSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    if (temp) rmSync(temp, { force: true });
    throw new HibikiError('E_IO', `${path}: cannot write ${what}: ${(err as Error).message}`, { cause: err });
  }
}
