import type { KernelEntry, Problem } from '../kernels.js';
import { type Activation, activation, gatedTanh, softmax } from '../ops/activation.js';
import type { Rng } from '../rng.js';
import { activationRef, gatedTanhRef, softmaxRef } from '../../reference/activation.js';

function activationProblem(rng: Rng, n: number, act: Activation): Problem {
  const x = rng.uniform(n, -8, 8);
  return {
    label: `${act} n=${n}`,
    flops: n,
    prepare(rt) {
      const xt = rt.tensor([n], x);
      const out = rt.tensor([n]);
      return { call: () => activation(rt, xt, act, out), output: () => out.toArray() };
    },
    reference: () => activationRef(x, act),
  };
}

function gateProblem(rng: Rng, rows: number, C: number): Problem {
  const x = rng.uniform(rows * 2 * C, -6, 6);
  return {
    label: `gated tanh ${rows}×${C}`,
    flops: rows * C,
    prepare(rt) {
      const xt = rt.tensor([rows, 2 * C], x);
      let out = xt;
      return { call: () => (out = gatedTanh(rt, xt)), output: () => out.toArray() };
    },
    reference: () => gatedTanhRef(x, rows, C),
  };
}

function softmaxProblem(rng: Rng, rows: number, n: number, log: boolean): Problem {
  const x = rng.uniform(rows * n, -20, 20);
  return {
    label: `${log ? 'log-' : ''}softmax ${rows}×${n}`,
    flops: 3 * rows * n,
    prepare(rt) {
      const xt = rt.tensor([rows, n], x);
      const out = rt.tensor([rows, n]);
      return { call: () => softmax(rt, xt, { log, out }), output: () => out.toArray() };
    },
    reference: () => softmaxRef(x, rows, n, log),
  };
}

export const activationKernels: KernelEntry[] = [
  {
    kernel: 'f32_activation',
    family: 'activation',
    random: (rng) => activationProblem(rng, rng.int(0, 300), rng.pick<Activation>(['relu', 'relu6', 'gelu', 'tanh', 'sigmoid'])),
    bench: (rng) => [activationProblem(rng, 1 << 16, 'gelu')],
  },
  {
    kernel: 'f32_gated_tanh',
    family: 'activation',
    random: (rng) => gateProblem(rng, rng.int(1, 20), rng.int(1, 40)),
    bench: (rng) => [gateProblem(rng, 1024, 64)],
  },
  {
    kernel: 'f32_softmax_rows',
    family: 'activation',
    random: (rng) => softmaxProblem(rng, rng.int(1, 10), rng.int(1, 100), rng.next() < 0.5),
    bench: (rng) => [softmaxProblem(rng, 128, 1024, false)],
  },
];
