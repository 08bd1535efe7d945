// Plain TypeScript definitions of the activation and elementwise kernels:
// what assembly/activation.ts computes, written for clarity, not speed.
import type { Activation } from '../../runtime/ops/activation.js';

function erf(x: number): number {
  // Taylor series near 0, continued fraction beyond: accurate to ~1e-15.
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 200; n++) {
      const t = term / (2 * n + 1);
      sum += t;
      term *= (-x * x) / (n + 1);
      if (Math.abs(t) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

export function activate(x: number, act: Activation): number {
  switch (act) {
    case 'relu':
      return Math.max(x, 0);
    case 'relu6':
      return Math.min(Math.max(x, 0), 6);
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'none':
      return x;
  }
}

export function activationRef(x: Float32Array, act: Activation): Float32Array {
  return x.map((v) => activate(v, act));
}

export function gatedTanhRef(x: Float32Array, rows: number, C: number): Float32Array {
  const y = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      y[r * C + c] = Math.tanh(x[r * 2 * C + c]!) / (1 + Math.exp(-x[r * 2 * C + C + c]!));
    }
  }
  return y;
}

export function softmaxRef(x: Float32Array, rows: number, n: number, log = false): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    const m = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - m);
    for (let i = 0; i < n; i++) y[r * n + i] = log ? row[i]! - m - Math.log(sum) : Math.exp(row[i]! - m) / sum;
  }
  return y;
}

/**
 * Each row's (max, Σ exp(x − max)) of x [rows, n] as f64 [rows, 2], by the
 * float64 loop that defines logSumExpRows' max + log(sum).
 */
export function expSumsRef(x: Float32Array, rows: number, n: number): Float64Array {
  const out = new Float64Array(2 * rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let v = 0; v < n; v++) max = Math.max(max, x[r * n + v]!);
    let sum = 0;
    for (let v = 0; v < n; v++) sum += Math.exp(x[r * n + v]! - max);
    out[2 * r] = max;
    out[2 * r + 1] = sum;
  }
  return out;
}

/**
 * One draw of a class from logits: each class weighs
 * e[i] = exp((logits[i] − max) / temperature), its probability over the
 * most likely class's, or 0 where that is below `minP` (min-p sampling, as
 * Hugging Face's MinPLogitsWarper; 0 keeps every class). The running sums
 * of e are the CDF, in f64, and the class is the first whose running sum
 * reaches u · total and is above 0. temperature 0 (or no u) is greedy: the
 * argmax, the first on ties. sampleCategorical (src/decode/sample.ts) is
 * this with u from an Rng.
 */
export function drawCategorical(
  logits: ArrayLike<number>, temperature: number, u: number | undefined, cdf = new Float64Array(logits.length), minP = 0,
): number {
  const n = logits.length;
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0 || u === undefined) return best;
  const max = logits[best]!;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp((logits[i]! - max) / temperature);
    total += minP > 0 && e < minP ? 0 : e;
    cdf[i] = total;
  }
  const target = u * total;
  for (let i = 0; i < n; i++) if (cdf[i]! >= target && cdf[i]! > 0) return i;
  return n - 1;
}

/**
 * f32_sample_rows: drawCategorical on each row of x [rows, n] with its
 * temperature, min-p and u; a row whose u is negative keeps `before`.
 */
export function sampleRowsRef(
  x: Float32Array, rows: number, n: number, temperatures: Float64Array, minP: Float64Array, u: Float64Array, before: number,
): Float32Array {
  return Float32Array.from({ length: rows }, (_, r) =>
    u[r]! < 0 ? before : drawCategorical(x.subarray(r * n, (r + 1) * n), temperatures[r]!, u[r]!, undefined, minP[r]!));
}

/** Channel concat of [rows, c_i] arrays into [rows, Σ c_i]. */
export function concatChannelsRef(parts: Float32Array[], rows: number, channels: number[]): Float32Array {
  const total = channels.reduce((a, b) => a + b, 0);
  const y = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let offset = 0;
    parts.forEach((p, i) => {
      const c = channels[i]!;
      y.set(p.subarray(r * c, (r + 1) * c), r * total + offset);
      offset += c;
    });
  }
  return y;
}
