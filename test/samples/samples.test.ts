import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The samples import 'hibiki' itself (the built package, as users do), so
// this runs them exactly as the README tells users to.
function runSample(file: string, ...args: string[]) {
  const path = new URL(`../../samples/${file}`, import.meta.url).pathname;
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
    const r = runSample('linear.ts', new URL('../fixtures/gemm.safetensors', import.meta.url).pathname, 'nope');
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
});
