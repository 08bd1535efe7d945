import { describe, expect, it } from 'vitest';
import { type BatchNormLayer, type Conv2dLayer, runBatchNorm, runConv2d, runNormConv1x1, runSeparable } from '../../src/nn/conv.js';
import { vector } from '../../src/nn/linear.js';
import { packConv2dWeight, packDepthwiseWeight } from '../../src/runtime/ops/conv.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { errorOf } from '../helpers/errors.js';

// runSeparable computes a depthwise conv and the 1×1 after it in bands of about 128 KB of depthwise
// output (here 8 rows of 64 × 64 channels): it must give exactly what the two convolutions give.
describe('runSeparable (depthwise then 1×1, band by band)', () => {
  const rt = Runtime.create();
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
  const C = 64;
  const OC = 24;
  const layers = (stride: number, padding: 'same' | number): [Conv2dLayer, Conv2dLayer] => [
    {
      kind: 'depthwise', weight: packDepthwiseWeight(rt, random(C * 9, 1), [C, 1, 3, 3]), bias: vector(rt, random(C, 2)),
      outChannels: C, stride, padding, dilation: 1, activation: 'relu6',
    },
    {
      kind: 'conv', weight: packConv2dWeight(rt, random(OC * C, 3), [OC, C, 1, 1]), bias: vector(rt, random(OC, 4)),
      outChannels: OC, stride: 1, padding: 0, dilation: 1, activation: 'relu6',
    },
  ];
  for (const [stride, padding, H] of [[1, 1, 40], [2, 'same', 41], [2, 'same', 40]] as const) {
    it(`equals the two convolutions exactly: stride ${stride}, padding ${padding}, 2 images of ${H} × 64 (several bands)`, () => {
      rt.scope(() => {
        const [depthwise, pointwise] = layers(stride, padding);
        const x = rt.tensor([2, H, 64, C], random(2 * H * 64 * C, 5));
        const want = runConv2d(rt, runConv2d(rt, x, depthwise), pointwise);
        const got = runSeparable(rt, x, depthwise, pointwise);
        expect(got.shape).toEqual(want.shape);
        expect(Array.from(got.toArray())).toEqual(Array.from(want.toArray()));
      });
    });
  }
  it('refuses layers that are not a depthwise conv then a 1×1 over its channels', () => {
    rt.scope(() => {
      const [depthwise, pointwise] = layers(1, 1);
      const x = rt.tensor([1, 8, 8, C]);
      expect(errorOf(() => runSeparable(rt, x, pointwise, depthwise))).toMatch(/E_SHAPE: runSeparable: needs a depthwise conv over 64 channels then a 1×1 conv/);
    });
  });
});

// runNormConv1x1 normalises a tile of pixels at a time (64K floats: 256 pixels of 256 channels) and
// multiplies it at once: it must give exactly what the norm and then the convolution give, over the
// leading channels of a wider buffer as a dense block's layers read it.
describe('runNormConv1x1 (relu(batch norm) then 1×1, tile by tile)', () => {
  const rt = Runtime.create();
  const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 4.1414 + seed) * 0.8);
  const C = 256;
  const Cx = 288;
  const OC = 40;
  const norm: BatchNormLayer = { scale: vector(rt, random(C, 1)), shift: vector(rt, random(C, 2)) };
  const conv: Conv2dLayer = {
    kind: 'conv', weight: packConv2dWeight(rt, random(OC * C, 3), [OC, C, 1, 1]), bias: vector(rt, random(OC, 4)),
    outChannels: OC, stride: 1, padding: 0, dilation: 1, activation: 'relu',
  };
  it('equals runBatchNorm then runConv2d exactly, over 2 images of 21 × 30 (several tiles and a partial one)', () => {
    rt.scope(() => {
      const x = rt.tensor([2, 21, 30, Cx], random(2 * 21 * 30 * Cx, 5));
      const want = runConv2d(rt, runBatchNorm(rt, x, norm, 'relu'), conv);
      const got = runNormConv1x1(rt, x, norm, conv);
      expect(got.shape).toEqual([2, 21, 30, OC]);
      expect(Array.from(got.toArray())).toEqual(Array.from(want.toArray()));
    });
  });
  it('refuses a convolution that does not read the normalised channels', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 4, 4, 100]);
      expect(errorOf(() => runNormConv1x1(rt, x, norm, conv))).toMatch(/E_SHAPE: runNormConv1x1: needs a 1×1 conv from the 256 normalised channels \(x has 100\)/);
    });
  });
});
