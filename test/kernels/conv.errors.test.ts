import { describe, expect, it } from 'vitest';
import type { Activation } from '../../src/runtime/ops/activation.js';
import {
  causalConv1d, conv2d, convTranspose2d, depthwiseConv2d, packCausalConv1dWeight, packConv2dWeight,
  packConvTranspose2dWeight, packDepthwiseWeight,
} from '../../src/runtime/ops/conv.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectError } from '../helpers/errors.js';

describe('conv bindings reject bad arguments before running a kernel', () => {
  const rt = Runtime.create();
  const zeros = (n: number) => new Float32Array(n);

  describe('conv2d', () => {
    const w = packConv2dWeight(rt, zeros(8 * 2 * 3 * 3), [8, 2, 3, 3], 2); // C = 4, OC = 8, groups 2
    const x = rt.tensor([1, 6, 6, 4]);
    it('checks x rank and channels', () => {
      expectError(() => conv2d(rt, rt.tensor([6, 6, 4]), w), 'E_SHAPE', /conv2d: x has shape \[6, 6, 4\]/);
      expectError(() => conv2d(rt, rt.tensor([1, 6, 6, 2]), w), 'E_SHAPE', /conv2d: x .*expected \[\*, \*, \*, 4\]/);
    });
    it('checks bias and out', () => {
      expectError(() => conv2d(rt, x, w, { bias: rt.tensor([4]) }), 'E_SHAPE', /bias has shape \[4\], expected \[8\]/);
      expectError(() => conv2d(rt, x, w, { out: rt.tensor([1, 6, 6, 8]) }), 'E_SHAPE', /out has shape/);
    });
    it('checks stride, padding and dilation', () => {
      expectError(() => conv2d(rt, x, w, { stride: 0 }), 'E_BAD_INPUT', /stride/);
      expectError(() => conv2d(rt, x, w, { padding: [1, -1] }), 'E_BAD_INPUT', /padding/);
      expectError(() => conv2d(rt, x, w, { dilation: 1.5 }), 'E_BAD_INPUT', /dilation/);
    });
    it('checks that the output is at least 1×1', () => {
      expectError(() => conv2d(rt, rt.tensor([1, 2, 6, 4]), w), 'E_SHAPE', /too small.*0×4/);
    });
    it('checks the activation name', () => {
      expectError(() => conv2d(rt, x, w, { activation: 'swish' as Activation }), 'E_BAD_INPUT', /unknown activation "swish"/);
    });
    it('leaves out untouched when it throws', () => {
      const out = rt.tensor([1, 4, 4, 8]).write(new Float32Array(128).fill(7));
      expectError(() => conv2d(rt, x, w, { out, bias: rt.tensor([3]) }), 'E_SHAPE', /bias/);
      expect(out.toArray().every((v) => v === 7)).toBe(true);
    });
  });

  describe('packConv2dWeight', () => {
    it('checks the weight shape, its size and the groups', () => {
      expectError(() => packConv2dWeight(rt, zeros(18), [2, 3, 3]), 'E_SHAPE', /weight has shape \[2, 3, 3\]/);
      expectError(() => packConv2dWeight(rt, zeros(17), [1, 1, 3, 6]), 'E_SHAPE', /weight has 17 values/);
      expectError(() => packConv2dWeight(rt, zeros(54), [6, 1, 3, 3], 4), 'E_SHAPE', /6 output channels .* 4 groups/);
      expectError(() => packConv2dWeight(rt, zeros(54), [6, 1, 3, 3], 0), 'E_BAD_INPUT', /groups/);
    });
  });

  describe('depthwiseConv2d', () => {
    it('checks the weight is one filter per channel', () => {
      expectError(() => packDepthwiseWeight(rt, zeros(36), [2, 2, 3, 3]), 'E_SHAPE', /expected \[C, 1, KH, KW\]/);
    });
    it('checks x channels', () => {
      const w = packDepthwiseWeight(rt, zeros(27), [3, 1, 3, 3]);
      expectError(() => depthwiseConv2d(rt, rt.tensor([1, 5, 5, 4]), w), 'E_SHAPE', /depthwiseConv2d: x/);
      expectError(() => depthwiseConv2d(rt, rt.tensor([1, 5, 5, 3]), w, { bias: rt.tensor([4]) }), 'E_SHAPE', /bias/);
    });
  });

  describe('convTranspose2d', () => {
    it('supports groups = 1 only', () => {
      expectError(() => packConvTranspose2dWeight(rt, zeros(36), [4, 1, 3, 3], 2), 'E_BAD_INPUT', /groups = 2 is not supported/);
    });
    it('checks outputPadding against stride and dilation', () => {
      const w = packConvTranspose2dWeight(rt, zeros(36), [2, 2, 3, 3]);
      const x = rt.tensor([1, 4, 4, 2]);
      expectError(() => convTranspose2d(rt, x, w, { stride: 2, outputPadding: 2 }), 'E_BAD_INPUT', /outputPadding 2/);
      expectError(() => convTranspose2d(rt, rt.tensor([1, 4, 4, 3]), w), 'E_SHAPE', /convTranspose2d: x/);
      expect(convTranspose2d(rt, x, w, { stride: 2, outputPadding: 1 }).shape).toEqual([1, 10, 10, 2]);
    });
  });

  describe('causalConv1d', () => {
    it('checks the weight, x, dilation and bias', () => {
      expectError(() => packCausalConv1dWeight(rt, zeros(8), [2, 2, 2, 1]), 'E_SHAPE', /expected \[OC, C, K\]/);
      const w = packCausalConv1dWeight(rt, zeros(8), [2, 2, 2]);
      expectError(() => causalConv1d(rt, rt.tensor([1, 10, 3]), w), 'E_SHAPE', /causalConv1d: x/);
      expectError(() => causalConv1d(rt, rt.tensor([1, 10, 2]), w, { dilation: 0 }), 'E_BAD_INPUT', /dilation/);
      expectError(() => causalConv1d(rt, rt.tensor([10, 2]), w, { bias: rt.tensor([3]) }), 'E_SHAPE', /bias/);
      expect(causalConv1d(rt, rt.tensor([10, 2]), w).shape).toEqual([10, 2]);
    });

    it('checks history, and gives one row per row after it, reading the history instead of zeros', () => {
      const w = packCausalConv1dWeight(rt, Float32Array.from([1, 2]), [1, 1, 2]); // y[t] = x[t − 1] + 2·x[t]
      const x = rt.tensor([5, 1], [1, 2, 3, 4, 5]);
      expectError(() => causalConv1d(rt, x, w, { history: 5 }), 'E_BAD_INPUT', /history must be a whole number of rows from 0 to 4 \(x has 5 rows\), got 5/);
      expectError(() => causalConv1d(rt, x, w, { history: 1.5 }), 'E_BAD_INPUT', /history/);
      expect(Array.from(causalConv1d(rt, x, w).toArray())).toEqual([2, 5, 8, 11, 14]);
      expect(Array.from(causalConv1d(rt, x, w, { history: 2 }).toArray())).toEqual([8, 11, 14]);
    });
  });
});
