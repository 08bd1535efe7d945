import { type KernelEntry, type Problem, withTarget } from '../problem.js';
import type { Activation } from '../../runtime/ops/activation.js';
import {
  causalConv1d, causalConv1dGated, conv2d, convTranspose2d, depthwiseConv2d, packCausalConv1dWeight, packConv2dWeight,
  packConvTranspose2dWeight, packDepthwiseWeight,
} from '../../runtime/ops/conv.js';
import type { Rng } from '../../runtime/rng.js';
import {
  type CausalConv1dParams, type Conv2dParams, type ConvTranspose2dParams, causalConv1dRef, conv2dRef,
  convTranspose2dRef, depthwiseConv2dRef,
} from '../reference/conv.js';
import { gatedTanhRef } from '../reference/activation.js';

const ODD_CHANNELS = [1, 3, 7, 17, 33];
const ACTIVATIONS: Activation[] = ['none', 'none', 'relu', 'relu6', 'gelu', 'tanh', 'sigmoid'];

function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function hw(p: { stride: [number, number]; padding: [number, number]; dilation: [number, number] }): string {
  const parts = [];
  if (p.stride[0] !== 1 || p.stride[1] !== 1) parts.push(`s${p.stride.join('×')}`);
  if (p.padding[0] !== 0 || p.padding[1] !== 0) parts.push(`p${p.padding.join('×')}`);
  if (p.dilation[0] !== 1 || p.dilation[1] !== 1) parts.push(`d${p.dilation.join('×')}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function actLabel(act: Activation | undefined): string {
  return !act || act === 'none' ? '' : ` ${act}`;
}

// A random spatial geometry for a KH×KW kernel whose output is at least 1×1.
function randomGeometry(rng: Rng, KH: number, KW: number) {
  const stride: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
  const dilation: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
  const padding: [number, number] = [rng.int(0, Math.min(2, KH - 1)), rng.int(0, Math.min(2, KW - 1))];
  const H = rng.int(Math.max(1, dilation[0] * (KH - 1) + 1 - 2 * padding[0]), 11);
  const W = rng.int(Math.max(1, dilation[1] * (KW - 1) + 1 - 2 * padding[1]), 11);
  return { stride, dilation, padding, H, W };
}

function conv2dProblem(rng: Rng, p: Conv2dParams, label?: string): Problem {
  const { N, H, W, C, OC, KH, KW, groups } = p;
  const x = rng.uniform(N * H * W * C);
  const weight = rng.uniform(OC * (C / groups) * KH * KW, -0.5, 0.5);
  const bias = p.bias ?? (rng.next() < 0.5 ? rng.uniform(OC) : undefined);
  const OH = outSize(H, KH, p.stride[0], p.padding[0], p.dilation[0]);
  const OW = outSize(W, KW, p.stride[1], p.padding[1], p.dilation[1]);
  return {
    label: label ??
      `conv2d ${KH}×${KW} ${C}→${OC} ${N}×${H}×${W}${hw(p)}${groups > 1 ? ` g${groups}` : ''}${bias ? ' +bias' : ''}${actLabel(p.activation)}`,
    flops: 2 * N * OH * OW * OC * KH * KW * (C / groups),
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const w = packConv2dWeight(rt, weight, [OC, C / groups, KH, KW], groups);
      const biasT = bias ? rt.tensor([OC], bias) : undefined;
      const out = rt.tensor([N, OH, OW, OC]);
      const opts = { stride: p.stride, padding: p.padding, dilation: p.dilation, activation: p.activation, bias: biasT, out };
      return { call: () => conv2d(rt, xt, w, opts), output: () => out.toArray() };
    },
    reference: () => conv2dRef(x, weight, { ...p, bias }),
  };
}

function randomConv2d(rng: Rng): Problem {
  const N = rng.int(1, 2);
  const act = rng.pick(ACTIVATIONS);
  const kind = rng.int(0, 3);
  if (kind === 0) {
    // pointwise: the no-im2col path, groups included
    const groups = rng.pick([1, 1, 2, 3]);
    const C = rng.pick(ODD_CHANNELS) * groups;
    const OC = rng.pick(ODD_CHANNELS) * groups;
    return conv2dProblem(rng, {
      N, H: rng.int(1, 12), W: rng.int(1, 12), C, OC, KH: 1, KW: 1, stride: [1, 1], padding: [0, 0],
      dilation: [1, 1], groups, activation: act,
    });
  }
  const KH = rng.pick([1, 2, 3, 5]);
  const KW = rng.next() < 0.7 ? KH : rng.pick([1, 2, 3, 5]);
  const g = randomGeometry(rng, KH, KW);
  // groups: 1, a few, or one per channel (depthwise through im2col, with a channel multiplier)
  const groups = kind === 1 ? 1 : kind === 2 ? rng.pick([2, 3]) : rng.pick([3, 7, 17]);
  const Cg = kind === 3 ? 1 : rng.pick(ODD_CHANNELS);
  const OCg = kind === 3 ? rng.int(1, 2) : rng.pick(ODD_CHANNELS);
  return conv2dProblem(rng, {
    N, H: g.H, W: g.W, C: Cg * groups, OC: OCg * groups, KH, KW, stride: g.stride, padding: g.padding,
    dilation: g.dilation, groups, activation: act,
  });
}

function depthwiseProblem(rng: Rng, p: Omit<Conv2dParams, 'OC' | 'groups'>, label?: string): Problem {
  const { N, H, W, C, KH, KW } = p;
  const x = rng.uniform(N * H * W * C);
  const weight = rng.uniform(C * KH * KW, -0.5, 0.5);
  const bias = p.bias ?? (rng.next() < 0.5 ? rng.uniform(C) : undefined);
  const OH = outSize(H, KH, p.stride[0], p.padding[0], p.dilation[0]);
  const OW = outSize(W, KW, p.stride[1], p.padding[1], p.dilation[1]);
  return {
    label: label ?? `depthwise ${KH}×${KW} C${C} ${N}×${H}×${W}${hw(p)}${bias ? ' +bias' : ''}${actLabel(p.activation)}`,
    flops: 2 * N * OH * OW * C * KH * KW,
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const w = packDepthwiseWeight(rt, weight, [C, 1, KH, KW]);
      const biasT = bias ? rt.tensor([C], bias) : undefined;
      const out = rt.tensor([N, OH, OW, C]);
      const opts = { stride: p.stride, padding: p.padding, dilation: p.dilation, activation: p.activation, bias: biasT, out };
      return { call: () => depthwiseConv2d(rt, xt, w, opts), output: () => out.toArray() };
    },
    reference: () => depthwiseConv2dRef(x, weight, { ...p, bias }),
  };
}

function randomDepthwise(rng: Rng): Problem {
  // half 3×3 with dilation 1 (the fast path and its borders), half anything
  const fast = rng.next() < 0.5;
  const KH = fast ? 3 : rng.pick([1, 2, 3, 5]);
  const KW = fast ? 3 : rng.next() < 0.7 ? KH : rng.pick([1, 2, 3, 5]);
  const g = randomGeometry(rng, KH, KW);
  if (fast) g.dilation = [1, 1];
  return depthwiseProblem(rng, {
    N: rng.int(1, 2), H: Math.max(g.H, 3), W: Math.max(g.W, 3), C: rng.pick([...ODD_CHANNELS, 4, 8, 12]), KH, KW,
    stride: g.stride, padding: g.padding, dilation: g.dilation, activation: rng.pick(ACTIVATIONS),
  });
}

function convTransposeProblem(rng: Rng, p: ConvTranspose2dParams, label?: string): Problem {
  const { N, H, W, C, OC, KH, KW } = p;
  const x = rng.uniform(N * H * W * C);
  const weight = rng.uniform(C * OC * KH * KW, -0.5, 0.5);
  const bias = p.bias ?? (rng.next() < 0.5 ? rng.uniform(OC) : undefined);
  const OH = (H - 1) * p.stride[0] - 2 * p.padding[0] + p.dilation[0] * (KH - 1) + p.outputPadding[0] + 1;
  const OW = (W - 1) * p.stride[1] - 2 * p.padding[1] + p.dilation[1] * (KW - 1) + p.outputPadding[1] + 1;
  const op = p.outputPadding[0] || p.outputPadding[1] ? ` op${p.outputPadding.join('×')}` : '';
  return {
    label: label ??
      `conv-transpose ${KH}×${KW} ${C}→${OC} ${N}×${H}×${W}${hw(p)}${op}${bias ? ' +bias' : ''}${actLabel(p.activation)}`,
    flops: 2 * N * H * W * C * KH * KW * OC,
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const w = packConvTranspose2dWeight(rt, weight, [C, OC, KH, KW]);
      const biasT = bias ? rt.tensor([OC], bias) : undefined;
      const out = rt.tensor([N, OH, OW, OC]);
      const opts = {
        stride: p.stride, padding: p.padding, dilation: p.dilation, outputPadding: p.outputPadding,
        activation: p.activation, bias: biasT, out,
      };
      return { call: () => convTranspose2d(rt, xt, w, opts), output: () => out.toArray() };
    },
    reference: () => convTranspose2dRef(x, weight, { ...p, bias }),
  };
}

function randomConvTranspose(rng: Rng): Problem {
  const KH = rng.pick([1, 2, 3, 5]);
  const KW = rng.next() < 0.7 ? KH : rng.pick([1, 2, 3, 5]);
  const stride: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
  const dilation: [number, number] = [rng.int(1, 2), rng.int(1, 2)];
  const padding: [number, number] = [rng.int(0, Math.floor((KH - 1) / 2)), rng.int(0, Math.floor((KW - 1) / 2))];
  const outputPadding: [number, number] = [
    rng.int(0, Math.max(stride[0], dilation[0]) - 1), rng.int(0, Math.max(stride[1], dilation[1]) - 1)];
  return convTransposeProblem(rng, {
    N: rng.int(1, 2), H: rng.int(1, 8), W: rng.int(1, 8), C: rng.pick(ODD_CHANNELS), OC: rng.pick(ODD_CHANNELS),
    KH, KW, stride, padding, dilation, outputPadding, activation: rng.pick(ACTIVATIONS),
  });
}

/** A causal conv1d problem; `gated` runs WaveNet's gated unit in the kernel (causalConv1dGated) instead of an activation. */
function causalProblem(rng: Rng, p: CausalConv1dParams & { gated?: boolean }, label?: string): Problem {
  const { N, T, C, OC, K, dilation, gated } = p;
  const x = rng.uniform(N * T * C);
  const weight = rng.uniform(OC * C * K, -0.5, 0.5);
  const bias = p.bias ?? (rng.next() < 0.5 ? rng.uniform(OC) : undefined);
  const outChannels = gated ? OC / 2 : OC;
  return {
    label: label ?? `causal conv1d K${K} d${dilation} ${C}→${OC} ${N}×${T}${bias ? ' +bias' : ''}${gated ? ' gated' : actLabel(p.activation)}`,
    flops: 2 * N * T * OC * K * C,
    prepare(rt) {
      const xt = rt.tensor([N, T, C], x);
      const w = packCausalConv1dWeight(rt, weight, [OC, C, K]);
      const biasT = bias ? rt.tensor([OC], bias) : undefined;
      const out = rt.tensor([N, T, outChannels]);
      const call = gated
        ? () => causalConv1dGated(rt, xt, w, { dilation, bias: biasT, out })
        : () => causalConv1d(rt, xt, w, { dilation, activation: p.activation, bias: biasT, out });
      return { call, output: () => out.toArray() };
    },
    reference: () => {
      const z = causalConv1dRef(x, weight, { ...p, bias, activation: gated ? undefined : p.activation });
      return gated ? gatedTanhRef(z, N * T, OC / 2) : z;
    },
  };
}

function randomCausal(rng: Rng): Problem {
  const K = rng.pick([1, 2, 3, 5]);
  const dilation = rng.pick([1, 2, 4, 16, 64]);
  const gated = rng.next() < 0.3;
  const OC = rng.pick(ODD_CHANNELS);
  return causalProblem(rng, {
    N: rng.int(1, 2), T: rng.int(1, (K - 1) * dilation + 40), C: rng.pick(ODD_CHANNELS), OC: gated ? 2 * OC : OC,
    K, dilation, activation: rng.pick(ACTIVATIONS), gated,
  });
}

export const convKernels: KernelEntry[] = [
  {
    kernel: 'f32_conv2d_nhwc',
    family: 'conv',
    random: randomConv2d,
    bench: (rng) => [
      withTarget(conv2dProblem(rng, {
        N: 1, H: 56, W: 56, C: 144, OC: 24, KH: 1, KW: 1, stride: [1, 1], padding: [0, 0],
        dilation: [1, 1], groups: 1, bias: rng.uniform(24),
      }, 'pointwise 1×1 144→24 56×56 (MobileNetV2)'), 0.7),
      conv2dProblem(rng, {
        N: 1, H: 56, W: 56, C: 32, OC: 64, KH: 3, KW: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1],
        groups: 1, bias: rng.uniform(64), activation: 'relu',
      }, 'conv2d 3×3 32→64 56×56 relu'),
    ],
  },
  {
    kernel: 'f32_dwconv2d_nhwc',
    family: 'conv',
    random: randomDepthwise,
    bench: (rng) => [
      withTarget(depthwiseProblem(rng, {
        N: 1, H: 56, W: 56, C: 144, KH: 3, KW: 3, stride: [1, 1], padding: [1, 1], dilation: [1, 1],
        bias: rng.uniform(144), activation: 'relu6',
      }, 'depthwise 3×3 C144 56×56 relu6 (MobileNetV2)'), 0.35),
    ],
  },
  {
    kernel: 'f32_conv_transpose2d_nhwc',
    family: 'conv',
    random: randomConvTranspose,
    bench: (rng) => [
      convTransposeProblem(rng, {
        N: 1, H: 28, W: 28, C: 64, OC: 32, KH: 2, KW: 2, stride: [2, 2], padding: [0, 0], dilation: [1, 1],
        outputPadding: [0, 0], bias: rng.uniform(32),
      }, 'conv-transpose 2×2 s2 64→32 28×28 (U-Net up)'),
    ],
  },
  {
    kernel: 'f32_causal_conv1d',
    family: 'conv',
    random: randomCausal,
    bench: (rng) => [
      withTarget(causalProblem(rng, { N: 1, T: 16000, C: 64, OC: 128, K: 2, dilation: 64, bias: rng.uniform(128) },
        'WaveNet causal conv K2 d64 64→128 T16000'), 0.6),
      causalProblem(rng, { N: 1, T: 16000, C: 32, OC: 64, K: 2, dilation: 64, bias: rng.uniform(64), gated: true },
        'WaveNet causal conv + gated unit K2 d64 32→64 T16000'),
    ],
  },
];
