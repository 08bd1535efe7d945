import { describe, expect, it } from 'vitest';
import { gemm, packMatrix } from '../../src/runtime/ops/gemm.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';

// Batched inference must not change a row's result (a WaveNet stream, a
// sentence): every GEMM path sums k in the same order, whether a row goes
// through the 4-row tile, the 1×32 or the 1×8 path.
describe('gemm rows are bit-identical however they are batched', () => {
  const rt = Runtime.create();
  for (const [K, N] of [[64, 128], [300, 40], [17, 33], [520, 8]] as const) {
    it(`K=${K} N=${N}`, () => {
      const rng = new Rng(K * N);
      const a = rng.uniform(7 * K);
      const b = packMatrix(rt, rt.tensor([K, N], rng.uniform(K * N)));
      const bias = rt.tensor([N], rng.uniform(N));
      const all = gemm(rt, rt.tensor([7, K], a), b, { bias, activation: 'tanh' }).toArray();
      for (let row = 0; row < 7; row++) {
        const alone = gemm(rt, rt.tensor([1, K], a.subarray(row * K, (row + 1) * K)), b, { bias, activation: 'tanh' }).toArray();
        expect(Array.from(alone), `row ${row}`).toEqual(Array.from(all.subarray(row * N, (row + 1) * N)));
      }
    });
  }
});
