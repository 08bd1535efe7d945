import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/io/wav.js';

// The samples import 'hibiki' itself (the built package, as users do), so
// this runs them exactly as the README tells users to.
function runSample(file: string, ...args: string[]) {
  const path = fileURLToPath(new URL(`../../samples/${file}`, import.meta.url));
  return spawnSync(process.execPath, ['--import', 'tsx', path, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('samples', () => {
  it('linear.ts runs a PyTorch Linear layer and matches PyTorch', () => {
    const r = runSample('linear.ts');
    expect(r.status, r.stderr).toBe(0);
    const m = r.stdout.match(/^linear_33x64x9_gelu: \[33, 64\] → \[33, 9\] \(gelu\), max \|hibiki − PyTorch\| = (\S+)$/m);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(1e-4);
  });

  it('pool.ts runs a batch job on two workers, identical to in-process', () => {
    const r = runSample('pool.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('2 workers: 100 of 100 items done, 0 failed; identical to in-process: true');
    expect(r.stderr).toContain('100/100 items');
  });

  it('linear.ts names the missing tensor when the case does not exist', () => {
    const r = runSample('linear.ts', fileURLToPath(new URL('../fixtures/gemm.safetensors', import.meta.url)), 'nope');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/gemm\.safetensors: missing tensor "nope\.x"/);
  });

  it('vision.ts finds the faces, reads the digits and segments the shapes', () => {
    const r = runSample('vision.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^photo 0: face 0\.96 at \[181, 73, 83, 102\]$/m);
    expect(r.stdout).toMatch(/^photo 1: face (0\.99|1\.00) at \[\d+, \d+, \d+, \d+\]; face 0\.85 at /m);
    expect(r.stdout).toMatch(/^digits: 3 7$/m);
    expect(r.stdout).toMatch(/^shapes-0: background \d+, circle \d+, square \d+ pixels$/m);
  });

  it('translate.ts translates the held-out set on two workers and scores it as the README says', () => {
    const r = runSample('translate.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("I am the father's student. → watashi wa otousan no gakusei desu.\n");
    expect(r.stdout).toContain('1000 sentences, 967 exactly as the reference\n');
    // the figure of test/models/translate-en-ja.test.ts and the README
    expect(r.stdout).toMatch(/^BLEU\|nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.6\.0 = 98\.9 /m);
  });

  it('generate.ts writes four WAVs of middle C whose fundamentals are within 2 % of 261.6 Hz', () => {
    const out = mkdtempSync(join(tmpdir(), 'hibiki-sample-'));
    const r = runSample('generate.ts', out);
    expect(r.status, r.stderr).toBe(0);
    const found = [...r.stdout.matchAll(/c4-(\d)\.wav: 1\.00 s at 8000 Hz, fundamental ([\d.]+) Hz/g)];
    expect(found.map((m) => m[1])).toEqual(['0', '1', '2', '3']);
    for (const m of found) expect(Math.abs(Number(m[2]) / 261.63 - 1)).toBeLessThan(0.02);
    for (const i of [0, 1, 2, 3]) {
      const { samples, sampleRate } = decodeWav(readFileSync(join(out, `c4-${i}.wav`)), `c4-${i}.wav`);
      expect([samples.length, sampleRate]).toEqual([8000, 8000]);
    }
  });

  it('serve.ts starts the HTTP service in process, translates through it, and is refused past its limit', () => {
    const r = runSample('serve.ts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe([
      '200: neko wa chiisai desu. | satou san wa hana ga suki deshita.',
      'BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0 = 100.0',
      '400: {"error":"E_BAD_INPUT","message":"body/texts must NOT have more than 16 items"}',
      '',
    ].join('\n'));
  });
});
