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
// relaxed dot (a holds 1…127); else the halves of both, sign-extended to i16x8 (alo, ahi, wlo, whi), are
// multiplied pairwise. The caller extends each vector once, however many products it serves.
// @ts-ignore: decorator
@inline function dot16(a: v128, alo: v128, ahi: v128, w: v128, wlo: v128, whi: v128, acc: v128): v128 {
  // (Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the sum from it, measured here.)
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(w, a)));
  return i32x4.add(acc, i32x4.add(i32x4.dot_i16x8_s(alo, wlo), i32x4.dot_i16x8_s(ahi, whi)));
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
 * i8_quantize_rows into qw [N, Kp] with scales sw [N] and row sums [N]. The
 * rows of x are quantised into `scratch` first (M · Kp bytes, then M scales:
 * i8LinearScratch bytes). bias is [N] or 0.
 */
export function i8_linear(M: i32, N: i32, K: i32, x: usize, ldx: i32, scratch: usize, qw: usize, Kp: i32, sw: usize,
  sums: usize, bias: usize, y: usize, ldy: i32, act: i32, accumulate: i32): void {
  const sxAt = scratch + <usize>M * <usize>Kp; // the rows' scales, after their bytes
  for (let m = 0; m < M; m++) {
    quantizeRow(K, x + ((<usize>m * <usize>ldx) << 2), scratch + <usize>m * <usize>Kp, Kp, sxAt + (<usize>m << 2), INPUT_LEVELS, INPUT_OFFSET);
  }
  // Four output channels at a time, and for each, every row: the four weight rows (4 · Kp bytes) are read
  // from memory once per call and the quantised rows stay in cache, where a row at a time would stream the
  // whole weight once per row. Two rows share each weight vector loaded (and, in SIMD128, extended).
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const w0 = qw + <usize>n * <usize>Kp;
    const w1 = w0 + <usize>Kp, w2 = w1 + <usize>Kp, w3 = w2 + <usize>Kp;
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      const x0 = scratch + <usize>m * <usize>Kp, x1 = x0 + <usize>Kp;
      let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c02 = i32x4.splat(0), c03 = i32x4.splat(0);
      let c10 = i32x4.splat(0), c11 = i32x4.splat(0), c12 = i32x4.splat(0), c13 = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const a0 = v128.load(x0 + <usize>k), a1 = v128.load(x1 + <usize>k);
        const a0lo = i16x8.extend_low_i8x16_s(a0), a0hi = i16x8.extend_high_i8x16_s(a0);
        const a1lo = i16x8.extend_low_i8x16_s(a1), a1hi = i16x8.extend_high_i8x16_s(a1);
        let w = v128.load(w0 + <usize>k);
        let wlo = i16x8.extend_low_i8x16_s(w), whi = i16x8.extend_high_i8x16_s(w);
        c00 = dot16(a0, a0lo, a0hi, w, wlo, whi, c00);
        c10 = dot16(a1, a1lo, a1hi, w, wlo, whi, c10);
        w = v128.load(w1 + <usize>k);
        wlo = i16x8.extend_low_i8x16_s(w); whi = i16x8.extend_high_i8x16_s(w);
        c01 = dot16(a0, a0lo, a0hi, w, wlo, whi, c01);
        c11 = dot16(a1, a1lo, a1hi, w, wlo, whi, c11);
        w = v128.load(w2 + <usize>k);
        wlo = i16x8.extend_low_i8x16_s(w); whi = i16x8.extend_high_i8x16_s(w);
        c02 = dot16(a0, a0lo, a0hi, w, wlo, whi, c02);
        c12 = dot16(a1, a1lo, a1hi, w, wlo, whi, c12);
        w = v128.load(w3 + <usize>k);
        wlo = i16x8.extend_low_i8x16_s(w); whi = i16x8.extend_high_i8x16_s(w);
        c03 = dot16(a0, a0lo, a0hi, w, wlo, whi, c03);
        c13 = dot16(a1, a1lo, a1hi, w, wlo, whi, c13);
      }
      const sx0 = load<f32>(sxAt + (<usize>m << 2)), sx1 = load<f32>(sxAt + (<usize>(m + 1) << 2));
      const y0 = y + ((<usize>m * <usize>ldy) << 2), y1 = y0 + (<usize>ldy << 2);
      finish(lanes(c00), sx0, sw, sums, bias, y0, n, act, accumulate);
      finish(lanes(c01), sx0, sw, sums, bias, y0, n + 1, act, accumulate);
      finish(lanes(c02), sx0, sw, sums, bias, y0, n + 2, act, accumulate);
      finish(lanes(c03), sx0, sw, sums, bias, y0, n + 3, act, accumulate);
      finish(lanes(c10), sx1, sw, sums, bias, y1, n, act, accumulate);
      finish(lanes(c11), sx1, sw, sums, bias, y1, n + 1, act, accumulate);
      finish(lanes(c12), sx1, sw, sums, bias, y1, n + 2, act, accumulate);
      finish(lanes(c13), sx1, sw, sums, bias, y1, n + 3, act, accumulate);
    }
    for (; m < M; m++) {
      const x0 = scratch + <usize>m * <usize>Kp;
      let c0 = i32x4.splat(0), c1 = i32x4.splat(0), c2 = i32x4.splat(0), c3 = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const a = v128.load(x0 + <usize>k);
        const alo = i16x8.extend_low_i8x16_s(a), ahi = i16x8.extend_high_i8x16_s(a);
        let w = v128.load(w0 + <usize>k);
        c0 = dot16(a, alo, ahi, w, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), c0);
        w = v128.load(w1 + <usize>k);
        c1 = dot16(a, alo, ahi, w, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), c1);
        w = v128.load(w2 + <usize>k);
        c2 = dot16(a, alo, ahi, w, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), c2);
        w = v128.load(w3 + <usize>k);
        c3 = dot16(a, alo, ahi, w, i16x8.extend_low_i8x16_s(w), i16x8.extend_high_i8x16_s(w), c3);
      }
      const sx = load<f32>(sxAt + (<usize>m << 2));
      const row = y + ((<usize>m * <usize>ldy) << 2);
      finish(lanes(c0), sx, sw, sums, bias, row, n, act, accumulate);
      finish(lanes(c1), sx, sw, sums, bias, row, n + 1, act, accumulate);
      finish(lanes(c2), sx, sw, sums, bias, row, n + 2, act, accumulate);
      finish(lanes(c3), sx, sw, sums, bias, row, n + 3, act, accumulate);
    }
  }
  for (; n < N; n++) {
    const w = qw + <usize>n * <usize>Kp;
    for (let m = 0; m < M; m++) {
      const x0 = scratch + <usize>m * <usize>Kp;
      let c = i32x4.splat(0);
      for (let k = 0; k < Kp; k += 16) {
        const a = v128.load(x0 + <usize>k), v = v128.load(w + <usize>k);
        c = dot16(a, i16x8.extend_low_i8x16_s(a), i16x8.extend_high_i8x16_s(a), v, i16x8.extend_low_i8x16_s(v), i16x8.extend_high_i8x16_s(v), c);
      }
      finish(lanes(c), load<f32>(sxAt + (<usize>m << 2)), sw, sums, bias, y + ((<usize>m * <usize>ldy) << 2), n, act, accumulate);
    }
  }
}
