import { describe, expect, it } from 'vitest';
import { type Activation } from '../../src/runtime/ops/activation.js';
import { gemm, packMatrix } from '../../src/runtime/ops/gemm.js';
import { Runtime } from '../../src/runtime/runtime.js';
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
