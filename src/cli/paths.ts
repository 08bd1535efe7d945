// Output paths named on the command line, checked before any work: a file
// output must name a file in a folder where files can be made, a folder output
// a folder that exists or can be made. A path that cannot be written is a
// usage error (exit code 2, docs/cli.md): the command line names something
// unusable, and nothing has been read or written yet. Writing itself can
// still fail later (a full disk): that is a data error, from the writer.
import { randomBytes } from 'node:crypto';
import { type Stats, accessSync, closeSync, constants, mkdirSync, openSync, realpathSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { usage } from './exit.js';
import { STDIO } from './files.js';

const endsInSeparator = (path: string) => path.endsWith('/') || path.endsWith(sep);

/** Node's words for a system error and its code: "permission denied (EACCES)", without the syscall and path it appends. */
function reason(e: unknown): string {
  const { code, message } = e as NodeJS.ErrnoException;
  if (!code) return message;
  return `${/^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message} (${code})`;
}

/**
 * Why a file or folder cannot be made in a folder that exists. ENOENT there
 * is the file system refusing (/proc answers it), not a missing folder.
 */
function refusal(e: unknown): string {
  return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file system refuses (ENOENT)' : reason(e);
}

/**
 * `path` or the nearest of its parents that exists. A parent that is a file
 * (ENOTDIR below it) is where the walk stops; any other error (EACCES on a
 * parent, ELOOP, ENAMETOOLONG) is thrown.
 */
function nearestExisting(path: string): { at: string; stats: Stats } {
  for (let at = path; ; ) {
    try {
      return { at, stats: statSync(at) };
    } catch (e) {
      const up = dirname(at);
      if (!['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '') || up === at) throw e;
      at = up;
    }
  }
}

/**
 * Makes and removes a file in `folder`: the one sure test that files can be
 * made there. Mode bits do not tell (root passes every access() check), and
 * /proc and read-only mounts refuse only at creation.
 */
function probe(folder: string): void {
  const file = join(folder, `.hibiki-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  closeSync(openSync(file, 'wx'));
  unlinkSync(file);
}

/**
 * Checks, before any work, that the file output `path` can be written: not a
 * folder, its folder there and taking new files (the output is a temporary
 * file renamed over it, io/atomic.ts). A device or pipe (/dev/null, a FIFO)
 * must be writable itself. Stdout ('-') always can. A usage error otherwise,
 * one line naming the flag, the path and what is wrong.
 */
export function checkOutputFile(flag: string, path: string): void {
  if (path === STDIO) return;
  if (path === '') usage(`${flag}: the file name is empty`);
  if (endsInSeparator(path)) usage(`${flag}: ${path} ends in ${sep}: it names a folder, not a file`);
  const refuse = (problem: string): never => usage(`${flag}: cannot write ${path}: ${problem}`);
  let found: { at: string; stats: Stats };
  try {
    found = nearestExisting(path);
  } catch (e) {
    return refuse(reason(e));
  }
  let folder = found.at;
  if (found.at === path) {
    if (found.stats.isDirectory()) usage(`${flag}: ${path} is a folder, not a file`);
    if (!found.stats.isFile()) {
      try {
        accessSync(path, constants.W_OK);
      } catch (e) {
        refuse(reason(e));
      }
      return;
    }
    // A link is written through: its target's folder takes the temporary file.
    folder = dirname(realpathSync(path));
  } else if (!found.stats.isDirectory()) {
    refuse(`${found.at} is a file, not a folder`);
  } else if (found.at !== dirname(path)) {
    refuse(`the folder ${dirname(path)} does not exist`);
  }
  try {
    probe(folder);
  } catch (e) {
    refuse(`cannot create files in ${folder}: ${refusal(e)}`);
  }
}

/** A folder output made by makeOutputFolder. */
export interface OutputFolder {
  /** Removes the folders makeOutputFolder made, if nothing was written in them: a command that wrote nothing leaves nothing. */
  removeIfEmpty(): void;
}

/** Removes `made` deepest first, stopping at the first that is not empty. */
function removeEmpty(made: readonly string[]): void {
  for (const dir of [...made].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/**
 * Makes the folder output `path` (and the parents it lacks) before any work,
 * and checks that files can be made in it; a usage error otherwise, one line
 * naming the flag, the path and what is wrong. Call removeIfEmpty() when the
 * command ends, so a run that wrote nothing leaves no folder behind.
 */
export function makeOutputFolder(flag: string, path: string): OutputFolder {
  if (path === '') usage(`${flag}: the folder name is empty`);
  const refuse = (problem: string): never => usage(`${flag}: cannot create the folder ${path}: ${problem}`);
  // stat('file/') fails with ENOTDIR but dirname('file/') is '.': walk the path without its trailing separators.
  const target = path.replace(/[\\/]+$/, '') || path;
  let found: { at: string; stats: Stats };
  try {
    found = nearestExisting(target);
  } catch (e) {
    return refuse(reason(e));
  }
  if (!found.stats.isDirectory()) {
    if (found.at === target) usage(`${flag}: ${path} is a file, not a folder`);
    refuse(`${found.at} is a file, not a folder`);
  }
  const missing: string[] = [];
  for (let dir = target; dir !== found.at; dir = dirname(dir)) missing.unshift(dir);
  // One level at a time: mkdirSync's recursive mode loops for ever where mkdir answers ENOENT
  // under a parent that exists (/proc/foo: it makes the parent, gets EEXIST, retries the child).
  const made: string[] = [];
  for (const dir of missing) {
    try {
      mkdirSync(dir);
      made.push(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue; // made meanwhile
      removeEmpty(made);
      refuse(`cannot create folders in ${dirname(dir)}: ${refusal(e)}`);
    }
  }
  try {
    probe(target);
  } catch (e) {
    removeEmpty(made);
    usage(`${flag}: cannot write in the folder ${path}: ${refusal(e)}`);
  }
  return { removeIfEmpty: () => removeEmpty(made) };
}
