// Plain TypeScript definition of GEMM: C = act(C₀ + A·B + bias), row-major.
// The i-k-j loop order is the one a plain-JS implementation would pick (rows
// of B stream in order), so the benches' ratios are against a fair baseline.
import type { Activation } from '../../runtime/ops/activation.js';
import { activate } from './activation.js';

export function gemmRef(
  a: Float32Array, b: Float32Array, M: number, N: number, K: number,
  options: { bias?: Float32Array; activation?: Activation; c?: Float32Array } = {},
): Float32Array {
  const c = new Float32Array(M * N);
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) row[j] = (options.c?.[i * N + j] ?? 0) + (options.bias?.[j] ?? 0);
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k]!;
      const bk = k * N;
      for (let j = 0; j < N; j++) row[j]! += aik * b[bk + j]!;
    }
    for (let j = 0; j < N; j++) c[i * N + j] = activate(row[j]!, options.activation ?? 'none');
  }
  return c;
}
