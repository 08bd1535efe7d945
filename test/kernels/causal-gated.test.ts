import { describe, expect, it } from 'vitest';
import { gatedTanh } from '../../src/runtime/ops/activation.js';
import { causalConv1d, causalConv1dGated, packCausalConv1dWeight } from '../../src/runtime/ops/conv.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';

describe('causalConv1dGated', () => {
  it('gives exactly causalConv1d then gatedTanh, for every tap count and across tile edges', () => {
    const rng = new Rng(16);
    for (const [K, dilation, C, OC, T] of [[1, 1, 5, 6, 33], [2, 64, 32, 64, 1500], [3, 4, 7, 18, 517], [2, 1, 1, 2, 1]] as const) {
      const rt = Runtime.create();
      const x = rt.tensor([T, C], rng.uniform(T * C));
      const w = packCausalConv1dWeight(rt, rng.uniform(OC * C * K, -0.5, 0.5), [OC, C, K]);
      const bias = rt.tensor([OC], rng.uniform(OC));
      const apart = gatedTanh(rt, causalConv1d(rt, x, w, { dilation, bias })).toArray();
      const fused = causalConv1dGated(rt, x, w, { dilation, bias });
      expect(fused.shape).toEqual([T, OC / 2]);
      expect(fused.toArray(), `K${K} d${dilation} ${C}→${OC} T${T}`).toEqual(apart);
    }
  });

  it('refuses an odd number of output channels', () => {
    const rt = Runtime.create();
    const w = packCausalConv1dWeight(rt, new Float32Array(3 * 2 * 2), [3, 2, 2]);
    expect(errorOf(() => causalConv1dGated(rt, rt.tensor([4, 2]), w))).toMatch(/3 output channels; the filter and gate halves need an even number/);
  });
});
