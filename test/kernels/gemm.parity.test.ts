import { describe, expect, it } from 'vitest';
import { type Activation } from '../../src/runtime/ops/activation.js';
import { gemm, packMatrix } from '../../src/runtime/ops/gemm.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { Rng } from '../../src/runtime/rng.js';
import { gemmRef } from '../../src/kernels/reference/gemm.js';
import { expectClose } from '../helpers/compare.js';
import { loadFixtures } from '../helpers/fixtures.js';

describe('gemm against PyTorch (F.linear)', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('gemm');
  it('has fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(7));
  for (const c of cases) {
    it(c.name, () => {
      const x = c.f32('x');
      const weight = c.f32('weight');
      rt.scope(() => {
        // Linear's weight is [out, in] = Bᵀ: packed as stored, no transpose copy.
        const w = packMatrix(rt, rt.tensor(weight.shape, weight.data), { transposed: true });
        const y = gemm(rt, rt.tensor(x.shape, x.data), w, {
          bias: rt.tensor([w.N], c.f32('bias').data),
          activation: c.params.activation as Activation,
        });
        expectClose(y.toArray(), c.f32('y').data, 1e-4, c.name);
      });
    });
  }
});

// Linear weights and attention's Kᵀ are packed from Bᵀ as stored: the strips must be exactly
// what packing B itself lays out, partial strips and zero padding included.
describe('packing Bᵀ (transposed: true) gives the same strips as packing B', () => {
  const rt = Runtime.create();
  for (const [K, N] of [[1, 8], [4, 8], [7, 16], [13, 21], [32, 128], [9, 5]] as const) {
    it(`K ${K}, N ${N}`, () => {
      rt.scope(() => {
        const b = Float32Array.from({ length: K * N }, (_, i) => i + 1); // B [K, N]
        const bt = new Float32Array(N * K); // Bᵀ [N, K]
        for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[n * K + k] = b[k * N + n]!;
        const fromB = packMatrix(rt, rt.tensor([K, N], b));
        const fromBt = packMatrix(rt, rt.tensor([N, K], bt), { transposed: true });
        const size = K * Math.ceil(N / 8) * 8;
        expect(Array.from(rt.heap.f32(fromBt.ptr, size))).toEqual(Array.from(rt.heap.f32(fromB.ptr, size)));
      });
    });
  }
});

// The GEMM runs K in blocks of 256 and applies the activation in the last block only; no activation,
// ReLU and ReLU6 run their own copies of the loops. Every copy, over one block and over several, with
// and without a C to add to, against the reference. Values straddle 0 and 6, so each activation bites.
describe('gemm over several K blocks, for every activation', () => {
  const rt = Runtime.create();
  for (const K of [255, 256, 257, 520]) {
    for (const activation of ['none', 'relu', 'relu6', 'gelu', 'tanh'] as const) {
      for (const accumulate of [false, true]) {
        it(`K ${K}, ${activation}${accumulate ? ', accumulate' : ''}`, () => {
          const [M, N] = [9, 21];
          const rng = new Rng(K * 7 + N);
          const a = rng.uniform(M * K);
          const b = rng.uniform(K * N); // sums of spread √(K/9) ≈ 5–8
          const bias = rng.uniform(N, -4, 4);
          const c = rng.uniform(M * N, -2, 2);
          rt.scope(() => {
            const out = rt.tensor([M, N], c);
            gemm(rt, rt.tensor([M, K], a), packMatrix(rt, rt.tensor([K, N], b)), {
              bias: rt.tensor([N], bias), activation, out, accumulate,
            });
            const expected = gemmRef(a, b, M, N, K, { bias, activation, c: accumulate ? c : undefined });
            const got = out.toArray();
            expectClose(got, expected, 1e-4, `K ${K} ${activation}`);
            // Each activation must have acted: some outputs clamped where it clamps.
            if (activation === 'relu' || activation === 'relu6') expect(got.filter((v) => v === 0).length).toBeGreaterThan(0);
            if (activation === 'relu6') expect(got.filter((v) => v === 6).length).toBeGreaterThan(0);
          });
        });
      }
    }
  }
});
