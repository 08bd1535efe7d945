// writeFileAtomic: whole or not at all, and never by replacing what is not a
// regular file: a symbolic link is written through, a pipe or device in place
// (renaming over /dev/null, as root, replaced it with a file).
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { HibikiError } from '../../src/errors.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one, leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-atomic-'));
    writeFileAtomic(join(dir, 'a.txt'), bytes('one'), 'text');
    writeFileAtomic(join(dir, 'a.txt'), bytes('two'), 'text');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it('a symbolic link is written through: its target gets the bytes, the link stays a link', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-atomic-'));
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'target.txt'), 'old');
    symlinkSync(join(dir, 'real', 'target.txt'), join(dir, 'link.txt'));
    writeFileAtomic(join(dir, 'link.txt'), bytes('new'), 'text');
    expect(lstatSync(join(dir, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'target.txt'), 'utf8')).toBe('new');
    expect(readdirSync(join(dir, 'real'))).toEqual(['target.txt']);
  });

  it.runIf(process.platform !== 'win32')('a FIFO is written in place (its reader gets the bytes), not replaced by a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-atomic-'));
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let read = '';
    reader.stdout.setEncoding('utf8').on('data', (d: string) => (read += d));
    const closed = new Promise((resolve) => reader.once('close', resolve));
    writeFileAtomic(fifo, bytes('through the pipe'), 'text'); // blocks until cat opens it
    await closed;
    expect(read).toBe('through the pipe');
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['pipe']);
  });

  it('a folder in the way is an E_IO error naming the path, and no temporary file is left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-atomic-'));
    mkdirSync(join(dir, 'out.txt'));
    const error = (() => {
      try {
        writeFileAtomic(join(dir, 'out.txt'), bytes('x'), 'text');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HibikiError);
    expect((error as HibikiError).code).toBe('E_IO');
    expect((error as HibikiError).message).toMatch(new RegExp(`^${join(dir, 'out.txt')}: cannot write text: `));
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });
});
