import { describe, expect, it } from 'vitest';
import type { Pair } from '../../src/runtime/ops/args.js';
import { type Activation } from '../../src/runtime/ops/activation.js';
import {
  causalConv1d, conv2d, convTranspose2d, depthwiseConv2d, depthwiseConv2dBand, packCausalConv1dWeight, packConv2dWeight,
  packConvTranspose2dWeight, packDepthwiseWeight,
} from '../../src/runtime/ops/conv.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { conv2dRef } from '../../src/kernels/reference/conv.js';
import { expectClose } from '../helpers/compare.js';
import { type FixtureCase, loadFixtures } from '../helpers/fixtures.js';

type Params = {
  stride: Pair; padding: Pair; dilation: Pair; outputPadding: Pair; groups: number; activation: Activation;
};

// Runs one fixture through its binding: weights converted from PyTorch's layout by the pack* functions.
function run(rt: Runtime, c: FixtureCase): Tensor {
  const p = c.params as Params;
  const x = c.f32('x');
  const weight = c.f32('weight');
  const xt = rt.tensor(x.shape, x.data);
  const bias = rt.tensor([c.f32('bias').shape[0]!], c.f32('bias').data);
  const common = { stride: p.stride, padding: p.padding, dilation: p.dilation, bias, activation: p.activation };
  switch (c.op) {
    case 'conv2d':
      return conv2d(rt, xt, packConv2dWeight(rt, weight.data, weight.shape, p.groups), common);
    case 'depthwise_conv2d':
      return depthwiseConv2d(rt, xt, packDepthwiseWeight(rt, weight.data, weight.shape), common);
    case 'conv_transpose2d':
      return convTranspose2d(rt, xt, packConvTranspose2dWeight(rt, weight.data, weight.shape),
        { ...common, outputPadding: p.outputPadding });
    case 'causal_conv1d':
      return causalConv1d(rt, xt, packCausalConv1dWeight(rt, weight.data, weight.shape),
        { dilation: p.dilation as number, bias, activation: p.activation });
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe('convolutions against PyTorch (F.conv2d, F.conv_transpose2d, causal F.conv1d)', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('conv');
  it('has fixtures for every op', () => {
    const ops = new Set(cases.map((c) => c.op));
    expect([...ops].sort()).toEqual(['causal_conv1d', 'conv2d', 'conv_transpose2d', 'depthwise_conv2d']);
    expect(cases.length).toBeGreaterThanOrEqual(35);
  });
  for (const c of cases) {
    it(c.name, () => {
      rt.scope(() => {
        const y = run(rt, c);
        const want = c.f32('y');
        expect(y.shape).toEqual(want.shape);
        expectClose(y.toArray(), want.data, 1e-4, c.name);
      });
    });
  }
});

describe("TensorFlow's SAME padding (padding: 'same')", () => {
  const rt = Runtime.create();
  /** x [1, H, W, C] with `top`/`left` zero rows/columns before and `bottom`/`right` after. */
  function padded(x: Tensor, top: number, bottom: number, left: number, right: number): Tensor {
    const [N, H, W, C] = x.shape as [number, number, number, number];
    const y = rt.tensor([N, H + top + bottom, W + left + right, C]);
    const src = x.toArray();
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        for (let c = 0; c < C; c++) y.data[((h + top) * (W + left + right) + w + left) * C + c] = src[(h * W + w) * C + c]!;
      }
    }
    return y;
  }
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);

  // 3×3 stride 2 on 8×7: out 4×4; rows pad 0 before / 1 after (total 1), columns 1 / 1 (total 2)
  it('equals explicit asymmetric zero padding, for conv2d and depthwise conv', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 8, 7, 5], random(8 * 7 * 5, 1));
      const w = packConv2dWeight(rt, random(6 * 5 * 9, 2), [6, 5, 3, 3]);
      const same = conv2d(rt, x, w, { stride: 2, padding: 'same' });
      expect(same.shape).toEqual([1, 4, 4, 6]);
      expectClose(same.toArray(), conv2d(rt, padded(x, 0, 1, 1, 1), w, { stride: 2 }).toArray(), 0, 'conv2d same');
      const dw = packDepthwiseWeight(rt, random(5 * 9, 3), [5, 1, 3, 3]);
      const dsame = depthwiseConv2d(rt, x, dw, { stride: 2, padding: 'same', activation: 'relu6' });
      expectClose(dsame.toArray(), depthwiseConv2d(rt, padded(x, 0, 1, 1, 1), dw, { stride: 2, activation: 'relu6' }).toArray(), 1e-6, 'depthwise same'); // border taps sum in another order
      // stride 1: ⌈n/1⌉ = n, one on each side, as PyTorch's padding 1
      expectClose(conv2d(rt, x, w, { padding: 'same' }).toArray(), conv2d(rt, x, w, { padding: 1 }).toArray(), 0, 'stride 1');
    });
  });

  // MobileNet computes its inverted residuals band by band (src/models/mobilenet.ts).
  it('a band of depthwise output rows equals those rows of the whole convolution, bit for bit', () => {
    rt.scope(() => {
      const [H, W, C] = [13, 9, 12];
      const x = rt.tensor([1, H, W, C], random(H * W * C, 4));
      const dw = packDepthwiseWeight(rt, random(C * 9, 5), [C, 1, 3, 3]);
      const bias = rt.tensor([C], random(C, 6));
      for (const stride of [1, 2]) {
        const options = { stride, padding: 1, bias, activation: 'relu6' as const };
        const whole = depthwiseConv2d(rt, x, dw, options);
        const [, OH, OW] = whole.shape as [number, number, number, number];
        for (const [r0, r1] of [[0, 1], [0, 3], [2, 5], [OH - 2, OH], [0, OH]] as const) {
          const lo = Math.max(0, r0 * stride - 1);
          const hi = Math.min(H, (r1 - 1) * stride + 2);
          const band = rt.tensor([1, hi - lo, W, C], x.data.subarray(lo * W * C, hi * W * C));
          const out = rt.tensor([1, r1 - r0, OW, C]);
          depthwiseConv2dBand(rt, band, dw, { height: H, firstRow: lo, rowStart: r0, rowEnd: r1, out }, options);
          expect(Array.from(out.data), `stride ${stride}, rows ${r0}–${r1}`).toEqual(Array.from(whole.data.subarray(r0 * OW * C, r1 * OW * C)));
        }
        // A band missing a row its outputs read is refused, naming the rows.
        const short = rt.tensor([1, 2, W, C]);
        expect(() => depthwiseConv2dBand(rt, short, dw, { height: H, firstRow: 1, rowStart: 2, rowEnd: 3, out: rt.tensor([1, 1, OW, C]) }, options))
          .toThrow(/depthwiseConv2dBand: output rows \[2, 3\) of \d+ need image rows \[\d+, \d+\), the band holds \[1, 3\)/);
      }
    });
  });
});

// Patches of at most 256 floats with taps side by side (a network's stem) take convDirect in
// assembly/conv.ts: interior pixels four at a time read straight from x, the rest through im2col.
describe('small-patch conv2d (the direct path) against the reference', () => {
  const rt = Runtime.create();
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 78.233 + seed) * 0.5);
  const shapes: Array<{ N: number; H: number; W: number; C: number; OC: number; KH: number; KW: number; stride: [number, number]; padding: [number, number]; dilation: [number, number] }> = [
    { N: 1, H: 23, W: 23, C: 3, OC: 32, KH: 3, KW: 3, stride: [2, 2], padding: [1, 1], dilation: [1, 1] }, // MobileNet's stem
    { N: 2, H: 19, W: 21, C: 3, OC: 13, KH: 7, KW: 7, stride: [2, 2], padding: [3, 3], dilation: [1, 1] }, // DenseNet's, OC % 8 ≠ 0
    { N: 1, H: 9, W: 14, C: 5, OC: 8, KH: 3, KW: 3, stride: [1, 1], padding: [0, 0], dilation: [1, 1] }, // no padding: all interior
    { N: 1, H: 10, W: 11, C: 4, OC: 9, KH: 3, KW: 2, stride: [1, 2], padding: [2, 1], dilation: [2, 1] }, // row dilation, wide padding
    { N: 1, H: 6, W: 5, C: 1, OC: 3, KH: 5, KW: 5, stride: [1, 1], padding: [2, 2], dilation: [1, 1] }, // fewer than 4 interior pixels
  ];
  for (const s of shapes) {
    const name = `${s.KH}×${s.KW}×${s.C} → ${s.OC}, ${s.H}×${s.W}, stride ${s.stride}, padding ${s.padding}, dilation ${s.dilation}`;
    it(name, () => {
      rt.scope(() => {
        const x = random(s.N * s.H * s.W * s.C, 1);
        const weight = random(s.OC * s.C * s.KH * s.KW, 2);
        const bias = random(s.OC, 3);
        const want = conv2dRef(x, weight, { ...s, groups: 1 });
        const withBias = Float32Array.from(want, (v, i) => Math.max(0, v + bias[i % s.OC]!));
        const OH = Math.floor((s.H + 2 * s.padding[0] - s.dilation[0] * (s.KH - 1) - 1) / s.stride[0]) + 1;
        const OW = Math.floor((s.W + 2 * s.padding[1] - (s.KW - 1) - 1) / s.stride[1]) + 1;
        // NaN in the output beforehand: a pixel the kernel skipped would show
        const out = rt.tensor([s.N, OH, OW, s.OC], new Float32Array(s.N * OH * OW * s.OC).fill(Number.NaN));
        conv2d(rt, rt.tensor([s.N, s.H, s.W, s.C], x), packConv2dWeight(rt, weight, [s.OC, s.C, s.KH, s.KW]), {
          stride: s.stride, padding: s.padding, dilation: s.dilation, bias: rt.tensor([s.OC], bias), activation: 'relu', out,
        });
        expectClose(out.toArray(), withBias, 1e-5, name);
      });
    });
  }
});
