// Hostile output paths through every flag that writes (issue 21): each
// command is refused before any work with exit code 2, one line naming the
// flag, the path and what is wrong, and nothing written (no .partial, no
// temporary file, no probe, no folder); or, for a path that is merely
// unusual (spaces, non-ASCII, a trailing / on a folder), it works. The
// commands run from source, several at once; a hang is killed and fails.
import { fileURLToPath } from 'node:url';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'vitest';
import { hibikiAsync } from '../helpers/cli.js';

const fixture = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const DIGIT = fixture('../samples/images/digits/3.png');
const SHAPES = fixture('../samples/images/shapes/shapes-0.png');

// Root passes every permission check, so a chmod 000 folder is writable to it: there that case must work.
const ROOT = process.getuid?.() === 0;

const inputs = mkdtempSync(join(tmpdir(), 'hibiki-cli-paths-inputs-'));
writeFileSync(join(inputs, 'one.en'), 'the cat sees a small dog.\n');
const coco = JSON.parse(readFileSync(fixture('fixtures/detection/detection_published.json'), 'utf8')).coco_cases[0];
writeFileSync(join(inputs, 'gt.json'), JSON.stringify(coco.gt));
writeFileSync(join(inputs, 'dt.json'), JSON.stringify(coco.detections));

/** A flag that writes: a file or a folder, a name for it, and the command line that writes it to `path`. */
interface Writer {
  flag: string;
  kind: 'file' | 'folder';
  name: string;
  args: (path: string) => string[];
}

const WRITERS: Writer[] = [
  { flag: '--output', kind: 'file', name: 'out.wav', args: (p) => ['generate', '-m', fixture('fixtures/wavenet-k2'), '-s', '0.01', '-w', '0', '-q', '-o', p] },
  { flag: '--output', kind: 'file', name: 'out.ja', args: (p) => ['translate', '-m', fixture('../models/translate-en-ja'), '-i', join(inputs, 'one.en'), '-w', '0', '-q', '-o', p] },
  { flag: '--json', kind: 'file', name: 'faces.json', args: (p) => ['detect', DIGIT, '-w', '0', '-q', '--json', p] },
  { flag: '--plot', kind: 'file', name: 'pr.png', args: (p) => ['evaluate', '--gt', join(inputs, 'gt.json'), '--dt', join(inputs, 'dt.json'), '--plot', p] },
  { flag: '--output', kind: 'file', name: 'bench.json', args: (p) => ['bench', '--filter', 'f32_add', '--time', '1', '--no-reference', '-o', p] },
  { flag: '--output', kind: 'folder', name: 'masks', args: (p) => ['segment', SHAPES, '-w', '0', '-o', p] },
  { flag: '--draw', kind: 'folder', name: 'drawn', args: (p) => ['detect', DIGIT, '-w', '0', '-q', '--draw', p] },
];

/**
 * A hostile path, made in `sandbox` (which holds a regular file `file.txt`
 * and a folder `locked` with mode 000): the path, and either the line the
 * command must be refused with (after "error: FLAG: ") or null: it works.
 */
interface HostilePath {
  what: string;
  kind: 'file' | 'folder';
  linuxOnly?: boolean;
  make: (sandbox: string, name: string) => { path: string; refusal: string | null };
}

const PATHS: HostilePath[] = [
  // Where a file is needed.
  { what: 'a folder', kind: 'file', make: (s, n) => {
    mkdirSync(join(s, n));
    return { path: join(s, n), refusal: `${join(s, n)} is a folder, not a file` };
  } },
  { what: 'a name ending in /', kind: 'file', make: (s, n) => ({ path: `${join(s, n)}/`, refusal: `${join(s, n)}/ ends in /: it names a folder, not a file` }) },
  { what: 'a path under a regular file', kind: 'file',
    make: (s, n) => ({ path: join(s, 'file.txt', n), refusal: `cannot write ${join(s, 'file.txt', n)}: ${join(s, 'file.txt')} is a file, not a folder` }) },
  { what: 'a folder that does not exist', kind: 'file',
    make: (s, n) => ({ path: join(s, 'missing', n), refusal: `cannot write ${join(s, 'missing', n)}: the folder ${join(s, 'missing')} does not exist` }) },
  { what: '/proc/x', kind: 'file', linuxOnly: true,
    make: (_, n) => ({ path: `/proc/hibiki-${n}`, refusal: `cannot write /proc/hibiki-${n}: cannot create files in /proc: the file system refuses (ENOENT)` }) },
  { what: 'a folder with mode 000', kind: 'file',
    make: (s, n) => ({ path: join(s, 'locked', n), refusal: ROOT ? null : `cannot write ${join(s, 'locked', n)}: permission denied (EACCES)` }) },
  { what: 'an empty name', kind: 'file', make: () => ({ path: '', refusal: 'the file name is empty' }) },
  { what: 'spaces and non-ASCII', kind: 'file', make: (s, n) => {
    mkdirSync(join(s, 'dossier résumé 日本'));
    return { path: join(s, 'dossier résumé 日本', `naïve ü ${n}`), refusal: null };
  } },
  // Where a folder is needed.
  { what: 'a regular file', kind: 'folder', make: (s) => ({ path: join(s, 'file.txt'), refusal: `${join(s, 'file.txt')} is a file, not a folder` }) },
  { what: 'a path under a regular file', kind: 'folder',
    make: (s, n) => ({ path: join(s, 'file.txt', n), refusal: `cannot create the folder ${join(s, 'file.txt', n)}: ${join(s, 'file.txt')} is a file, not a folder` }) },
  { what: '/proc/x', kind: 'folder', linuxOnly: true,
    make: (_, n) => ({ path: `/proc/hibiki-${n}`, refusal: `cannot create the folder /proc/hibiki-${n}: cannot create folders in /proc: the file system refuses (ENOENT)` }) },
  { what: '/proc/x/y', kind: 'folder', linuxOnly: true,
    make: (_, n) => ({ path: `/proc/hibiki-${n}/y`, refusal: `cannot create the folder /proc/hibiki-${n}/y: cannot create folders in /proc: the file system refuses (ENOENT)` }) },
  { what: 'a new folder in a folder with mode 000', kind: 'folder',
    make: (s, n) => ({ path: join(s, 'locked', n), refusal: ROOT ? null : `cannot create the folder ${join(s, 'locked', n)}: permission denied (EACCES)` }) },
  { what: 'a folder with mode 000', kind: 'folder',
    make: (s) => ({ path: join(s, 'locked'), refusal: ROOT ? null : `cannot write in the folder ${join(s, 'locked')}: permission denied (EACCES)` }) },
  { what: 'an empty name', kind: 'folder', make: () => ({ path: '', refusal: 'the folder name is empty' }) },
  { what: 'new folders with spaces and non-ASCII, two levels', kind: 'folder',
    make: (s, n) => ({ path: join(s, 'new folder', `ü 日本 ${n}`), refusal: null }) },
  { what: 'a new folder named with a trailing /', kind: 'folder', make: (s, n) => ({ path: `${join(s, n)}/`, refusal: null }) },
];

/** Every path under `dir`, relative, sorted; a folder that cannot be read (mode 000, not root) is listed, not entered. */
function tree(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, prefix));
  } catch {
    return [];
  }
  return names.sort().flatMap((name) => {
    const rel = join(prefix, name);
    return statSync(join(dir, rel)).isDirectory() ? [`${rel}/`, ...tree(dir, rel)] : [rel];
  });
}

const CASES = WRITERS.flatMap((writer) => PATHS.filter((p) => p.kind === writer.kind && (!p.linuxOnly || process.platform === 'linux'))
  .map((path) => [`${writer.args('PATH')[0]} ${writer.flag} at ${path.what}`, writer, path] as const));

describe.concurrent(`${CASES.length} hostile output paths through every flag that writes`, () => {
  it.for(CASES)('%s', async ([, writer, hostile], { expect }) => {
    const sandbox = mkdtempSync(join(tmpdir(), 'hibiki-cli-paths-'));
    writeFileSync(join(sandbox, 'file.txt'), 'a regular file\n');
    mkdirSync(join(sandbox, 'locked'));
    const { path, refusal } = hostile.make(sandbox, writer.name);
    chmodSync(join(sandbox, 'locked'), 0o000);
    const before = tree(sandbox);
    const r = await hibikiAsync({ timeoutMs: 60_000 }, ...writer.args(path));
    chmodSync(join(sandbox, 'locked'), 0o755);
    const after = tree(sandbox);
    if (refusal !== null) {
      expect([r.code, r.stderr, r.stdout]).toEqual([2, `error: ${writer.flag}: ${refusal}\n`, '']);
      expect(after).toEqual(before);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // What was asked for is there, and nothing else is new: no temporary file, journal or probe.
    const made = after.filter((f) => !before.includes(f));
    expect(made.filter((f) => /\.tmp$|\.partial$|hibiki-probe/.test(f))).toEqual([]);
    if (writer.kind === 'file') {
      expect(statSync(path).isFile()).toBe(true);
      expect(made.filter((f) => !f.endsWith('/'))).toEqual([relative(sandbox, path)]);
    } else {
      expect(statSync(path).isDirectory()).toBe(true);
      expect(readdirSync(path).length).toBeGreaterThan(0);
    }
    expect(existsSync(join(sandbox, 'file.txt'))).toBe(true);
  });
});
