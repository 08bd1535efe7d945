import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sacrebleuCases } from '../helpers/sacrebleu.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** `hibiki bleu` with file arguments relative to `dir`. */
function hibiki(dir: string, args: string[], input?: string) {
  const paths = args.map((a) => (a.endsWith('.txt') ? join(dir, a) : a));
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'bleu', ...paths], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const writeLines = (path: string, lines: Array<string | null>) => writeFileSync(path, lines.map((l) => `${l ?? ''}\n`).join(''));

describe('hibiki bleu', () => {
  const cases = sacrebleuCases();

  it('prints what sacrebleu prints for the same files (-f text by default, -f json with --json)', () => {
    expect(cases.cli.length).toBeGreaterThanOrEqual(10);
    for (const [i, c] of cases.cli.entries()) {
      const dir = mkdtempSync(join(tmpdir(), `hibiki-bleu-${i}-`));
      const { hypotheses, references } = cases.corpora[c.corpus]!;
      writeLines(join(dir, 'hyp.txt'), hypotheses);
      references.forEach((stream, k) => writeLines(join(dir, `ref${k}.txt`), stream));
      const r = hibiki(dir, [...c.refs, '-i', 'hyp.txt', ...c.hibiki_args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, `sacrebleu ${c.sacrebleu_args.join(' ')} vs hibiki bleu ${c.hibiki_args.join(' ')}`).toBe(c.stdout);
    }
  });

  it('reads the hypotheses from stdin, with \\r\\n line ends', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-stdin-'));
    const { hypotheses, references } = cases.corpora.readme!;
    references.forEach((stream, k) => writeLines(join(dir, `ref${k}.txt`), stream));
    const r = hibiki(dir, ['ref0.txt', 'ref1.txt'], hypotheses.map((h) => `${h}\r\n`).join(''));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(cases.cli.find((c) => c.corpus === 'readme' && c.hibiki_args.length === 0)!.stdout);
  });

  it('names the file and both line counts when they differ: exit code 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-bad-'));
    writeLines(join(dir, 'hyp.txt'), ['a b', 'c d', 'e']);
    writeLines(join(dir, 'ref.txt'), ['a b', 'c d']);
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x61, 0x0a, 0x62, 0x0a]));
    const r = hibiki(dir, ['ref.txt', '-i', 'hyp.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: ${join(dir, 'ref.txt')} has 2 lines but ${join(dir, 'hyp.txt')} has 3`);
    const latin1 = hibiki(dir, ['latin1.txt', '-i', 'hyp.txt']);
    expect([latin1.code, latin1.stderr.trim()]).toEqual([1, `error: ${join(dir, 'latin1.txt')} is not valid UTF-8`]);
  });

  it('refuses bad flags with one line and exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-usage-'));
    writeLines(join(dir, 'a.txt'), ['a']);
    const bad: Array<[string[], RegExp]> = [
      [['--tokenize', 'zh'], /unknown --tokenize "zh" \(valid: 13a, intl, char, none\)/],
      [['--smooth', 'add-one'], /unknown --smooth "add-one" \(valid: exp, floor, add-k, none\)/],
      [['--metrics', 'bleu,ter'], /unknown metric "ter" \(valid: bleu, chrf\)/],
      [['-w', '-1'], /--width must be a number from 0 to 20, got "-1"/],
      [['--chrf-word-order', '1.5'], /--chrf-word-order must be a whole number, got 1.5/],
      [['-i', 'missing.txt'], /cannot read .*missing\.txt/],
    ];
    for (const [args, message] of bad) {
      const r = hibiki(dir, ['a.txt', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
  });
});
