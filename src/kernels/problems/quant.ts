import type { KernelEntry, Problem } from '../problem.js';
import type { Activation } from '../../runtime/ops/activation.js';
import { int8Linear, quantizeMatrixValues, readInt8Matrix } from '../../runtime/ops/quant.js';
import type { Rng } from '../../runtime/rng.js';
import { kernelBuild } from '../../runtime/wasm.js';
import { int8LinearRef, quantizeRowsRef } from '../reference/quant.js';

function quantizeProblem(rng: Rng, M: number, K: number): Problem {
  // Values spread over decades, exact ties (±0.5 steps) and a zero row among them.
  const x = Float32Array.from(rng.uniform(M * K), (v, i) => (Math.floor(i / Math.max(1, K)) === 1 ? 0 : v * 10 ** ((i % 5) - 2)));
  return {
    label: `quantize ${M}×${K}`,
    flops: 2 * M * K,
    prepare(rt) {
      let w: ReturnType<typeof quantizeMatrixValues> | undefined;
      return {
        call: () => { w = quantizeMatrixValues(rt, x, [M, K]); },
        output: () => {
          const { q, scales, sums } = readInt8Matrix(rt, w!);
          // each row's K values (the padding dropped), then the scales and the row sums
          return Float32Array.from([...Array.from({ length: M * K }, (_, i) => q[Math.floor(i / K) * w!.Kp + (i % K)]!), ...scales, ...sums]);
        },
      };
    },
    reference: () => {
      const { q, scales, sums } = quantizeRowsRef(x, M, K);
      return Float32Array.from([...q, ...scales, ...sums]);
    },
    tolerance: 0,
  };
}

function linearProblem(rng: Rng, M: number, N: number, K: number, withBias: boolean, act: Activation, accumulate: boolean): Problem {
  const x = rng.uniform(M * K);
  const w = rng.uniform(N * K);
  const bias = withBias ? rng.uniform(N) : undefined;
  const c = accumulate ? rng.uniform(M * N) : undefined;
  return {
    label: `int8 linear ${M}×${N}×${K}${withBias ? ' +bias' : ''}${act === 'none' ? '' : ` ${act}`}${accumulate ? ' +=' : ''}`,
    flops: 2 * M * N * K,
    prepare(rt) {
      const xt = rt.tensor([M, K], x);
      const wq = quantizeMatrixValues(rt, w, [N, K]);
      const biasT = bias ? rt.tensor([N], bias) : undefined;
      const out = rt.tensor([M, N], c);
      return {
        call: () => {
          if (c) out.write(c);
          int8Linear(rt, xt, wq, { bias: biasT, activation: act, out, accumulate });
        },
        output: () => out.toArray(),
      };
    },
    // the build this process runs quantises inputs to ±63 (relaxed) or ±127 (SIMD128)
    reference: () => int8LinearRef(x, w, M, N, K, { bias, activation: act, c, inputLevels: kernelBuild() === 'relaxed' ? 63 : 127 }),
    // float32 step by step as the kernel: equal, but for an activation's last bit
    tolerance: act === 'none' ? 0 : 1e-6,
  };
}

export const quantKernels: KernelEntry[] = [
  {
    kernel: 'i8_quantize_rows',
    family: 'quant',
    random: (rng) => quantizeProblem(rng, rng.int(1, 20), rng.int(1, 300)),
    bench: (rng) => [quantizeProblem(rng, 8, 512)],
  },
  {
    kernel: 'i8_linear',
    family: 'quant',
    random: (rng) =>
      linearProblem(rng, rng.int(1, 12), rng.int(1, 40), rng.int(1, 300), rng.next() < 0.5, rng.pick<Activation>(['none', 'relu', 'gelu']), rng.next() < 0.3),
    bench: (rng) => [
      // A decoding step at opus-mt's size against the float GEMM's row "gemm 8×8192×512": bound by reading the weight.
      linearProblem(rng, 8, 8192, 512, false, 'none', false),
      linearProblem(rng, 1, 2048, 512, false, 'none', false),
    ],
  },
];
