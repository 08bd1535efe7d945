import { describe, expect, it } from 'vitest';
import { packMatrix, packMatrixValues } from '../../src/runtime/ops/gemm.js';
import { embedInto } from '../../src/nn/embedding.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';

// packMatrixValues stages a transposed weight a block of whole strips at a time (8 MiB): the packed
// bytes must be those of packing it whole, whatever block boundary, partial last strip or block.
describe('packMatrixValues: Bᵀ staged in blocks packs to the same bytes as packed whole', () => {
  const rt = Runtime.create();
  const bytes = (ptr: number, K: number, N: number) => Array.from(rt.heap.f32(ptr, rt.kernels.f32_gemm_packed_size(K, N)));
  // K = 65,536: blocks of 32 rows (N = 100: 32 + 32 + 32 + 4, the last strip half empty); K = 512, N = 9,001:
  // blocks of 4,096 rows (opus-mt's width) and a last strip of one row; small ones fit one block.
  for (const [K, N] of [[65536, 100], [512, 9001], [7, 13], [1, 1]] as const) {
    it(`K=${K} N=${N}`, () => {
      const values = new Rng(K + N).uniform(K * N);
      const staged = packMatrixValues(rt, values, [N, K], { transposed: true });
      const whole = rt.scope(() => bytes(packMatrix(rt, rt.tensor([N, K], values), { transposed: true }).ptr, K, N));
      expect(bytes(staged.ptr, K, N)).toEqual(whole);
    });
  }
});

describe('embedInto: a table read in place from the packed output projection ("strips")', () => {
  it('gives the rows lookup\'s values for every token, a partial last strip included', () => {
    const rt = Runtime.create();
    const [V, d] = [21, 6];
    const rng = new Rng(3);
    const values = rng.uniform(V * d);
    const positions = { ptr: rt.tensor([4, d], rng.uniform(4 * d)).ptr, length: 4 * d };
    const packed = packMatrixValues(rt, values, [V, d], { transposed: true });
    const rows = { table: { ptr: rt.tensor([V, d], values).ptr, length: V * d }, positions, d, scale: Math.fround(Math.sqrt(d)) };
    const strips = { ...rows, table: { ptr: packed.ptr, length: rt.kernels.f32_gemm_packed_size(d, V) }, layout: 'strips' as const };
    const tokens = Array.from({ length: V }, (_, t) => V - 1 - t);
    const out = (layer: typeof rows) => { const x = rt.empty([V, d]); embedInto(rt, layer, tokens, tokens.map((t) => t % 4), x); return x.toArray(); };
    const want = out(rows);
    expect(out(strips)).toEqual(want);
    // Row 0 holds token V − 1 at position (V − 1) mod 4, by hand: value·scale + position.
    const p = rt.heap.f32(positions.ptr, 4 * d);
    expect(want[0]).toBe(Math.fround(Math.fround(values[(V - 1) * d]! * rows.scale) + p[((V - 1) % 4) * d]!));
  });
});
