// Plain TypeScript definition of dynamic int8 quantisation (assembly/quant.ts),
// float32 step by step (Math.fround) so that the kernel is matched exactly.
import type { Activation } from '../../runtime/ops/activation.js';
import { activate } from './activation.js';

/** Round half to even, as f32x4.nearest. */
function nearest(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Rows of x [M, K] → int8 [M, K], scales [M] and row sums [M]: s = max|row| / levels,
 * q = nearest(x · (levels / max|row|)); levels 127 for weights.
 */
export function quantizeRowsRef(x: Float32Array, M: number, K: number, levels = 127): { q: Int8Array; scales: Float32Array; sums: Int32Array } {
  const q = new Int8Array(M * K);
  const scales = new Float32Array(M);
  const sums = new Int32Array(M);
  for (let m = 0; m < M; m++) {
    let absmax = 0;
    for (let k = 0; k < K; k++) absmax = Math.max(absmax, Math.abs(x[m * K + k]!));
    const inv = absmax > 0 ? Math.fround(levels / absmax) : 0;
    scales[m] = Math.fround(absmax / levels);
    for (let k = 0; k < K; k++) {
      q[m * K + k] = Math.max(-128, Math.min(127, nearest(Math.fround(x[m * K + k]! * inv))));
      sums[m]! += q[m * K + k]!;
    }
  }
  return { q, scales, sums };
}

/**
 * act(x·Wᵀ + bias) (+ c) with x quantised per row (to ±inputLevels: 127 in the SIMD128 build, 63 in
 * the relaxed one) and W [N, K] per output channel (±127).
 */
export function int8LinearRef(
  x: Float32Array, w: Float32Array, M: number, N: number, K: number,
  options: { bias?: Float32Array; activation?: Activation; c?: Float32Array; inputLevels?: number } = {},
): Float32Array {
  const qx = quantizeRowsRef(x, M, K, options.inputLevels ?? 127);
  const qw = quantizeRowsRef(w, N, K);
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += qx.q[m * K + k]! * qw.q[n * K + k]!;
      let v = Math.fround(Math.fround(sum) * Math.fround(qx.scales[m]! * qw.scales[n]!));
      if (options.bias) v = Math.fround(v + options.bias[n]!);
      if (options.c) v = Math.fround(v + options.c[m * N + n]!);
      y[m * N + n] = activate(v, options.activation ?? 'none');
    }
  }
  return y;
}
