import { describe, expect, it } from 'vitest';
import type { Activation } from '../../src/runtime/ops/activation.js';
import { conv2d, packConv2dWeight } from '../../src/runtime/ops/conv.js';
import {
  type BatchNormStats, batchNorm, foldBatchNorm, foldBatchNormIntoConv, instanceNorm, layerNorm,
} from '../../src/runtime/ops/norm.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { type FixtureCase, loadFixtures } from '../helpers/fixtures.js';

function stats(c: FixtureCase, affine: boolean): BatchNormStats {
  return {
    weight: affine ? c.f32('weight').data : undefined,
    bias: affine ? c.f32('bias').data : undefined,
    runningMean: c.f32('running_mean').data,
    runningVar: c.f32('running_var').data,
    eps: c.params.eps as number,
  };
}

function runCase(rt: Runtime, c: FixtureCase): void {
  const x = c.f32('x');
  const want = c.f32('y');
  const xt = rt.tensor(x.shape, x.data);
  const p = c.params;
  const act = (p.activation ?? 'none') as Activation;
  const affine = (name: 'weight' | 'bias') => {
    if (!p[name]) return undefined;
    const t = c.f32(name);
    return rt.tensor(t.shape, t.data);
  };
  switch (c.op) {
    case 'batchnorm': {
      const folded = foldBatchNorm(stats(c, p.affine as boolean));
      const C = folded.scale.length;
      const y = batchNorm(rt, xt, { scale: rt.tensor([C], folded.scale), shift: rt.tensor([C], folded.shift) }, act);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    case 'conv_bn': {
      // PyTorch ran conv2d → batch_norm (eval) → act; hibiki folds the norm into the conv.
      const w = c.f32('conv_weight');
      const OC = w.shape[0] as number;
      const bn = stats(c, true);
      const groups = p.groups as number;
      const convBias = p.conv_bias ? c.f32('conv_bias').data : undefined;
      const fused = foldBatchNormIntoConv(w.data, convBias, OC, bn);
      const conv = { stride: p.stride as number, padding: p.padding as number };
      const y = conv2d(rt, xt, packConv2dWeight(rt, fused.weight, w.shape, groups), {
        ...conv, bias: rt.tensor([OC], fused.bias), activation: act,
      });
      expectClose(y.toArray(), want.data, 1e-4, `${c.name} (folded)`);
      // The unfolded path agrees too: conv, then batchNorm with the activation fused.
      const z = conv2d(rt, xt, packConv2dWeight(rt, w.data, w.shape, groups), {
        ...conv, bias: convBias && rt.tensor([OC], convBias),
      });
      const folded = foldBatchNorm(bn);
      const y2 = batchNorm(rt, z, { scale: rt.tensor([OC], folded.scale), shift: rt.tensor([OC], folded.shift) }, act);
      expectClose(y2.toArray(), want.data, 1e-4, `${c.name} (conv, then batch norm)`);
      return;
    }
    case 'layernorm': {
      const y = layerNorm(rt, xt, { gamma: affine('weight'), beta: affine('bias'), eps: p.eps as number });
      expect(y.shape).toEqual(want.shape);
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    case 'instancenorm': {
      const y = instanceNorm(rt, xt, { gamma: affine('weight'), beta: affine('bias'), eps: p.eps as number });
      expectClose(y.toArray(), want.data, 1e-4, c.name);
      return;
    }
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

describe('normalisations against PyTorch', () => {
  const rt = Runtime.create();
  const cases = loadFixtures('norm');
  it('has fixtures', () => expect(cases.length).toBe(20));
  for (const c of cases) it(c.name, () => rt.scope(() => runCase(rt, c)));
});

describe('normalisations, worked by hand', () => {
  const rt = Runtime.create();

  it('folds batch norm into scale and shift, and into a conv weight and bias', () => {
    const bn = { weight: Float32Array.of(2, 1), bias: Float32Array.of(1, 0), runningMean: Float32Array.of(3, -1), runningVar: Float32Array.of(3, 0), eps: 1 };
    // scale = γ/√(var + ε) = [2/2, 1/1]; shift = β − mean·scale = [1 − 3, 0 + 1]
    expect(foldBatchNorm(bn)).toEqual({ scale: Float32Array.of(1, 1), shift: Float32Array.of(-2, 1) });
    // Two output channels of two weights each; b' = (b − mean)·scale + β.
    const fused = foldBatchNormIntoConv(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6), 2, { ...bn, runningVar: Float32Array.of(15, 3) });
    expect(fused.weight).toEqual(Float32Array.of(0.5, 1, 1.5, 2));
    expect(fused.bias).toEqual(Float32Array.of((5 - 3) * 0.5 + 1, (6 + 1) * 0.5));
    expect(foldBatchNormIntoConv(Float32Array.of(1, 2), undefined, 2, { runningMean: Float32Array.of(1, 1), runningVar: Float32Array.of(0, 0), eps: 0.25 }))
      .toEqual({ weight: Float32Array.of(2, 4), bias: Float32Array.of(-2, -2) });
  });

  it('layer norm keeps its precision on rows with a large mean', () => {
    rt.scope(() => {
      // Values 1e4 + {−1, 0, 1}: E[x²] − E[x]² would lose everything to cancellation in f32.
      const x = rt.tensor([1, 3], [9999, 10000, 10001]);
      const s = Math.sqrt(1.5);
      expectClose(layerNorm(rt, x, { eps: 0 }).toArray(), [-s, 0, s], 1e-6);
    });
  });

  it('instance norm of a constant image is β (zero variance, ε keeps it finite)', () => {
    rt.scope(() => {
      const x = rt.tensor([1, 2, 2, 5], new Float32Array(20).fill(7));
      const beta = rt.tensor([5], [0, 1, 2, 3, 4]);
      expect(Array.from(instanceNorm(rt, x, { beta }).data)).toEqual(Array.from({ length: 20 }, (_, i) => i % 5));
    });
  });
});
