import { describe, expect, it } from 'vitest';
import { gemm, packMatrix } from '../../src/runtime/ops/gemm.js';
import type { Activation } from '../../src/runtime/ops/activation.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';

// A decoding step's GEMM (2 to 32 rows) takes its own path in assembly/gemm.ts
// (gemmFewRows, two strips at a time). A sentence's logits must not depend on
// the batch it decodes in, so every row it computes must equal, to the bit,
// the same row computed alone (the 1-row path) and inside a 40-row batch (the
// 4×8 tile path): same KC blocks, same k order, same write-back.
describe('gemm: the few-rows path equals the 1-row and 4×8 tile paths to the bit', () => {
  const rt = Runtime.create();
  const acts: Activation[] = ['none', 'relu', 'relu6', 'gelu', 'silu', 'tanh'];
  const shapes: [number, number][] = [
    [255, 9], [256, 17], [257, 131], [520, 100], [2048, 23], [1, 7], [3, 1], [512, 40], [300, 16],
  ];
  const BIG = 40;
  for (const [K, N] of shapes) {
    it(`K=${K} N=${N}`, () => {
      const rng = new Rng(K * 1000 + N);
      const b = packMatrix(rt, rt.tensor([K, N], rng.uniform(K * N)));
      const aAll = rng.uniform(BIG * K);
      const c0All = rng.uniform(BIG * N);
      const biasValues = rng.uniform(N);
      for (const M of [1, 2, 3, 4, 5, 6, 7, 8, 13, 32, 33]) {
        const withBias = rng.next() < 0.5;
        const accumulate = rng.next() < 0.5;
        const activation = rng.pick(acts);
        const options = { bias: withBias ? rt.tensor([N], biasValues) : undefined, activation, accumulate };
        const run = (rows: number, first: number): Float32Array => {
          const out = rt.tensor([rows, N], c0All.subarray(first * N, (first + rows) * N));
          return gemm(rt, rt.tensor([rows, K], aAll.subarray(first * K, (first + rows) * K)), b, { ...options, out }).toArray();
        };
        const few = run(M, 0);
        const big = run(BIG, 0);
        const what = `M=${M} bias=${withBias} accumulate=${accumulate} ${activation}`;
        expect(bits(few), `${what}: inside ${BIG} rows`).toEqual(bits(big.subarray(0, M * N)));
        for (let row = 0; row < M; row++) {
          expect(bits(run(1, row)), `${what}: row ${row} alone`).toEqual(bits(few.subarray(row * N, (row + 1) * N)));
        }
      }
    });
  }
});

function bits(x: Float32Array): number[] {
  return Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
}
