import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { RELAXED_WASM_URL, WASM_URL, kernelBuild, relaxedSimdSupported, selectKernelBuild } from '../../src/runtime/wasm.js';
import { matmul } from '../../src/runtime/ops/gemm.js';
import { Rng } from '../../src/runtime/rng.js';
import { errorOf } from '../helpers/errors.js';

// The two kernel builds (src/runtime/wasm.ts): SIMD128, and relaxed SIMD whose multiply–add is fused.
describe('kernel builds', () => {
  const runtimes = {
    simd128: Runtime.create({ module: new WebAssembly.Module(readFileSync(WASM_URL)) }),
    relaxed: relaxedSimdSupported() ? Runtime.create({ module: new WebAssembly.Module(readFileSync(RELAXED_WASM_URL)) }) : undefined,
  };
  const product = (rt: Runtime, a: number[], b: number[], [M, K, N]: number[]) =>
    rt.scope(() => matmul(rt, rt.tensor([M!, K!], a), rt.tensor([K!, N!], b)).toArray());

  it('runs relaxed SIMD on this Node (22 and later by default, 20 and 21 with the V8 flag hibiki sets)', () => {
    expect(relaxedSimdSupported()).toBe(true);
    expect(['relaxed', 'simd128']).toContain(kernelBuild());
  });

  it('fuses the multiply–add in the relaxed build only: one rounding instead of two', () => {
    // −(1 + 2⁻¹¹) + (1 + 2⁻¹²)² = 2⁻²⁴ exactly; rounding the square to float32 first loses it (a tie, to even).
    const x = 1 + 2 ** -12;
    const [M, K, N] = [1, 2, 4]; // [−(1 + 2⁻¹¹), x] · [[1…], [x…]]: the sum starts at −(1 + 2⁻¹¹), then adds x·x
    const a = [-(1 + 2 ** -11), x];
    const b = [1, 1, 1, 1, x, x, x, x];
    expect(Array.from(product(runtimes.simd128, a, b, [M, K, N]))).toEqual([0, 0, 0, 0]);
    expect(Array.from(product(runtimes.relaxed!, a, b, [M, K, N]))).toEqual(Array(4).fill(2 ** -24));
  });

  it('agrees within float32 tolerance, and each build gives a row the same bits alone or in any batch', () => {
    const rng = new Rng(3);
    const [M, K, N] = [37, 300, 70];
    const a = Array.from(rng.uniform(M * K));
    const b = Array.from(rng.uniform(K * N));
    const exact = Array.from({ length: M * N }, (_, i) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[Math.floor(i / N) * K + k]! * b[k * N + (i % N)]!;
      return s;
    });
    for (const rt of [runtimes.simd128, runtimes.relaxed!]) {
      const all = product(rt, a, b, [M, K, N]);
      all.forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(1e-4));
      for (const row of [0, 5, 36]) {
        const alone = product(rt, a.slice(row * K, (row + 1) * K), b, [1, K, N]);
        expect(Array.from(alone)).toEqual(Array.from(all.subarray(row * N, (row + 1) * N)));
      }
    }
    expect(Array.from(product(runtimes.simd128, a, b, [M, K, N]))).not.toEqual(Array.from(product(runtimes.relaxed!, a, b, [M, K, N])));
  });

  it('is chosen before the first compile; other names are refused', () => {
    expect(errorOf(() => selectKernelBuild('fast' as 'relaxed'))).toMatch(/kernel build must be relaxed, simd128 or auto, got "fast"/);
    Runtime.create(); // compiles this thread's build
    const other = kernelBuild() === 'relaxed' ? 'simd128' : 'relaxed';
    expect(errorOf(() => selectKernelBuild(other))).toMatch(/kernels are already compiled in this thread: choose the build before the first model or runtime/);
  });

  it('HIBIKI_SIMD chooses for the CLI, and `hibiki bench` names the build', () => {
    const main = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
    for (const build of ['simd128', 'relaxed']) {
      const out = execFileSync(process.execPath, [main, 'bench', '-f', '^gemm 64', '--no-reference', '-t', '20', '--json'], { env: { ...process.env, HIBIKI_SIMD: build } });
      expect(JSON.parse(out.toString()).system.kernels).toBe(build);
    }
    let stderr = '';
    try {
      execFileSync(process.execPath, [main, 'bench', '-f', '^gemm 64', '--no-reference', '--json'], { env: { ...process.env, HIBIKI_SIMD: 'avx' }, stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/HIBIKI_SIMD must be relaxed, simd128 or auto, got "avx"/);
  });
});
