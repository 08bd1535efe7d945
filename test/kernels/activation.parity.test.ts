import { describe, expect, it } from 'vitest';
import { type Activation, activation, gatedTanh, softmax } from '../../src/runtime/ops/activation.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { loadFixtures } from '../helpers/fixtures.js';

describe('activations against PyTorch', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('activation');
  it('has fixtures', () => expect(cases.length).toBe(16));
  for (const c of cases) {
    it(c.name, () => {
      const x = c.f32('x');
      rt.scope(() => {
        const xt = rt.tensor(x.shape, x.data);
        const y =
          c.op === 'gated_tanh' ? gatedTanh(rt, xt)
          : c.op === 'softmax' ? softmax(rt, xt, { log: c.params.log as boolean })
          : activation(rt, xt, c.op as Activation);
        expectClose(y.toArray(), c.f32('y').data, 1e-4, c.name);
      });
    });
  }

  it('keeps exact values where the function is exact', () => {
    rt.scope(() => {
      const x = rt.tensor([6], [-3, -0, 0, 2, 6.5, 100]);
      // relu(−0) is −0 and relu(NaN) is NaN in PyTorch too.
      expect(Array.from(activation(rt, x, 'relu').data)).toEqual([0, -0, 0, 2, 6.5, 100]);
      expect(Array.from(activation(rt, x, 'relu6').data)).toEqual([0, -0, 0, 2, 6, 6]);
      expect(activation(rt, rt.tensor([1], [NaN]), 'relu').data[0]).toBeNaN();
      const [low, half, one] = activation(rt, rt.tensor([3], [-100, 0, 100]), 'sigmoid').data;
      expect([half, one]).toEqual([0.5, 1]);
      // sigmoid(−100) ≈ 3.7e-44 is subnormal in f32; exp saturates at exp(88), giving ≈ 6e-39.
      expect(low).toBeGreaterThanOrEqual(0);
      expect(low).toBeLessThan(1e-37);
      expect(Array.from(activation(rt, rt.tensor([3], [-100, 0, 100]), 'tanh').data)).toEqual([-1, 0, 1]);
      expect(Array.from(softmax(rt, rt.tensor([1, 2], [1000, 1000])).data)).toEqual([0.5, 0.5]);
    });
  });
});
