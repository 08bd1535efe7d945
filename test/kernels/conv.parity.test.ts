import { describe, expect, it } from 'vitest';
import type { Pair } from '../../src/runtime/ops/args.js';
import { type Activation } from '../../src/runtime/ops/activation.js';
import {
  causalConv1d, conv2d, convTranspose2d, depthwiseConv2d, packCausalConv1dWeight, packConv2dWeight,
  packConvTranspose2dWeight, packDepthwiseWeight,
} from '../../src/runtime/ops/conv.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { Tensor } from '../../src/runtime/tensor.js';
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
