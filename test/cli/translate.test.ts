import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN, hibikiWith } from '../helpers/cli.js';

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
/** The toy English → Japanese model, whose held-out set is samples/test.{en,ja}. */
const TOY = fileURLToPath(new URL('../../models/translate-en-ja', import.meta.url));

const hibiki = (...args: string[]) => hibikiWith({ timeoutMs: 240_000 }, ...args);

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);

describe('hibiki translate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-translate-'));
  const input = join(dir, 'in.en');
  const ref = join(dir, 'ref.ja');
  writeFileSync(input, `${lines(join(SAMPLES, 'test.en')).slice(0, 40).join('\n')}\n\n`); // and a blank line
  writeFileSync(ref, `${lines(join(SAMPLES, 'test.ja')).slice(0, 40).join('\n')}\n\n`);

  it('translates in input order, the same lines in process and on two workers, and prints BLEU', () => {
    const a = hibiki('translate', '-m', TOY, '-i', input, '-o', join(dir, 'a.ja'), '-w', '0', '-r', ref);
    expect(a.code, a.stderr).toBe(0);
    const b = hibiki('translate', '-m', TOY, '-i', input, '-o', join(dir, 'b.ja'), '-w', '2');
    expect(b.code, b.stderr).toBe(0);
    const out = lines(join(dir, 'a.ja'));
    expect(out).toHaveLength(41);
    expect(out[40]).toBe('');
    expect(readFileSync(join(dir, 'b.ja'), 'utf8')).toBe(readFileSync(join(dir, 'a.ja'), 'utf8'));
    const bleu = /BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.6\.0 = ([\d.]+)/.exec(a.stderr);
    expect(bleu, a.stderr).not.toBeNull();
    expect(Number(bleu![1])).toBeGreaterThan(80);
    expect(existsSync(join(dir, 'a.ja.partial'))).toBe(false);
  });

  it('reads stdin without -i and with -i -, writes stdout without -o and with -o -: the lines -i FILE -o FILE gives', () => {
    const text = `${lines(input).slice(0, 6).join('\n')}\n`;
    writeFileSync(join(dir, 'six.en'), text);
    const file = hibiki('translate', '-m', TOY, '-i', join(dir, 'six.en'), '-o', join(dir, 'six.ja'), '-w', '0', '-q');
    expect([file.code, file.stderr]).toEqual([0, '']);
    const want = readFileSync(join(dir, 'six.ja'), 'utf8');
    expect(want.split('\n')).toHaveLength(7);
    for (const args of [[], ['-i', '-'], ['-o', '-'], ['-i', '-', '-o', '-']]) {
      const r = hibikiWith({ input: text, timeoutMs: 240_000 }, 'translate', '-m', TOY, '-w', '0', '-q', ...args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(want);
      expect(r.stderr).toBe('');
    }
  });

  it('prints n-best lists with scores, best first', () => {
    const r = hibiki('translate', '-m', TOY, '-i', input, '-b', '4', '--n-best', '2', '-w', '0');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').slice(0, 40).map((l) => l.split('\t'));
    for (const row of rows) {
      expect(row).toHaveLength(4);
      expect(Number(row[1])).toBeGreaterThanOrEqual(Number(row[3]));
    }
  });

  it('runs a Hugging Face Marian directory with its own generation settings unless the flags say otherwise', () => {
    const marian = fileURLToPath(new URL('../fixtures/marian/shared-swish', import.meta.url));
    const expected = JSON.parse(readFileSync(join(marian, 'expected.json'), 'utf8')) as { cases: Array<{ source: string; greedy_text: string; beam4_texts: string[] }> };
    const cases = expected.cases.filter((c) => c.source.trim() !== '').slice(0, 8);
    const sources = join(dir, 'marian.en');
    writeFileSync(sources, cases.map((c) => c.source).join('\n') + '\n');
    // generation_config.json says beam 4: two hypotheses need no --beam
    const nBest = hibiki('translate', '-m', marian, '-i', sources, '--n-best', '2', '-w', '0');
    expect(nBest.code, nBest.stderr).toBe(0);
    expect(nBest.stdout.split('\n').slice(0, -1).map((l) => l.split('\t').filter((_, i) => i % 2 === 0))).toEqual(cases.map((c) => c.beam4_texts));
    const greedy = hibiki('translate', '-m', marian, '-i', sources, '-b', '1', '-w', '0');
    expect(greedy.stdout).toBe(cases.map((c) => c.greedy_text).join('\n') + '\n');
  });

  it('resumes a killed run without redoing or losing a line', async () => {
    const full = join(SAMPLES, 'test.en');
    const out = join(dir, 'resumed.ja');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'translate', '-m', TOY, '-i', full, '-o', out, '-w', '0'], { stdio: 'ignore' });
    // Kill it once the journal holds a finished chunk.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        const journal = `${out}.partial`;
        if (existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 10) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 50);
      child.on('exit', () => { clearInterval(poll); reject(new Error('finished before it could be killed')); });
    });
    expect(existsSync(out)).toBe(false); // never half-written under the final name
    const journaled = readFileSync(`${out}.partial`, 'utf8').split('\n').length - 2;
    const r = hibiki('translate', '-m', TOY, '-i', full, '-o', out, '-w', '0', '--resume');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resuming: ${journaled} of 1000 lines already translated`));
    const fresh = hibiki('translate', '-m', TOY, '-i', full, '-w', '2');
    expect(readFileSync(out, 'utf8')).toBe(fresh.stdout);
  }, 300_000);

  it('refuses bad flags with one line and exit code 2, and unreadable files or models with exit code 1, writing nothing', () => {
    const before = readdirSync(dir).length;
    const cases: Array<[string[], number, RegExp]> = [
      [['-i', input, '-b', '2', '--n-best', '3'], 2, /^error: --n-best 3 is more than --beam 2\n$/],
      [['-i', input, '-b', '0'], 2, /^error: option '-b, --beam <k>' argument '0' is invalid\. --beam must be a whole number from 1 to 64, got "0"\n$/],
      [['-i', input, '--resume'], 2, /^error: --resume needs --output FILE \(the journal lives beside it\)\n$/],
      [['-i', input, '-q', 'redis://localhost'], 2, /^error: -q means --quiet; give the queue as --queue redis:\/\/localhost\n$/],
      [['-i', join(dir, 'missing.en')], 1, /^error: --input: cannot read .*missing\.en: ENOENT.*\n$/],
      [['-i', input, '-r', join(SAMPLES, 'test.ja')], 1, /^error: --ref .*test\.ja has 1000 lines, the input has 41\n$/],
      [['-i', input, '-o', join(dir, 'no/such/dir/out.ja')], 2, /^error: --output: cannot write .*out\.ja: the folder .*no\/such\/dir does not exist\n$/],
      [['-i', input, '-m', join(dir)], 1, /^error: --model: .*config\.json.*\n$/],
    ];
    for (const [args, code, message] of cases) {
      const r = hibiki('translate', ...args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(dir).length).toBe(before);
  });

  it('refuses to resume from another job’s journal', () => {
    const out = join(dir, 'other.ja');
    writeFileSync(`${out}.partial`, '{"hibiki":"0","job":"translate","input":"x"}\n');
    const r = hibiki('translate', '-m', TOY, '-i', input, '-o', out, '-w', '0', '--resume');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --resume: .*other\.ja\.partial belongs to another job .*; delete it to start over\n$/);
  });
});
