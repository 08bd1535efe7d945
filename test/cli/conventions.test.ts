// The conventions every `hibiki` command keeps (docs/cli.md): one meaning per
// flag, exit code 2 for the command line and 1 for the data, one error line.
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXIT, errorText, exitCodeOf, usage } from '../../src/cli/exit.js';
import { JSON_HELP } from '../../src/cli/options.js';
import { buildProgram, prepareArgs } from '../../src/cli/program.js';
import { formatEta } from '../../src/cli/progress.js';
import { HibikiError } from '../../src/errors.js';
import { hibiki } from '../helpers/cli.js';

const IMAGE = fileURLToPath(new URL('../../samples/images/astronaut.png', import.meta.url));
const WAVENET = fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url));
const commands = (): readonly Command[] => buildProgram().commands;

describe('the conventions of every command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-conventions-'));
  writeFileSync(join(dir, 'ref.txt'), 'a b c\n');
  const missing = join(dir, 'missing');

  // One usage error and one data error per command: [arguments, exit code, the one line on stderr].
  const cases: Array<[string[], number, string]> = [
    [['generate', '--format', 'mp3'], 2, 'option \'--format <format>\' argument \'mp3\' is invalid. --format must be one of pcm16, f32, got "mp3"'],
    [['generate', '-m', missing], 1, `--model: cannot read ${missing}/config.json: is "${missing}" a model directory?`],
    [['translate', '--beam', '0'], 2, 'option \'-b, --beam <k>\' argument \'0\' is invalid. --beam must be a whole number from 1 to 64, got "0"'],
    [['translate', '-i', missing], 1, `--input: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`],
    [['detect', IMAGE, '--score', '2'], 2, 'option \'--score <s>\' argument \'2\' is invalid. --score must be a number from 0 to 1, got "2"'],
    [['detect', IMAGE, '-m', missing], 1, `--model: cannot read ${missing}/config.json: is "${missing}" a model directory?`],
    [['classify', IMAGE, '--top', 'all'], 2, 'option \'-k, --top <k>\' argument \'all\' is invalid. --top must be a whole number from 1 to 1000, got "all"'],
    [['classify', IMAGE, '-m', WAVENET], 1, `--model: ${WAVENET} is a wavenet model, not an image classifier (mobilenet_v2, densenet)`],
    [['segment', IMAGE, '--workers', '1.5'], 2, 'option \'-w, --workers <n>\' argument \'1.5\' is invalid. --workers must be a whole number from 0 to 256, got "1.5"'],
    [['segment', IMAGE, '-m', missing, '-o', join(dir, 'segmented')], 1, `--model: cannot read ${missing}/config.json: is "${missing}" a model directory?`],
    [['evaluate', '--gt', 'gt.json'], 2, "required option '--dt <path>' not specified"],
    [['evaluate', '--gt', missing, '--dt', missing], 1, `--gt: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`],
    [['info', WAVENET, '-m', WAVENET], 2, `give the model directory once: ${WAVENET} or --model ${WAVENET}`],
    [['info', missing], 1, `--model: cannot read ${missing}/config.json: is "${missing}" a model directory?`],
    [['bench', '--time', 'soon'], 2, 'option \'-t, --time <ms>\' argument \'soon\' is invalid. --time must be a number from 1 to 60000, got "soon"'],
    // bench reads no data: its one output path is checked before any work, a usage error like its flags.
    [['bench', '-o', join(missing, 'bench.json')], 2, `--output: cannot write ${join(missing, 'bench.json')}: the folder ${missing} does not exist`],
    [['bleu', join(dir, 'ref.txt'), '-f', 'latex'], 2, 'option \'-f, --format <format>\' argument \'latex\' is invalid. --format must be one of text, json, got "latex"'],
    [['bleu', join(dir, 'ref.txt'), '-i', missing], 1, `--input: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`],
    [['serve', '--port', '70000'], 2, 'option \'-p, --port <n>\' argument \'70000\' is invalid. --port must be a whole number from 0 to 65535, got "70000"'],
    [['serve', '--port', '0', '--translate', missing, '--generate', 'none', '--detect', 'none', '--classify', 'none', '--segment', 'none'], 1,
      `cannot read ${missing}/config.json: is "${missing}" a model directory?`],
    [['worker', '--queue', 'http://x'], 2, '--queue http://x: expected a redis:// or rediss:// URL, got http:'],
    [['worker', '--queue', 'redis://127.0.0.1:1', '-m', missing], 1, `cannot read ${missing}/config.json: is "${missing}" a model directory?`],
  ];

  it('every command is in the table above, with one usage error (2) and one data error (1) (bench reads no data: two usage errors)', () => {
    const names = commands().map((c) => c.name()).sort();
    expect([...new Set(cases.map(([args]) => args[0]))].sort()).toEqual(names);
    for (const name of names) {
      expect(cases.filter(([args]) => args[0] === name).map(([, code]) => code).sort(), name).toEqual(name === 'bench' ? [2, 2] : [1, 2]);
    }
  });

  it.each(cases)('hibiki %j: exit code %i, that one line, nothing on stdout, nothing written', (args, code, line) => {
    const before = readdirSync(dir);
    const r = hibiki(...args);
    expect([r.code, r.stderr, r.stdout]).toEqual([code, `error: ${line}\n`, '']);
    expect(readdirSync(dir)).toEqual(before);
  });

  it('-q is --quiet in every command that has it: a queue URL after it is refused, naming --queue', () => {
    for (const command of ['translate', 'generate', 'detect', 'worker']) {
      const r = hibiki(command, '-q', 'redis://10.0.0.1:6379');
      expect([r.code, r.stderr], command).toEqual([2, 'error: -q means --quiet; give the queue as --queue redis://10.0.0.1:6379\n']);
    }
    expect(() => prepareArgs(['detect', 'a.png', '-q', 'rediss://h'])).toThrow(/give the queue as --queue rediss:\/\/h/);
    expect(prepareArgs(['detect', 'a.png', '-q', '--', '-q', 'redis://h'])).toEqual(['detect', 'a.png', '-q', '--', '-q', 'redis://h']);
  });

  it('one meaning per flag: -m, -w, -o, -q, --json and --queue are the same option wherever they appear (bleu keeps sacreBLEU\'s letters)', () => {
    const longOf: Record<string, string> = { '-m': '--model', '-w': '--workers', '-o': '--output', '-q': '--quiet' };
    const bleuLongOf: Record<string, string> = { '-m': '--metrics', '-w': '--width', '-q': '--quiet' };
    const seen = new Map<string, string[]>();
    for (const command of commands()) {
      for (const option of command.options) {
        if (option.short && (command.name() === 'bleu' ? bleuLongOf : longOf)[option.short]) {
          expect(option.long, `${command.name()} ${option.short}`).toBe((command.name() === 'bleu' ? bleuLongOf : longOf)[option.short]);
        }
        if (option.long && ['--model', '--workers', '--output', '--quiet', '--queue'].includes(option.long) && !option.hidden) {
          expect(option.short ?? '', `${command.name()} ${option.long}`).toBe(option.long === '--queue' ? '' : option.long.slice(1, 3));
          seen.set(option.long, [...(seen.get(option.long) ?? []), command.name()]);
        }
        if (option.long === '--json') expect(option.description.startsWith(JSON_HELP), `${command.name()} --json`).toBe(true);
      }
    }
    expect(seen.get('--quiet')).toEqual(['generate', 'translate', 'detect', 'bleu']);
    expect(seen.get('--queue')).toEqual(['generate', 'translate', 'detect', 'worker']);
    expect(seen.get('--output')).toEqual(['generate', 'translate', 'segment', 'bench']);
  });

  it('old spellings keep working but are not in --help: generate and segment --out, bleu --smooth', () => {
    const hidden = commands().flatMap((c) => c.options.filter((o) => o.hidden).map((o) => `${c.name()} ${o.long}`));
    expect(hidden.sort()).toEqual(['bleu --smooth', 'generate --out', 'segment --out']);
    for (const name of ['generate', 'segment', 'bleu']) {
      const help = commands().find((c) => c.name() === name)!.helpInformation();
      expect(help).not.toMatch(/--out |--smooth /);
    }
  });
});

describe('exit codes, in one place', () => {
  it('commander errors are usage (2) except --help and --version (0); HibikiErrors are data errors (1)', () => {
    let parseError: unknown;
    const program = buildProgram();
    for (const command of program.commands) command.configureOutput({ outputError: () => {} });
    try {
      program.parse(['translate', '--beam', '0'], { from: 'user' });
    } catch (e) {
      parseError = e;
    }
    expect(exitCodeOf(parseError)).toBe(EXIT.usage);
    expect(errorText(parseError)).toBeUndefined(); // commander printed it already
    let usageError: unknown;
    try {
      usage('--beam 0 is not a beam');
    } catch (e) {
      usageError = e;
    }
    expect([exitCodeOf(usageError), errorText(usageError)]).toEqual([2, 'error: --beam 0 is not a beam']);
    for (const code of ['E_BAD_INPUT', 'E_IO', 'E_MODEL_FORMAT', 'E_DEPENDENCY', 'E_INTERNAL'] as const) {
      const e = new HibikiError(code, 'x.png: not a PNG or JPEG file');
      expect([exitCodeOf(e), errorText(e)]).toEqual([1, 'error: x.png: not a PNG or JPEG file']);
    }
    expect(exitCodeOf(new TypeError('a bug'))).toBe(1);
    expect(errorText(new TypeError('a bug'))).toMatch(/^TypeError: a bug\n\s+at /);
  });

  it('--help and --version exit 0', () => {
    expect(hibiki('--version').code).toBe(0);
    const help = hibiki('translate', '--help');
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^Usage: hibiki translate \[options\]/);
    expect(hibiki().code).toBe(2);
  });
});

describe('the progress bar', () => {
  it('reads "ETA --" until cli-progress has an estimate (not " 0s", "LLs" for NULL or "NFs" for INF)', () => {
    const options = { autopaddingChar: ' ' } as Parameters<typeof formatEta>[1];
    expect(formatEta('0', options, 5)).toBe('--');
    expect(formatEta('NULL', options, 5)).toBe('--');
    expect(formatEta('INF', options, 5)).toBe('--');
    expect(formatEta(Number.NaN, options, 5)).toBe('--');
    expect(formatEta(7, options, 5)).toBe(' 7s');
    expect(formatEta(125, options, 5)).toBe(' 2m 5s');
  });
});
