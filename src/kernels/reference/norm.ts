// Plain TypeScript definitions of the normalisations in assembly/norm.ts,
// over channels-last data, with statistics in f64 (two-pass, biased variance
// as PyTorch normalises with).
import type { Activation } from '../../runtime/ops/activation.js';
import { activate } from './activation.js';

/** Inference batch norm on x [rows, C]: act(x · scale + shift). */
export function batchNormRef(
  x: Float32Array, rows: number, C: number, scale: Float32Array, shift: Float32Array, act: Activation,
): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) y[r * C + c] = activate(x[r * C + c]! * scale[c]! + shift[c]!, act);
  }
  return y;
}

export interface NormParams {
  gamma?: Float32Array;
  beta?: Float32Array;
  eps: number;
}

/**
 * Normalises `count` values of x at `start`, `step` apart, with γ[c] and β[c]
 * for channel c: the shared step of layer norm (one row, step 1) and
 * instance norm (one channel of one image, step C).
 */
function normalise(x: Float32Array, y: Float32Array, start: number, step: number, count: number,
  channelOf: (i: number) => number, p: NormParams): void {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += x[start + i * step]!;
  const mean = sum / count;
  let sq = 0;
  for (let i = 0; i < count; i++) sq += (x[start + i * step]! - mean) ** 2;
  const rstd = 1 / Math.sqrt(sq / count + p.eps);
  for (let i = 0; i < count; i++) {
    const c = channelOf(i);
    y[start + i * step] = (x[start + i * step]! - mean) * rstd * (p.gamma?.[c] ?? 1) + (p.beta?.[c] ?? 0);
  }
}

/** F.layer_norm over the last dimension of x [rows, C]. */
export function layerNormRef(x: Float32Array, rows: number, C: number, p: NormParams): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) normalise(x, y, r * C, 1, C, (i) => i, p);
  return y;
}

/** F.instance_norm of x [N, HW, C]: each (n, c) over its HW pixels. */
export function instanceNormRef(x: Float32Array, N: number, HW: number, C: number, p: NormParams): Float32Array {
  const y = new Float32Array(N * HW * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) normalise(x, y, n * HW * C + c, C, HW, () => c, p);
  }
  return y;
}
