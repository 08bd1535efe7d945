// Normalisations over channels-last data: batch norm (inference, folded into
// a per-channel scale and shift), layer norm over the last dimension, and
// instance norm over the pixels of each image and channel.
//
// Statistics are two-pass rather than E[x²] − E[x]², which cancels badly
// when |mean| ≫ std: a first mean m₀, then the deviations d = x − m₀, whose
// sum corrects the mean's rounding (Chan, Golub & LeVeque's corrected
// two-pass): mean = m₀ + Σd/n, var = (Σd² − (Σd)²/n)/n, and outputs are
// formed from (x − m₀) − Σd/n, so a large mean costs no precision. The
// variance is the biased one (divided by n), as PyTorch normalises with.

import { ACT_NONE, ACT_RELU, ACT_RELU6, activate4, activate1 } from './activation';
import { madd } from './simd';

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * Batch norm in inference: y = act(x · scale + shift) for the first C
 * channels of each of `rows` rows, x rows `xStride` floats apart and y rows
 * `yStride` apart, where the host folded the running statistics and affine
 * parameters into scale = γ/√(var + ε) and shift = β − mean · scale
 * (ops/norm.ts). The strides let DenseNet normalise the leading channels of
 * its growing block buffer in place of a concatenated copy.
 */
export function f32_batchnorm_nhwc(rows: i32, C: i32, x: usize, xStride: i32, scale: usize, shift: usize, act: i32, y: usize, yStride: i32): void {
  // Constant codes let the cheap activations compile without the per-vector
  // switch, which otherwise costs a quarter of the time.
  switch (act) {
    case ACT_NONE: batchNormRows(rows, C, x, xStride, scale, shift, ACT_NONE, y, yStride); break;
    case ACT_RELU: batchNormRows(rows, C, x, xStride, scale, shift, ACT_RELU, y, yStride); break;
    case ACT_RELU6: batchNormRows(rows, C, x, xStride, scale, shift, ACT_RELU6, y, yStride); break;
    default: batchNormRows(rows, C, x, xStride, scale, shift, act, y, yStride);
  }
}

// @ts-ignore: decorator
@inline function batchNormRows(rows: i32, C: i32, x: usize, xStride: i32, scale: usize, shift: usize, act: i32, y: usize, yStride: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>xStride << 2);
    const yr = y + (<usize>r * <usize>yStride << 2);
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      const v = f32x4.add(f32x4.mul(v128.load(xr + o), v128.load(scale + o)), v128.load(shift + o));
      v128.store(yr + o, activate4(v, act));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, activate1(load<f32>(xr + o) * load<f32>(scale + o) + load<f32>(shift + o), act));
    }
  }
}

/**
 * Layer norm over the last dimension of x [rows, C]:
 * y = (x − mean) / √(var + ε) · γ + β, with γ and β [C] optional (0 = none).
 */
export function f32_layernorm(rows: i32, C: i32, x: usize, gamma: usize, beta: usize, eps: f32, y: usize): void {
  const rowB = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowB;
    const yr = y + <usize>r * rowB;
    let vs = f32x4.splat(0);
    let c = 0;
    for (; c + 4 <= C; c += 4) vs = f32x4.add(vs, v128.load(xr + (<usize>c << 2)));
    let s = hsum(vs);
    for (; c < C; c++) s += load<f32>(xr + (<usize>c << 2));
    const m0 = s / <f32>C;
    const vm = f32x4.splat(m0);
    let vd = f32x4.splat(0), vq = f32x4.splat(0);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const d = f32x4.sub(v128.load(xr + (<usize>c << 2)), vm);
      vd = f32x4.add(vd, d);
      vq = madd(d, d, vq);
    }
    let sd = hsum(vd), q = hsum(vq);
    for (; c < C; c++) {
      const d = load<f32>(xr + (<usize>c << 2)) - m0;
      sd += d;
      q += d * d;
    }
    const corr = sd / <f32>C;
    const rstd: f32 = 1.0 / sqrt<f32>(max<f32>(q - sd * corr, 0) / <f32>C + eps);
    const vc = f32x4.splat(corr);
    const vr = f32x4.splat(rstd);
    c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = <usize>c << 2;
      let v = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), vm), vc), vr);
      if (gamma) v = f32x4.mul(v, v128.load(gamma + o));
      if (beta) v = f32x4.add(v, v128.load(beta + o));
      v128.store(yr + o, v);
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      let v = (load<f32>(xr + o) - m0 - corr) * rstd;
      if (gamma) v *= load<f32>(gamma + o);
      if (beta) v += load<f32>(beta + o);
      store<f32>(yr + o, v);
    }
  }
}

/**
 * Instance norm (PyTorch F.instance_norm): for each image n and channel c,
 * x[n, :, c] over its HW pixels is normalised to
 * (x − mean) / √(var + ε) · γ[c] + β[c]; x and y are [N, HW, C], γ and β [C]
 * optional (0 = none). Four channels at a time, each pass striding over the pixels.
 */
export function f32_instancenorm_nhwc(N: i32, HW: i32, C: i32, x: usize, gamma: usize, beta: usize, eps: f32,
  y: usize): void {
  const rowB = <usize>C << 2;
  const count = <f32>HW;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>HW * rowB;
    const yn = y + <usize>n * <usize>HW * rowB;
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const co = <usize>c << 2;
      let s = f32x4.splat(0);
      for (let p = 0; p < HW; p++) s = f32x4.add(s, v128.load(xn + <usize>p * rowB + co));
      const vn = f32x4.splat(count);
      const m0 = f32x4.div(s, vn);
      let sd = f32x4.splat(0), q = f32x4.splat(0);
      for (let p = 0; p < HW; p++) {
        const d = f32x4.sub(v128.load(xn + <usize>p * rowB + co), m0);
        sd = f32x4.add(sd, d);
        q = madd(d, d, q);
      }
      const corr = f32x4.div(sd, vn);
      const v = f32x4.div(f32x4.max(f32x4.sub(q, f32x4.mul(sd, corr)), f32x4.splat(0)), vn);
      let a = f32x4.div(f32x4.splat(1.0), f32x4.sqrt(f32x4.add(v, f32x4.splat(eps))));
      if (gamma) a = f32x4.mul(a, v128.load(gamma + co));
      const b = beta ? v128.load(beta + co) : f32x4.splat(0);
      for (let p = 0; p < HW; p++) {
        const o = <usize>p * rowB + co;
        v128.store(yn + o, f32x4.add(f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xn + o), m0), corr), a), b));
      }
    }
    for (; c < C; c++) {
      const co = <usize>c << 2;
      let s: f32 = 0;
      for (let p = 0; p < HW; p++) s += load<f32>(xn + <usize>p * rowB + co);
      const m0 = s / count;
      let sd: f32 = 0, q: f32 = 0;
      for (let p = 0; p < HW; p++) {
        const d = load<f32>(xn + <usize>p * rowB + co) - m0;
        sd += d;
        q += d * d;
      }
      const corr = sd / count;
      let a: f32 = 1.0 / sqrt<f32>(max<f32>(q - sd * corr, 0) / count + eps);
      if (gamma) a *= load<f32>(gamma + co);
      const b: f32 = beta ? load<f32>(beta + co) : 0;
      for (let p = 0; p < HW; p++) {
        const o = <usize>p * rowB + co;
        store<f32>(yn + o, (load<f32>(xn + o) - m0 - corr) * a + b);
      }
    }
  }
}
