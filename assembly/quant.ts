// int8 Linear layers by dynamic quantisation, as onnxruntime's dynamic
// quantisation and CTranslate2's int8 do it: the weight quantised once per
// output channel, each input row quantised when it arrives, the products
// summed in integers and scaled back to float.
//
//   q = round(v / s) with s = max|v| / 127 per row (ties to even; a row of zeros has s = 0, q = 0)
//   y[m, n] = act(sx[m] · sw[n] · Σ_k qx[m, k] · qw[n, k] + bias[n])
//
// Rows are padded with zeros to Kp, a multiple of 16, so the inner loop takes
// 16 bytes at a time: sign-extended to two i16x8 halves, multiplied pairwise
// and summed into i32 lanes by i32x4.dot_i16x8_s. |q| ≤ 127, so a sum of K
// products stays below 2³¹ for K up to 133,000.
//
// Decoding reads every weight once per token: int8 reads a quarter of the
// bytes float32 does, which is what bounds a decoder step at opus-mt's size.
//
// The relaxed build (simd.ts) multiplies and pairs 16 bytes in one
// instruction, i16x8.relaxed_dot_i8x16_i7x16_s, whose second operand must be
// 7 bits and non-negative (then a pairwise widening add). There the input rows are quantised to ±63 and stored
// with 64 added (1…127), and the weight's row sums correct for it:
// Σ w·(q + 64) − 64·Σ w = Σ w·q. The SIMD128 build quantises inputs to ±127.

import { ACT_NONE, activate1 } from './activation';

/** Levels either side of zero an input row is quantised to, and what is added to each stored byte. */
const INPUT_LEVELS: f32 = ASC_FEATURE_RELAXED_SIMD ? 63 : 127;
const INPUT_OFFSET: i32 = ASC_FEATURE_RELAXED_SIMD ? 64 : 0;

/**
 * Quantises a weight per output channel: x [M, K] (row stride ldx floats) →
 * q [M, Kp] int8 (zeros past K, levels ±127), scales [M] f32 and each row's
 * sum of q as i32 [M] (sums, for the relaxed build's offset inputs).
 */
export function i8_quantize_rows(M: i32, K: i32, x: usize, ldx: i32, q: usize, Kp: i32, scales: usize, sums: usize): void {
  for (let m = 0; m < M; m++) {
    const row = q + <usize>m * <usize>Kp;
    quantizeRow(K, x + ((<usize>m * <usize>ldx) << 2), row, Kp, scales + (<usize>m << 2), 127, 0);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += <i32>load<i8>(row + <usize>k);
    store<i32>(sums + (<usize>m << 2), sum);
  }
}

// q = nearest(x · levels / max|x|) + offset (offset past K too), scale = max|x| / levels.
// @ts-ignore: decorator
@inline function quantizeRow(K: i32, x: usize, q: usize, Kp: i32, scale: usize, levels: f32, offset: i32): void {
  let peak = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) peak = f32x4.max(peak, f32x4.abs(v128.load(x + (<usize>k << 2))));
  let absmax = max(max(f32x4.extract_lane(peak, 0), f32x4.extract_lane(peak, 1)), max(f32x4.extract_lane(peak, 2), f32x4.extract_lane(peak, 3)));
  for (; k < K; k++) absmax = max(absmax, abs(load<f32>(x + (<usize>k << 2))));
  const inv: f32 = absmax > 0 ? levels / absmax : 0;
  store<f32>(scale, absmax / levels);
  const s = f32x4.splat(inv);
  const add = i32x4.splat(offset);
  k = 0;
  for (; k + 16 <= K; k += 16) {
    const at = x + (<usize>k << 2);
    const a = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(at), s))), add);
    const b = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(at, 16), s))), add);
    const c = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(at, 32), s))), add);
    const d = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(at, 48), s))), add);
    v128.store(q + <usize>k, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  }
  for (; k < K; k++) store<i8>(q + <usize>k, <i8>(<i32>nearest(load<f32>(x + (<usize>k << 2)) * inv) + offset));
  for (; k < Kp; k++) store<i8>(q + <usize>k, <i8>offset);
}

// acc + Σ of 16 int8 products of the weight bytes w and the input bytes a: in the relaxed build a
// relaxed dot (a holds 1…127); else a's halves, lo and hi, sign-extended to i16x8 once per 16 bytes.
// @ts-ignore: decorator
@inline function dot16(a: v128, lo: v128, hi: v128, w: v128, acc: v128): v128 {
  // (Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the sum from it, measured here.)
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a)));
  return i32x4.add(acc, i32x4.add(
    i32x4.dot_i16x8_s(lo, i16x8.extend_low_i8x16_s(w)),
    i32x4.dot_i16x8_s(hi, i16x8.extend_high_i8x16_s(w))));
}

// @ts-ignore: decorator
@inline function lanes(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function finish(dot: i32, sx: f32, sw: usize, sums: usize, bias: usize, y: usize, n: i32, act: i32, accumulate: i32): void {
  const sum = dot - INPUT_OFFSET * load<i32>(sums + (<usize>n << 2));
  let v: f32 = <f32>sum * (sx * load<f32>(sw + (<usize>n << 2)));
  if (bias) v += load<f32>(bias + (<usize>n << 2));
  const out = y + (<usize>n << 2);
  if (accumulate) v += load<f32>(out);
  store<f32>(out, act == ACT_NONE ? v : activate1(v, act));
}

/**
 * y [M, N] (row stride ldy) = act(x·Wᵀ + bias), or act(y + x·Wᵀ + bias) with
 * accumulate = 1, for x [M, K] f32 (stride ldx) and W quantised by
 * i8_quantize_rows into qw [N, Kp] with scales sw [N] and row sums [N]. Each
 * row of x is quantised into `scratch` (Kp + 4 bytes) first. bias is [N] or 0.
 */
export function i8_linear(M: i32, N: i32, K: i32, x: usize, ldx: i32, scratch: usize, qw: usize, Kp: i32, sw: usize,
  sums: usize, bias: usize, y: usize, ldy: i32, act: i32, accumulate: i32): void {
  const sxAt = scratch + <usize>Kp; // the row's scale, after its bytes
  for (let m = 0; m < M; m++) {
    quantizeRow(K, x + ((<usize>m * <usize>ldx) << 2), scratch, Kp, sxAt, INPUT_LEVELS, INPUT_OFFSET);
    const sx = load<f32>(sxAt);
    const row = y + ((<usize>m * <usize>ldy) << 2);
    let n = 0;
    // Four output channels at a time: each 16 bytes of the row serve four weight rows.
    for (; n + 4 <= N; n += 4) {
      const w0 = qw + <usize>n * <usize>Kp;
      const w1 = w0 + <usize>Kp, w2 = w1 + <usize>Kp, w3 = w2 + <usize>Kp;
      let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const a = v128.load(scratch + <usize>k);
        const lo = i16x8.extend_low_i8x16_s(a), hi = i16x8.extend_high_i8x16_s(a);
        c0 = dot16(a, lo, hi, v128.load(w0 + <usize>k), c0);
        c1 = dot16(a, lo, hi, v128.load(w1 + <usize>k), c1);
        c2 = dot16(a, lo, hi, v128.load(w2 + <usize>k), c2);
        c3 = dot16(a, lo, hi, v128.load(w3 + <usize>k), c3);
      }
      finish(lanes(c0), sx, sw, sums, bias, row, n, act, accumulate);
      finish(lanes(c1), sx, sw, sums, bias, row, n + 1, act, accumulate);
      finish(lanes(c2), sx, sw, sums, bias, row, n + 2, act, accumulate);
      finish(lanes(c3), sx, sw, sums, bias, row, n + 3, act, accumulate);
    }
    for (; n < N; n++) {
      const w = qw + <usize>n * <usize>Kp;
      let c = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const a = v128.load(scratch + <usize>k);
        c = dot16(a, i16x8.extend_low_i8x16_s(a), i16x8.extend_high_i8x16_s(a), v128.load(w + <usize>k), c);
      }
      finish(lanes(c), sx, sw, sums, bias, row, n, act, accumulate);
    }
  }
}
