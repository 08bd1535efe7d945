import type { KernelEntry, Problem } from '../problem.js';
import type { Activation } from '../../runtime/ops/activation.js';
import { batchNorm, batchNormLeading, instanceNorm, layerNorm } from '../../runtime/ops/norm.js';
import type { Rng } from '../../runtime/rng.js';
import { batchNormRef, instanceNormRef, layerNormRef } from '../reference/norm.js';

const CHANNELS = [1, 3, 7, 17, 33, 64];

function batchNormProblem(rng: Rng, rows: number, C: number, act: Activation): Problem {
  const x = rng.uniform(rows * C, -4, 4);
  const scale = rng.uniform(C, 0.2, 2);
  const shift = rng.uniform(C, -1, 1);
  return {
    label: `batchnorm ${rows}×${C}${act === 'none' ? '' : ` ${act}`}`,
    flops: 2 * rows * C,
    prepare(rt) {
      const xt = rt.tensor([rows, C], x);
      const folded = { scale: rt.tensor([C], scale), shift: rt.tensor([C], shift) };
      const out = rt.tensor([rows, C]);
      return { call: () => batchNorm(rt, xt, folded, act, out), output: () => out.toArray() };
    },
    reference: () => batchNormRef(x, rows, C, scale, shift, act),
  };
}

/** The first C of each row's Cx channels (DenseNet's block buffer). */
function batchNormLeadingProblem(rng: Rng, rows: number, C: number, Cx: number, act: Activation): Problem {
  const x = rng.uniform(rows * Cx, -4, 4);
  const scale = rng.uniform(C, 0.2, 2);
  const shift = rng.uniform(C, -1, 1);
  const leading = Float32Array.from({ length: rows * C }, (_, i) => x[Math.floor(i / C) * Cx + (i % C)]!);
  return {
    label: `batchnorm leading ${rows}×${C} of ${Cx}${act === 'none' ? '' : ` ${act}`}`,
    flops: 2 * rows * C,
    prepare(rt) {
      const xt = rt.tensor([rows, Cx], x);
      const folded = { scale: rt.tensor([C], scale), shift: rt.tensor([C], shift) };
      const out = rt.tensor([rows, C]);
      return { call: () => batchNormLeading(rt, xt, C, folded, act, out), output: () => out.toArray() };
    },
    reference: () => batchNormRef(leading, rows, C, scale, shift, act),
  };
}

/** Affine parameters present or not, each on its own. */
function randomAffine(rng: Rng, C: number) {
  return {
    gamma: rng.next() < 0.7 ? rng.uniform(C, 0.5, 1.5) : undefined,
    beta: rng.next() < 0.7 ? rng.uniform(C, -1, 1) : undefined,
    eps: rng.pick([1e-5, 1e-6, 1e-3]),
  };
}

/** Values around an offset, to exercise the two-pass statistics. */
function offsetInput(rng: Rng, n: number): Float32Array {
  const offset = rng.pick([0, 3, -20]);
  return rng.uniform(n, offset - 2, offset + 2);
}

function layerNormProblem(rng: Rng, rows: number, C: number): Problem {
  const x = offsetInput(rng, rows * C);
  const p = randomAffine(rng, C);
  return {
    label: `layernorm ${rows}×${C}${p.gamma ? ' γ' : ''}${p.beta ? ' β' : ''}`,
    flops: 8 * rows * C,
    prepare(rt) {
      const xt = rt.tensor([rows, C], x);
      const gamma = p.gamma && rt.tensor([C], p.gamma);
      const beta = p.beta && rt.tensor([C], p.beta);
      const out = rt.tensor([rows, C]);
      return { call: () => layerNorm(rt, xt, { gamma, beta, eps: p.eps, out }), output: () => out.toArray() };
    },
    reference: () => layerNormRef(x, rows, C, p),
  };
}

function instanceNormProblem(rng: Rng, N: number, H: number, W: number, C: number): Problem {
  const x = offsetInput(rng, N * H * W * C);
  const p = randomAffine(rng, C);
  return {
    label: `instancenorm ${N}×${H}×${W}×${C}${p.gamma ? ' γ' : ''}${p.beta ? ' β' : ''}`,
    flops: 8 * N * H * W * C,
    prepare(rt) {
      const xt = rt.tensor([N, H, W, C], x);
      const gamma = p.gamma && rt.tensor([C], p.gamma);
      const beta = p.beta && rt.tensor([C], p.beta);
      const out = rt.tensor([N, H, W, C]);
      return { call: () => instanceNorm(rt, xt, { gamma, beta, eps: p.eps, out }), output: () => out.toArray() };
    },
    reference: () => instanceNormRef(x, N, H * W, C, p),
  };
}

export const normKernels: KernelEntry[] = [
  {
    kernel: 'f32_batchnorm_nhwc',
    family: 'norm',
    random: (rng) => {
      const act = rng.pick<Activation>(['none', 'relu', 'relu6', 'gelu', 'tanh', 'sigmoid']);
      if (rng.next() < 0.3) {
        const C = rng.pick(CHANNELS);
        return batchNormLeadingProblem(rng, rng.int(1, 40), C, C + rng.int(0, 20), act);
      }
      return batchNormProblem(rng, rng.int(0, 40), rng.pick(CHANNELS), act);
    },
    bench: (rng) => [batchNormProblem(rng, 56 * 56, 64, 'relu')],
  },
  {
    kernel: 'f32_layernorm',
    family: 'norm',
    random: (rng) => layerNormProblem(rng, rng.int(1, 12), rng.pick([1, 3, 7, 17, 33, 64, 512])),
    bench: (rng) => [layerNormProblem(rng, 128, 512)],
  },
  {
    kernel: 'f32_instancenorm_nhwc',
    family: 'norm',
    random: (rng) => instanceNormProblem(rng, rng.int(1, 3), rng.int(1, 9), rng.int(1, 9), rng.pick(CHANNELS)),
    bench: (rng) => [instanceNormProblem(rng, 1, 64, 64, 32)],
  },
];
