import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hibikiWith } from '../helpers/cli.js';
import { sacrebleuCases } from '../helpers/sacrebleu.js';

/** `hibiki bleu` with file arguments relative to `dir`. */
const hibiki = (dir: string, args: string[], input?: string) =>
  hibikiWith({ input }, 'bleu', ...args.map((a) => (a.endsWith('.txt') ? join(dir, a) : a)));

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
      // hibiki's own spelling, and sacreBLEU's command line unchanged (-tok, -lc, -sv, -f json, -m bleu chrf, …)
      for (const args of [c.hibiki_args, c.sacrebleu_args]) {
        const r = hibiki(dir, [...c.refs, '-i', 'hyp.txt', ...args]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, `sacrebleu ${c.sacrebleu_args.join(' ')} vs hibiki bleu ${args.join(' ')}`).toBe(c.stdout);
      }
    }
  });

  describe('sacreBLEU 2.x flags, against the values its fixtures give', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-sacrebleu-'));
    const { hypotheses, references } = cases.corpora.mixed!;
    writeLines(join(dir, 'hyp.txt'), hypotheses);
    writeLines(join(dir, 'ref.txt'), references[0]!);
    const bleu = (options: Record<string, unknown>) =>
      cases.bleu_corpus.find((c) => c.corpus === 'mixed' && Object.entries(options).every(([k, v]) => c.options[k] === v))!.expected;
    const chrf = cases.chrf_corpus.find((c) => c.corpus === 'mixed' && c.options.word_order === 0 && !c.options.whitespace && !c.options.eps_smoothing && !c.options.lowercase)!.expected;
    const plain = bleu({ tokenize: '13a', smooth_method: 'exp', lowercase: false, effective_order: false });

    it('-m bleu chrf -b -w 2: each score alone, two decimals, one per line', () => {
      const r = hibiki(dir, ['ref.txt', '-i', 'hyp.txt', '-m', 'bleu', 'chrf', '-b', '-w', '2']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${plain.score.toFixed(2)}\n${chrf.score.toFixed(2)}\n`);
      expect(r.stdout).toBe('44.37\n50.68\n');
    });

    it('-b with -f json: the scores as a JSON array, as sacreBLEU prints them', () => {
      const r = hibiki(dir, ['ref.txt', '-i', 'hyp.txt', '-m', 'bleu', 'chrf', '-b', '-w', '3', '-f', 'json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`[\n${plain.score.toFixed(3)},\n${chrf.score.toFixed(3)}\n]\n`);
      expect(hibiki(dir, ['ref.txt', '-i', 'hyp.txt', '--score-only']).stdout).toBe(`${plain.score.toFixed(1)}\n`);
    });

    it('-tok intl -lc (and -tok=intl, --tokenize intl --lowercase): the fixture line', () => {
      const want = bleu({ tokenize: 'intl', smooth_method: 'exp', lowercase: true, effective_order: false });
      for (const flags of [['-tok', 'intl', '-lc'], ['-tok=intl', '-lc'], ['--tokenize', 'intl', '--lowercase']]) {
        const r = hibiki(dir, ['ref.txt', '-i', 'hyp.txt', ...flags, '-w', '2']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, flags.join(' ')).toBe(`${want.line_signed}\n`);
      }
    });

    it('-f json: the score and signature of the fixture', () => {
      const want = bleu({ tokenize: 'char', smooth_method: 'add-k', lowercase: false, effective_order: false });
      const r = hibiki(dir, ['ref.txt', '-i', 'hyp.txt', '-tok', 'char', '-s', 'add-k', '-f', 'json', '-w', '4']);
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout);
      expect([json.name, json.score, json.signature]).toEqual(['BLEU', Number(want.score.toFixed(4)), want.signature]);
      expect(r.stdout).toBe(hibiki(dir, ['ref.txt', '-i', 'hyp.txt', '--tokenize', 'char', '--smooth', 'add-k', '--json', '-w', '4']).stdout);
    });

    // sacreBLEU's -sl: BLEU with effective order; lines are rstripped, so cases whose text changes under that are left out.
    const sentenceFile = (name: string, texts: string[]) => writeLines(join(dir, name), texts);
    const plainLine = (t: string | null): t is string => t !== null && !/[\n\r]/.test(t) && t === t.replace(/\s+$/u, '');
    const flagsOf = (o: Record<string, unknown>) => [
      ...(o.tokenize ? ['-tok', String(o.tokenize)] : []), ...(o.smooth_method ? ['-s', String(o.smooth_method)] : []),
      ...(o.smooth_value ? ['-sv', String(o.smooth_value)] : []), ...(o.lowercase ? ['-lc'] : []),
    ];

    it('--sentence-level (-sl): one line per segment, each the fixture\'s sentence BLEU', () => {
      const usable = cases.bleu_sentence.filter((c) => c.options.effective_order !== false && plainLine(c.hypothesis) && c.references.every(plainLine));
      expect(usable.length).toBeGreaterThanOrEqual(8);
      // One run per set of options (with the reference count of its first case): each line of a run is one case.
      const groups = new Map<string, typeof usable>();
      for (const c of usable) {
        const options = JSON.stringify(c.options);
        const group = groups.get(options);
        if (!group) groups.set(options, [c]);
        else if (group[0]!.references.length === c.references.length) group.push(c);
      }
      expect(groups.size).toBeGreaterThanOrEqual(6);
      for (const [key, group] of groups) {
        sentenceFile('s-hyp.txt', group.map((c) => c.hypothesis));
        const refs = group[0]!.references.map((_, k) => {
          sentenceFile(`s-ref${k}.txt`, group.map((c) => c.references[k]!));
          return `s-ref${k}.txt`;
        });
        const r = hibiki(dir, [...refs, '-i', 's-hyp.txt', '-sl', '-w', '2', ...flagsOf(group[0]!.options)]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, key).toBe(group.map((c) => `${c.expected.line_signed}\n`).join(''));
      }
    });

    it('--sentence-level -m chrf -b: the fixture\'s sentence chrF, score alone', () => {
      const usable = cases.chrf_sentence.filter((c) => Object.keys(c.options).length === 4 && plainLine(c.hypothesis) && c.references.every(plainLine) && c.references.length === 1);
      expect(usable.length).toBeGreaterThanOrEqual(3);
      for (const c of usable) {
        sentenceFile('c-hyp.txt', [c.hypothesis]);
        sentenceFile('c-ref.txt', [c.references[0]!]);
        const o = c.options;
        const flags = ['-cw', String(o.word_order), ...(o.whitespace ? ['--chrf-whitespace'] : []), ...(o.eps_smoothing ? ['--chrf-eps-smoothing'] : []),
          ...(o.lowercase ? ['--chrf-lowercase'] : [])];
        const r = hibiki(dir, ['c-ref.txt', '-i', 'c-hyp.txt', '-m', 'chrf', '-sl', '-b', '-w', '4', ...flags]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout, JSON.stringify(o)).toBe(`${c.expected.score.toFixed(4)}\n`);
      }
    });
  });

  it('reads the hypotheses from stdin, with \\r\\n line ends: without -i, and with -i -', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-stdin-'));
    const { hypotheses, references } = cases.corpora.readme!;
    references.forEach((stream, k) => writeLines(join(dir, `ref${k}.txt`), stream));
    const want = cases.cli.find((c) => c.corpus === 'readme' && c.hibiki_args.length === 0)!.stdout;
    for (const args of [['ref0.txt', 'ref1.txt'], ['ref0.txt', 'ref1.txt', '-i', '-']]) {
      const r = hibiki(dir, args, hypotheses.map((h) => `${h}\r\n`).join(''));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(want);
    }
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

  it('refuses bad flags with one line and exit code 2, before reading any file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-usage-'));
    writeLines(join(dir, 'a.txt'), ['a']);
    const bad: Array<[string[], string]> = [
      [['--tokenize', 'zh'], 'option \'--tokenize <name>\' argument \'zh\' is invalid. --tokenize must be one of 13a, intl, char, none, got "zh"'],
      [['-s', 'add-one'], 'option \'-s, --smooth-method <name>\' argument \'add-one\' is invalid. --smooth-method must be one of exp, floor, add-k, none, got "add-one"'],
      [['--smooth', 'add-one'], '--smooth-method must be one of exp, floor, add-k, none, got "add-one"'],
      [['--metrics', 'bleu,ter'], '--metrics must name bleu or chrf, got "ter"'],
      [['-m', 'bleu', 'ter'], '--metrics must name bleu or chrf, got "ter"'],
      [['-w', '-1'], 'option \'-w, --width <n>\' argument \'-1\' is invalid. --width must be a whole number from 0 to 20, got "-1"'],
      [['--chrf-word-order', '1.5'], 'option \'--chrf-word-order <n>\' argument \'1.5\' is invalid. --chrf-word-order must be a whole number from 0 to 100, got "1.5"'],
      [['-f', 'latex'], 'option \'-f, --format <format>\' argument \'latex\' is invalid. --format must be one of text, json, got "latex"'],
      [['--json', '-f', 'text'], '--json and -f text ask for two formats'],
      [['-sl', '-m', 'bleu', 'chrf'], '--sentence-level takes one metric, got bleu and chrf'],
      [['-sl', '-ci'], '--sentence-level has no --confidence (bootstrap needs a corpus)'],
      [['-sh'], "-sh (sacreBLEU's --short) is not supported by hibiki bleu"],
      [['--frobnicate'], "unknown option '--frobnicate'"],
      [['-i', 'missing.txt', '-w', '99'], 'option \'-w, --width <n>\' argument \'99\' is invalid. --width must be a whole number from 0 to 20, got "99"'],
    ];
    for (const [args, message] of bad) {
      const r = hibiki(dir, ['a.txt', ...args], 'a\n');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`error: ${message}\n`);
      expect(r.stdout).toBe('');
    }
    const none = hibiki(dir, []);
    expect([none.code, none.stderr]).toEqual([2, "error: missing required argument 'refs'\n"]);
  });

  it('a file that cannot be read is a data error: exit code 1, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-bleu-data-'));
    writeLines(join(dir, 'a.txt'), ['a']);
    const r = hibiki(dir, ['a.txt', '-i', 'missing.txt']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: --input: cannot read ${join(dir, 'missing.txt')}: ENOENT.*\\n$`));
    expect(r.stdout).toBe('');
  });
});
