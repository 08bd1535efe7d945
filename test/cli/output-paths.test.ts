// Output paths are checked before any work (issue 21): each case the issue
// found, as a user typed it. Every case: the exact exit code, the one line on
// stderr, nothing on stdout, and nothing written (no .partial, no folder).
// test/fuzz/cli-paths.test.ts walks every writing flag through hostile paths.
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hibikiWith } from '../helpers/cli.js';

const IMAGE = fileURLToPath(new URL('../../samples/images/astronaut.png', import.meta.url));
const SHAPES = fileURLToPath(new URL('../../samples/images/shapes/shapes-0.png', import.meta.url));
const HELD_OUT = fileURLToPath(new URL('../../samples/test.en', import.meta.url));

// Refused before any work, a command ends within seconds; one that hangs or does the work first is killed (code null).
const hibiki = (...args: string[]) => hibikiWith({ timeoutMs: 30_000 }, ...args);

/** Every file and folder under `dir`, relative, sorted: what a refused command must leave as it was. */
const tree = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();

describe('output paths are checked before any work, each refusal one line and exit code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-output-paths-'));
  const folder = join(dir, 'out');
  const file = join(dir, 'notes.txt');
  mkdirSync(folder);
  writeFileSync(file, 'not a folder\n');

  function refused(args: string[], line: string): void {
    const before = tree(dir);
    const r = hibiki(...args);
    expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([2, `error: ${line}\n`, '']);
    expect(tree(dir), args.join(' ')).toEqual(before);
  }

  it('generate -s 20 -o DIR: refused before generating (it generated 20 s of audio, then failed at the rename)', () => {
    refused(['generate', '-s', '20', '-o', folder], `--output: ${folder} is a folder, not a file`);
    refused(['generate', '-s', '20', '-o', `${folder}/`], `--output: ${folder}/ ends in /: it names a folder, not a file`);
  });

  it('translate -o DIR: refused before translating, no DIR.partial left behind', () => {
    refused(['translate', '-i', HELD_OUT, '-o', folder, '-w', '0'], `--output: ${folder} is a folder, not a file`);
  });

  it('translate -o FILE whose journal FILE.partial is a folder: refused before translating', () => {
    mkdirSync(join(dir, 'blocked.ja.partial'));
    refused(['translate', '-i', HELD_OUT, '-o', join(dir, 'blocked.ja'), '-w', '0'], `--output: ${join(dir, 'blocked.ja.partial')} is a folder, not a file`);
  });

  it('detect --json DIR: refused before detecting', () => {
    refused(['detect', IMAGE, '--json', folder, '-w', '0'], `--json: ${folder} is a folder, not a file`);
  });

  it('segment -o FILE and detect --draw FILE: one line, not an EEXIST from mkdir', () => {
    refused(['segment', SHAPES, '-o', file, '-w', '0'], `--output: ${file} is a file, not a folder`);
    refused(['detect', IMAGE, '--draw', file, '-w', '0'], `--draw: ${file} is a file, not a folder`);
  });

  it('a folder output under a regular file (ENOTDIR): one line naming the file', () => {
    refused(['segment', SHAPES, '-o', join(file, 'masks'), '-w', '0'], `--output: cannot create the folder ${join(file, 'masks')}: ${file} is a file, not a folder`);
    refused(['detect', IMAGE, '--draw', join(file, 'a', 'b'), '-w', '0'], `--draw: cannot create the folder ${join(file, 'a', 'b')}: ${file} is a file, not a folder`);
  });

  it.runIf(process.platform === 'linux')('segment -o /proc/foo and detect --draw /proc/foo fail at once (recursive mkdir spun for ever there)', () => {
    const line = (flag: string, path: string) => `${flag}: cannot create the folder ${path}: cannot create folders in /proc: the file system refuses (ENOENT)`;
    for (const path of ['/proc/foo', '/proc/foo/bar']) {
      const started = performance.now();
      refused(['segment', SHAPES, '-o', path, '-w', '0'], line('--output', path));
      refused(['detect', IMAGE, '--draw', path, '-w', '0'], line('--draw', path));
      expect(performance.now() - started).toBeLessThan(20_000);
    }
  });
});

describe('a folder output made for a run that wrote nothing is removed again', () => {
  it('segment -o NEW/DEEP with a missing model: exit code 1, neither NEW nor NEW/DEEP left behind; a folder that was there stays', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-output-folder-'));
    const r = hibiki('segment', SHAPES, '-o', join(dir, 'new', 'deep'), '-m', join(dir, 'missing'));
    expect([r.code, r.stderr]).toEqual([1, `error: --model: cannot read ${join(dir, 'missing')}/config.json: is "${join(dir, 'missing')}" a model directory?\n`]);
    expect(tree(dir)).toEqual([]);
    mkdirSync(join(dir, 'kept'));
    const kept = hibiki('detect', IMAGE, '--draw', join(dir, 'kept'), '-m', join(dir, 'missing'));
    expect(kept.code).toBe(1);
    expect(tree(dir)).toEqual(['kept']);
  });

  it('detect --draw NEW where every image fails: exit code 1, NEW not left behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-output-folder-'));
    writeFileSync(join(dir, 'notes.png'), 'not an image');
    const r = hibiki('detect', join(dir, 'notes.png'), '--draw', join(dir, 'drawn'), '-w', '0', '-q');
    expect([r.code, r.stderr, r.stdout]).toEqual([1, `${join(dir, 'notes.png')}: not a PNG or JPEG file (starts with 6e 6f 74 20)\n`, '']);
    expect(tree(dir)).toEqual(['notes.png']);
  });
});
