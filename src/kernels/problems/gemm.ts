import { type KernelEntry, type Problem, withTarget } from '../problem.js';
import { gemm, packMatrix } from '../../runtime/ops/gemm.js';
import type { Activation } from '../../runtime/ops/activation.js';
import type { Rng } from '../../runtime/rng.js';
import { gemmRef } from '../reference/gemm.js';

function gemmProblem(rng: Rng, M: number, N: number, K: number, withBias: boolean, act: Activation): Problem {
  const a = rng.uniform(M * K);
  const b = rng.uniform(K * N);
  const bias = withBias ? rng.uniform(N) : undefined;
  return {
    label: `gemm ${M}×${N}×${K}${withBias ? ' +bias' : ''}${act === 'none' ? '' : ` ${act}`}`,
    flops: 2 * M * N * K,
    prepare(rt) {
      const at = rt.tensor([M, K], a);
      const bp = packMatrix(rt, rt.tensor([K, N], b));
      const biasT = bias ? rt.tensor([N], bias) : undefined;
      const out = rt.tensor([M, N]);
      return {
        call: () => gemm(rt, at, bp, { bias: biasT, activation: act, out }),
        output: () => out.toArray(),
      };
    },
    reference: () => gemmRef(a, b, M, N, K, { bias, activation: act }),
  };
}

export const gemmKernels: KernelEntry[] = [
  {
    kernel: 'f32_gemm_packed',
    family: 'gemm',
    random: (rng) =>
      gemmProblem(rng, rng.int(1, 70), rng.int(1, 40), rng.int(0, 300), rng.next() < 0.5,
        rng.pick<Activation>(['none', 'relu', 'relu6', 'gelu', 'tanh', 'sigmoid'])),
    bench: (rng) => [
      ...[64, 128, 256, 512, 1024].map((n) => {
        const problem = gemmProblem(rng, n, n, n, false, 'none');
        return n >= 256 ? withTarget(problem, 0.85) : problem;
      }),
      // A decoding step (8 sentences) against weights larger than L2: the few-rows path, bound by memory.
      gemmProblem(rng, 8, 8192, 512, false, 'none'),
    ],
  },
];
