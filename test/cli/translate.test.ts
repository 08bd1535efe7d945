import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));

function hibiki(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);

describe('hibiki translate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-translate-'));
  const input = join(dir, 'in.en');
  const ref = join(dir, 'ref.ja');
  writeFileSync(input, `${lines(join(SAMPLES, 'test.en')).slice(0, 40).join('\n')}\n\n`); // and a blank line
  writeFileSync(ref, `${lines(join(SAMPLES, 'test.ja')).slice(0, 40).join('\n')}\n\n`);

  it('translates in input order, the same lines in process and on two workers, and prints BLEU', () => {
    const a = hibiki('translate', '-i', input, '-o', join(dir, 'a.ja'), '-w', '0', '-r', ref);
    expect(a.code, a.stderr).toBe(0);
    const b = hibiki('translate', '-i', input, '-o', join(dir, 'b.ja'), '-w', '2');
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

  it('prints n-best lists with scores, best first', () => {
    const r = hibiki('translate', '-i', input, '-b', '4', '--n-best', '2', '-w', '0');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').slice(0, 40).map((l) => l.split('\t'));
    for (const row of rows) {
      expect(row).toHaveLength(4);
      expect(Number(row[1])).toBeGreaterThanOrEqual(Number(row[3]));
    }
  });

  it('resumes a killed run without redoing or losing a line', async () => {
    const full = join(SAMPLES, 'test.en');
    const out = join(dir, 'resumed.ja');
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'translate', '-i', full, '-o', out, '-w', '0'], { stdio: 'ignore' });
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
    const r = hibiki('translate', '-i', full, '-o', out, '-w', '0', '--resume');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resuming: ${journaled} of 1000 lines already translated`));
    const fresh = hibiki('translate', '-i', full, '-w', '2');
    expect(readFileSync(out, 'utf8')).toBe(fresh.stdout);
  }, 300_000);

  it('refuses bad flags and files with one line and exit code 2, writing nothing', () => {
    const before = readdirSync(dir).length;
    const cases: Array<[string[], RegExp]> = [
      [['-i', input, '-b', '2', '--n-best', '3'], /--n-best 3 is more than --beam 2/],
      [['-i', input, '-b', '0'], /--beam must be a number from 1 to 64, got "0"/],
      [['-i', join(dir, 'missing.en')], /cannot read --input .*missing\.en/],
      [['-i', input, '-r', join(SAMPLES, 'test.ja')], /--ref .*test\.ja has 1000 lines, the input has 41/],
      [['-i', input, '--resume'], /--resume needs --output/],
      [['-i', input, '-o', join(dir, 'no/such/dir/out.ja')], /cannot write .*out\.ja/],
      [['-i', input, '-m', join(dir)], /--model: .*config\.json/],
    ];
    for (const [args, message] of cases) {
      const r = hibiki('translate', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(readdirSync(dir).length).toBe(before);
  });

  it('refuses to resume from another job’s journal', () => {
    const out = join(dir, 'other.ja');
    writeFileSync(`${out}.partial`, '{"hibiki":"0","job":"translate","input":"x"}\n');
    const r = hibiki('translate', '-i', input, '-o', out, '-w', '0', '--resume');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/other\.ja\.partial belongs to another job/);
  });
});
