// Activations and elementwise kernels over f32 arrays in linear memory.
//
// The vector math here (exp, tanh, sigmoid, erf) is also what GEMM and the
// convolutions use to fuse an activation into their write-back, so that a
// layer's output is touched once.

// Activation codes shared with the host (ACTIVATION_CODES in
// src/runtime/ops/activation.ts; ACT_GATED, for f32_causal_conv1d only, is in
// conv.ts). test/runtime/kernel-interface.test.ts checks that both agree.
import { madd } from './simd';

export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_GELU: i32 = 3; // exact (erf) GELU, PyTorch's default
export const ACT_TANH: i32 = 4;
export const ACT_SIGMOID: i32 = 5;
export const ACT_SILU: i32 = 6; // x·sigmoid(x), PyTorch's SiLU ("swish" in Hugging Face configs)

// exp(x) for four lanes: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-6
// polynomial (Cephes expf coefficients), 2^n built in the exponent bits.
// Relative error ≈ 2 ulp; inputs below −87.3 give 0 and inputs above 88 give
// exp(88) ≈ 1.65e38 (so 2^n never reaches the infinite exponent). Each
// multiply–add is a madd: fused in the relaxed build, as in SIMD128 otherwise
// (where c + a·b rounds exactly as the separate steps always did).
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  // pmin/pmax are one instruction each (min/max are ~8 with NaN handling);
  // a NaN x still comes through as NaN.
  x = f32x4.pmin(x, f32x4.splat(88.0));
  const tooSmall = f32x4.lt(x, f32x4.splat(-87.33654));
  x = f32x4.pmax(x, f32x4.splat(-87.33654));
  // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n (ties to even,
  // as f32x4.nearest) and leaves n in the low mantissa bits, so 2^n is those
  // bits + 127 shifted into the exponent: no float-to-int conversion, which
  // V8 lowers to about eight instructions.
  const magic = f32x4.splat(12582912.0);
  const t = madd(x, f32x4.splat(1.44269504088896341), magic);
  const n = f32x4.sub(t, magic);
  let r = madd(n, f32x4.splat(-0.693359375), x);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  const r2 = f32x4.mul(r, r);
  p = f32x4.add(madd(p, r2, r), f32x4.splat(1.0));
  const pow2n = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, pow2n), tooSmall);
}

// log(x) for x > 0 (Cephes logf): x = 2^e·m with m in [√½, √2), log(m) by a
// polynomial. Written out because Math.log brings lookup tables, and data
// segments would break instantiating over a shared memory.
// @ts-ignore: decorator
@inline function logf(x: f32): f32 {
  const bits = reinterpret<i32>(x);
  let e = <f32>((bits >> 23) - 126);
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f000000); // [0.5, 1)
  if (m < 0.70710678) { m = m + m - 1.0; e -= 1.0; } else { m = m - 1.0; }
  const z = m * m;
  let p: f32 = 7.0376836292e-2;
  p = p * m - 1.1514610310e-1;
  p = p * m + 1.1676998740e-1;
  p = p * m - 1.2420140846e-1;
  p = p * m + 1.4249322787e-1;
  p = p * m - 1.6668057665e-1;
  p = p * m + 2.0000714765e-1;
  p = p * m - 2.4999993993e-1;
  p = p * m + 3.3333331174e-1;
  let y = p * m * z;
  y += -2.12194440e-4 * e;
  y += -0.5 * z;
  return m + y + 0.693359375 * e;
}

// sigmoid(x) = 1 / (1 + exp(-x)); exact to ~1e-7 absolute everywhere.
// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(x))));
}

// silu(x) = x · sigmoid(x) = x / (1 + exp(−x)), as PyTorch computes it: one
// division, and exp(−x) saturating at exp(88) keeps large negative x at −0.
// @ts-ignore: decorator
@inline export function silu4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1.0), exp4(f32x4.neg(x))));
}

// tanh(x) = sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|): never overflows.
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const e = exp4(f32x4.mul(f32x4.abs(x), f32x4.splat(-2.0)));
  const t = f32x4.div(f32x4.sub(f32x4.splat(1.0), e), f32x4.add(f32x4.splat(1.0), e));
  // copy the sign bit of x onto t
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), odd-extended.
// @ts-ignore: decorator
@inline export function erf4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const t = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), f32x4.mul(ax, f32x4.splat(0.3275911))));
  let p = f32x4.splat(1.061405429);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-0.284496736));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592));
  p = f32x4.mul(p, t);
  const y = f32x4.sub(f32x4.splat(1.0), f32x4.mul(p, exp4(f32x4.neg(f32x4.mul(ax, ax)))));
  return v128.or(y, v128.and(x, i32x4.splat(0x80000000)));
}

// gelu(x) = x/2 · (1 + erf(x/√2))
// @ts-ignore: decorator
@inline export function gelu4(x: v128): v128 {
  const e = erf4(f32x4.mul(x, f32x4.splat(0.7071067811865476)));
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), f32x4.add(f32x4.splat(1.0), e));
}

// @ts-ignore: decorator
@inline export function activate4(x: v128, act: i32): v128 {
  switch (act) {
    // pmax(x, 0) is x < 0 ? 0 : x, one instruction, and lets NaN through.
    case ACT_RELU: return f32x4.pmax(x, f32x4.splat(0));
    case ACT_RELU6: return f32x4.pmin(f32x4.pmax(x, f32x4.splat(0)), f32x4.splat(6.0));
    case ACT_GELU: return gelu4(x);
    case ACT_TANH: return tanh4(x);
    case ACT_SIGMOID: return sigmoid4(x);
    case ACT_SILU: return silu4(x);
    default: return x;
  }
}

// The scalar tails reuse the vector code on one lane so that a value gets the
// same result whichever lane or tail it lands in.
// @ts-ignore: decorator
@inline export function activate1(x: f32, act: i32): f32 {
  return act == ACT_NONE ? x : f32x4.extract_lane(activate4(f32x4.splat(x), act), 0);
}

/** y[i] = act(x[i]) for i < n; x and y may be the same array. */
export function f32_activation(n: i32, x: usize, y: usize, act: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, activate4(v128.load(x + o), act));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, activate1(load<f32>(x + o), act));
  }
}

/**
 * WaveNet's gated unit: y[r, c] = tanh(x[r, c]) · sigmoid(x[r, C + c]).
 * x is [rows, 2C] (filter half, then gate half, as one conv produces them),
 * y is [rows, C].
 */
export function f32_gated_tanh(rows: i32, C: i32, x: usize, y: usize): void {
  for (let r = 0; r < rows; r++) {
    const xf = x + ((<usize>r * <usize>(2 * C)) << 2);
    const xg = xf + (<usize>C << 2);
    const yr = y + ((<usize>r * <usize>C) << 2);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      v128.store(yr + o, gate4(v128.load(xf + o), v128.load(xg + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, f32x4.extract_lane(gate4(f32x4.splat(load<f32>(xf + o)), f32x4.splat(load<f32>(xg + o))), 0));
    }
  }
}

// WaveNet's gate tanh(f) · σ(g), the hottest elementwise op of a WaveNet (two per channel per sample per
// layer). With σ(g) = (1 + tanh(g/2)) / 2 and tanh as Eigen's rational approximation p(x)/q(x) (x clamped
// to ±7.9, where float tanh is ±1; within 3.3e-7 of tanh), the product is one fraction:
// tanh(f)·σ(g) = p_f·(q_g + p_g) / (2·q_f·q_g). One division and no exp: about 3× faster than tanh4 · sigmoid4.
// @ts-ignore: decorator
@inline function gate4(f: v128, g: v128): v128 {
  // (No static table for the constants: the heap starts at address 64 and a data segment would be
  // overwritten by the weights, or would overwrite them when a worker instantiates the module.)
  f = f32x4.pmax(f32x4.pmin(f, f32x4.splat(7.90531110763549805)), f32x4.splat(-7.90531110763549805));
  g = f32x4.mul(g, f32x4.splat(0.5));
  g = f32x4.pmax(f32x4.pmin(g, f32x4.splat(7.90531110763549805)), f32x4.splat(-7.90531110763549805));
  const f2 = f32x4.mul(f, f), g2 = f32x4.mul(g, g);
  const pf = f32x4.mul(f, tanhNumerator(f2)), pg = f32x4.mul(g, tanhNumerator(g2));
  const qf = tanhDenominator(f2), qg = tanhDenominator(g2);
  return f32x4.div(f32x4.mul(pf, f32x4.add(qg, pg)), f32x4.mul(f32x4.add(qf, qf), qg));
}

// Eigen's generic_fast_tanh_float: tanh(x) ≈ x·N(x²) / D(x²).
// @ts-ignore: decorator
@inline function tanhNumerator(x2: v128): v128 {
  let p = f32x4.splat(-2.76076847742355e-16);
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(2.00018790482477e-13));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(-8.60467152213735e-11));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(5.12229709037114e-08));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(1.48572235717979e-05));
  p = f32x4.add(f32x4.mul(p, x2), f32x4.splat(6.37261928875436e-04));
  return f32x4.add(f32x4.mul(p, x2), f32x4.splat(4.89352455891786e-03));
}

// @ts-ignore: decorator
@inline function tanhDenominator(x2: v128): v128 {
  let q = f32x4.splat(1.19825839466702e-06);
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(1.18534705686654e-04));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(2.26843463243900e-03));
  return f32x4.add(f32x4.mul(q, x2), f32x4.splat(4.89352518554385e-03));
}

/** Row-wise softmax (log = 0) or log-softmax (log = 1) of x [rows, n] into y. */
export function f32_softmax_rows(rows: i32, n: i32, x: usize, y: usize, log: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>n) << 2);
    const yr = y + ((<usize>r * <usize>n) << 2);
    softmaxRow(n, xr, yr, 1.0, log);
  }
}

/**
 * softmax(scale·x) of one row, max-subtracted for stability. Shared with the
 * attention kernel, which folds 1/√d into `scale`.
 */
export function softmaxRow(n: i32, x: usize, y: usize, scale: f32, log: i32): void {
  if (n <= 0) return;
  let vmax = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) vmax = f32x4.max(vmax, v128.load(x + (<usize>i << 2)));
  let m = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
    max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; i < n; i++) m = max(m, load<f32>(x + (<usize>i << 2)));
  const vm = f32x4.splat(m);
  const vs = f32x4.splat(scale);
  let vsum = f32x4.splat(0);
  let sum: f32 = 0;
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const e = exp4(f32x4.mul(f32x4.sub(v128.load(x + o), vm), vs));
    vsum = f32x4.add(vsum, e);
    if (!log) v128.store(y + o, e);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const e = f32x4.extract_lane(exp4(f32x4.splat((load<f32>(x + o) - m) * scale)), 0);
    sum += e;
    if (!log) store<f32>(y + o, e);
  }
  sum += f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) +
    f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
  if (log) {
    // log softmax = s·(x − m) − log Σ exp(s·(x − m))
    const lse = f32x4.splat(logf(sum));
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.sub(f32x4.mul(f32x4.sub(v128.load(x + o), vm), vs), lse));
    }
    const l = f32x4.extract_lane(lse, 0);
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, (load<f32>(x + o) - m) * scale - l);
    }
  } else {
    const inv = f32x4.splat(1.0 / sum);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(v128.load(y + o), inv));
    }
    const s = f32x4.extract_lane(inv, 0);
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, load<f32>(y + o) * s);
    }
  }
}

/** y = a + b, elementwise over n values (any of them may alias). */
export function f32_add(n: i32, a: usize, b: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** y = a · b, elementwise over n values (any of them may alias). */
export function f32_mul(n: i32, a: usize, b: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

/**
 * Copies a [rows, cols] block between row-strided arrays. Channel concat of
 * channels-last tensors is one call per input, each into its column offset
 * of the output (dst = out + offset, dstStride = total channels).
 */
export function f32_copy_rows(rows: i32, cols: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  for (let r = 0; r < rows; r++) {
    const s = src + ((<usize>r * <usize>srcStride) << 2);
    const d = dst + ((<usize>r * <usize>dstStride) << 2);
    memory.copy(d, s, <usize>cols << 2);
  }
}

// exp(d) for two f64 lanes and d ≤ 709 by fdlibm's e_exp.c, the algorithm
// of V8's Math.exp, with its operations in its order: bit for bit the same
// as Node 20's Math.exp (x64) on 8 million d in [−708, 0]. d = k·ln2 + r with
// |r| ≤ ln2/2; exp(r) = 1 + r + r·c/(2 − c) with c = r − r²·P(r²), P fdlibm's
// degree-5 Remez fit to r·(e^r + 1)/(e^r − 1) − 2; 2^k built in the exponent
// bits as in exp4. d < −708 gives 0, where Math.exp gives a subnormal that
// cannot change a sum holding exp(0). No clamp: a NaN d stays NaN, and −∞
// (NaN in r) is masked to 0. The division costs 4% of f32_exp_sums' time;
// the Taylor series to degree 13, with none, was 5–15% slower and only 95%
// bit-equal.
// @ts-ignore: decorator
@inline function expF64x2(d: v128): v128 {
  const tooSmall = f64x2.lt(d, f64x2.splat(-708.0));
  // 1.5·2^52: the sum rounds d·log2(e) to an integer k and holds it in its
  // low mantissa bits.
  const magic = f64x2.splat(6755399441055744.0);
  const kBits = f64x2.add(f64x2.mul(d, f64x2.splat(1.44269504088896338700)), magic);
  const k = f64x2.sub(kBits, magic);
  // ln2 = ln2Hi + ln2Lo: k·ln2Hi is exact for |k| < 2^21, so hi is exact.
  const hi = f64x2.sub(d, f64x2.mul(k, f64x2.splat(6.93147180369123816490e-01)));
  const lo = f64x2.mul(k, f64x2.splat(1.90821492927058770002e-10));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  // Horner, as fdlibm: Estrin's scheme was no faster and rounds differently (1 d in 4,000).
  let p = f64x2.add(f64x2.mul(t, f64x2.splat(4.13813679705723846039e-08)), f64x2.splat(-1.65339022054652515390e-06));
  p = f64x2.add(f64x2.mul(t, p), f64x2.splat(6.61375632143793436117e-05));
  p = f64x2.add(f64x2.mul(t, p), f64x2.splat(-2.77777777770155933842e-03));
  p = f64x2.add(f64x2.mul(t, p), f64x2.splat(1.66666666666666019037e-01));
  const c = f64x2.sub(r, f64x2.mul(t, p));
  const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2.0), c));
  const y = f64x2.sub(f64x2.splat(1.0), f64x2.sub(f64x2.sub(lo, q), hi));
  const pow2k = i64x2.shl(i64x2.add(kBits, i64x2.splat(1023)), 52);
  return v128.andnot(f64x2.mul(y, pow2k), tooSmall);
}

/**
 * The largest of the n floats at xr, as Math.max over them: NaN if any is
 * NaN, +0 over −0. f32x4.max and max() propagate NaN and rank +0 over −0, as
 * Math.max does. f32x4.max is seven dependent instructions in V8 (for NaN
 * and the zeros): four chains of it take this pass from 1.4 to 0.42 ns an
 * element.
 */
@inline function rowMax(xr: usize, n: i32): f32 {
  let vmax = f32x4.splat(-Infinity);
  let vmax1 = vmax, vmax2 = vmax, vmax3 = vmax;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = xr + (<usize>i << 2);
    vmax = f32x4.max(vmax, v128.load(o));
    vmax1 = f32x4.max(vmax1, v128.load(o, 16));
    vmax2 = f32x4.max(vmax2, v128.load(o, 32));
    vmax3 = f32x4.max(vmax3, v128.load(o, 48));
  }
  vmax = f32x4.max(f32x4.max(vmax, vmax1), f32x4.max(vmax2, vmax3));
  for (; i + 4 <= n; i += 4) vmax = f32x4.max(vmax, v128.load(xr + (<usize>i << 2)));
  let m = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
    max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; i < n; i++) m = max(m, load<f32>(xr + (<usize>i << 2)));
  return m;
}

/**
 * Σ exp((x[i] − m) / T) over the n floats at xr in f64 (no division unless
 * `scaled`; with `truncated`, a term below `floor` counts as 0: min-p
 * sampling), added one term at a time in index order, so that the sum rounds
 * as the JavaScript loop over Math.exp does: equal to it, where summing in
 * two f64x2 lanes (6% faster) differed by up to 2.6e-13 on 58,101-wide rows,
 * as much as the loop's own rounding error. With `keep`, each running sum
 * is stored at `cdf` too. Callers pass `scaled`, `keep` and `truncated` as
 * constants, so each call gets a loop without the others' work once this is
 * inlined (the sampler has one call with min-p and one without).
 */
@inline function expSumInOrder(
  xr: usize, n: i32, m: f64, scaled: bool, T: f64, keep: bool, cdf: usize, truncated: bool = false, floor: f64 = 0,
): f64 {
  const vm = f64x2.splat(m);
  const vt = f64x2.splat(T);
  const vfloor = f64x2.splat(floor);
  let total: f64 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(xr + (<usize>i << 2));
    let d01 = f64x2.sub(f64x2.promote_low_f32x4(v), vm);
    let d23 = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3)), vm);
    if (scaled) {
      d01 = f64x2.div(d01, vt);
      d23 = f64x2.div(d23, vt);
    }
    let e01 = expF64x2(d01);
    let e23 = expF64x2(d23);
    if (truncated) {
      // Zero the terms below the floor (a NaN stays NaN, as in the scalar loop and the JavaScript rule).
      e01 = v128.andnot(e01, f64x2.lt(e01, vfloor));
      e23 = v128.andnot(e23, f64x2.lt(e23, vfloor));
    }
    const c = cdf + (<usize>i << 3);
    total += f64x2.extract_lane(e01, 0);
    if (keep) store<f64>(c, total);
    total += f64x2.extract_lane(e01, 1);
    if (keep) store<f64>(c, total, 8);
    total += f64x2.extract_lane(e23, 0);
    if (keep) store<f64>(c, total, 16);
    total += f64x2.extract_lane(e23, 1);
    if (keep) store<f64>(c, total, 24);
  }
  for (; i < n; i++) {
    let d = <f64>load<f32>(xr + (<usize>i << 2)) - m;
    if (scaled) d /= T;
    const e = f64x2.extract_lane(expF64x2(f64x2.splat(d)), 0);
    total += truncated && e < floor ? 0 : e;
    if (keep) store<f64>(cdf + (<usize>i << 3), total);
  }
  return total;
}

/**
 * For each row r of x [rows, n]: out[2r] = the row's maximum and out[2r + 1]
 * = Σ exp(x[r, v] − max), as f64 (out is f64 [rows, 2]), for the host to take
 * log Σ exp = max + log(sum) over 58,101-wide logit rows in beam and greedy
 * search. The sum is the one the loop `sum += Math.exp(x[v] − max)` makes,
 * to the bit where Math.exp is fdlibm's (V8 on x64), at a third of its time.
 * A NaN in a row, +∞, or a row of −∞ gives a NaN sum, as that loop does.
 */
export function f32_exp_sums(rows: i32, n: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>n) << 2);
    const m = rowMax(xr, n);
    const m64 = <f64>m;
    const sum = expSumInOrder(xr, n, m64, false, 1, false, 0);
    const o = out + (<usize>r << 4);
    store<f64>(o, m64);
    store<f64>(o, sum, 8);
  }
}

/**
 * Draws a class from each row of logits x [rows, n] by sampleCategorical's
 * rule (src/decode/sample.ts): temperature T = 0 takes the first maximum;
 * otherwise each class weighs e[i] = exp((x[i] − max) / T), its probability
 * over the most likely class's, or 0 where that is below the row's min-p
 * (min_p, as Hugging Face's MinPLogitsWarper: 0 keeps every class);
 * cdf[i] = Σ_{j ≤ i} e[j] in f64, summed in order, and the class is the
 * first i with cdf[i] ≥ u·cdf[n − 1] and cdf[i] > 0 (so u = 0 never draws
 * a class of weight 0; n − 1 if none). temperatures, minP
 * and u are f64 [rows]; a row whose u is negative is skipped (its out is
 * left as it was); cdf is f64 [n] of scratch; out is i32 [rows]. Each term
 * is the JavaScript's Math.exp to the bit where that is fdlibm's (V8 on
 * x64), so the draws are the JavaScript loop's; WaveNet generation spent a
 * fifth of its time in that loop.
 */
export function f32_sample_rows(rows: i32, n: i32, x: usize, temperatures: usize, minP: usize, u: usize, cdf: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const ur = load<f64>(u + (<usize>r << 3));
    if (ur < 0) continue;
    const xr = x + ((<usize>r * <usize>n) << 2);
    const m = rowMax(xr, n);
    const T = load<f64>(temperatures + (<usize>r << 3));
    let k = n - 1;
    if (T == 0) {
      for (let i = 0; i < n; i++) {
        if (load<f32>(xr + (<usize>i << 2)) == m) {
          k = i;
          break;
        }
      }
      store<i32>(out + (<usize>r << 2), k);
      continue;
    }
    const p = load<f64>(minP + (<usize>r << 3));
    const total = p > 0 ? expSumInOrder(xr, n, <f64>m, true, T, true, cdf, true, p) : expSumInOrder(xr, n, <f64>m, true, T, true, cdf);
    const target = ur * total;
    for (let j = 0; j < n; j++) {
      const c = load<f64>(cdf + (<usize>j << 3));
      if (c >= target && c > 0) {
        k = j;
        break;
      }
    }
    store<i32>(out + (<usize>r << 2), k);
  }
}
