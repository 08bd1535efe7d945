// Pooling, unpooling and upsampling over channels-last images x [N, H, W, C].
//
// Every kernel walks output pixels and, within a pixel, the channels four at
// a time (sixteen in the pooling loops, four independent registers): in NHWC
// the C values of one pixel are contiguous, so one window tap is a v128 load
// and the window's reduction stays in registers. Window and index arithmetic
// follows PyTorch's CPU kernels (ATen MaxPoolKernel.cpp, AvgPoolKernel.cpp,
// UpSample.h), so edge cases — padding, ceil mode, NaN, ties, non-integer
// scales — give PyTorch's answers.

// @ts-ignore: decorator
@inline function pixel(n: i32, h: i32, w: i32, H: i32, W: i32, C: i32): usize {
  return ((<usize>n * <usize>H + <usize>h) * <usize>W + <usize>w) * <usize>C << 2;
}

// Taps of a window along one axis: the first at or after 0 (stepping by the
// dilation, as PyTorch does) and how many fall before `end`.
// @ts-ignore: decorator
@inline function firstTap(start: i32, dilation: i32): i32 {
  while (start < 0) start += dilation;
  return start;
}

// @ts-ignore: decorator
@inline function tapCount(first: i32, end: i32, dilation: i32): i32 {
  return first < end ? (end - first + dilation - 1) / dilation : 0;
}

/**
 * Max pooling (PyTorch MaxPool2d): y [N, OH, OW, C]. Padding counts as −∞;
 * taps are `dilation` apart. A value replaces the running maximum when it is
 * greater or NaN, as in PyTorch: NaN propagates, ties keep the first maximum
 * in (kh, kw) order. indices (i32 [N, OH, OW, C], or 0 for none) get h·W + w
 * of each maximum — PyTorch's return_indices; a window with no tap above −∞
 * (or none inside the image) names its first tap. Ceil mode is the host
 * passing PyTorch's larger OH, OW.
 */
export function f32_maxpool2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, dilationW: i32, y: usize, indices: usize): void {
  const pixelB = <usize>C << 2;
  const stepH = <usize>dilationH * <usize>W * pixelB;
  const stepW = <usize>dilationW * pixelB;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const start = oh * strideH - padH;
      const h0 = firstTap(start, dilationH);
      const nh = tapCount(h0, min(start + (KH - 1) * dilationH + 1, H), dilationH);
      for (let ow = 0; ow < OW; ow++) {
        const wStart = ow * strideW - padW;
        const w0 = firstTap(wStart, dilationW);
        const nw = tapCount(w0, min(wStart + (KW - 1) * dilationW + 1, W), dilationW);
        const p = x + pixel(n, h0, w0, H, W, C);
        const o = pixel(n, oh, ow, OH, OW, C);
        let c = 0;
        if (indices) {
          const first = h0 * W + w0;
          for (; c + 4 <= C; c += 4) {
            maxIndexed4(p + (<usize>c << 2), nh, nw, stepH, stepW, first, dilationH * W, dilationW,
              y + o + (<usize>c << 2), indices + o + (<usize>c << 2));
          }
          for (; c < C; c++) {
            maxScalar(p + (<usize>c << 2), nh, nw, stepH, stepW, first, dilationH * W, dilationW,
              y + o + (<usize>c << 2), indices + o + (<usize>c << 2));
          }
        } else {
          for (; c + 16 <= C; c += 16) max16(p + (<usize>c << 2), nh, nw, stepH, stepW, y + o + (<usize>c << 2));
          for (; c + 4 <= C; c += 4) max4(p + (<usize>c << 2), nh, nw, stepH, stepW, y + o + (<usize>c << 2));
          for (; c < C; c++) maxScalar(p + (<usize>c << 2), nh, nw, stepH, stepW, 0, 0, 0, y + o + (<usize>c << 2), 0);
        }
      }
    }
  }
}

// Without indices the running maximum is f32x4.pmax(m, v) = m < v ? v : m,
// one x86 maxps that keeps m on ties (the first maximum, as PyTorch) but
// drops a NaN in v; NaNs are therefore gathered in a mask of their own and
// win at the end. (f32x4.max propagates NaN itself but costs V8 several
// instructions: 3× slower here.)
// @ts-ignore: decorator
@inline function max16(p: usize, nh: i32, nw: i32, stepH: usize, stepW: usize, yp: usize): void {
  let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
  let n0 = f32x4.splat(0), n1 = n0, n2 = n0, n3 = n0;
  for (let i = 0; i < nh; i++) {
    let q = p;
    for (let j = 0; j < nw; j++) {
      let v = v128.load(q);
      m0 = f32x4.pmax(m0, v); n0 = v128.or(n0, f32x4.ne(v, v));
      v = v128.load(q, 16);
      m1 = f32x4.pmax(m1, v); n1 = v128.or(n1, f32x4.ne(v, v));
      v = v128.load(q, 32);
      m2 = f32x4.pmax(m2, v); n2 = v128.or(n2, f32x4.ne(v, v));
      v = v128.load(q, 48);
      m3 = f32x4.pmax(m3, v); n3 = v128.or(n3, f32x4.ne(v, v));
      q += stepW;
    }
    p += stepH;
  }
  const nan = f32x4.splat(NaN);
  v128.store(yp, v128.bitselect(nan, m0, n0));
  v128.store(yp, v128.bitselect(nan, m1, n1), 16);
  v128.store(yp, v128.bitselect(nan, m2, n2), 32);
  v128.store(yp, v128.bitselect(nan, m3, n3), 48);
}

// @ts-ignore: decorator
@inline function max4(p: usize, nh: i32, nw: i32, stepH: usize, stepW: usize, yp: usize): void {
  let m = f32x4.splat(-Infinity);
  let nans = f32x4.splat(0);
  for (let i = 0; i < nh; i++) {
    let q = p;
    for (let j = 0; j < nw; j++) {
      const v = v128.load(q);
      m = f32x4.pmax(m, v);
      nans = v128.or(nans, f32x4.ne(v, v));
      q += stepW;
    }
    p += stepH;
  }
  v128.store(yp, v128.bitselect(f32x4.splat(NaN), m, nans));
}

// With indices, PyTorch's rule as written: take v when v > m or v is NaN.
// first is the index of the first tap; rowStep and colStep advance it.
// @ts-ignore: decorator
@inline function maxIndexed4(p: usize, nh: i32, nw: i32, stepH: usize, stepW: usize, first: i32, rowStep: i32,
  colStep: i32, yp: usize, ip: usize): void {
  let m = f32x4.splat(-Infinity);
  let idx = i32x4.splat(first);
  for (let i = 0; i < nh; i++) {
    let q = p;
    let at = first + i * rowStep;
    for (let j = 0; j < nw; j++) {
      const v = v128.load(q);
      const take = v128.or(f32x4.gt(v, m), f32x4.ne(v, v));
      m = v128.bitselect(v, m, take);
      idx = v128.bitselect(i32x4.splat(at), idx, take);
      q += stepW;
      at += colStep;
    }
    p += stepH;
  }
  v128.store(yp, m);
  v128.store(ip, idx);
}

// One channel; the index is stored when ip is not 0.
function maxScalar(p: usize, nh: i32, nw: i32, stepH: usize, stepW: usize, first: i32, rowStep: i32, colStep: i32,
  yp: usize, ip: usize): void {
  let m: f32 = -Infinity;
  let idx = first;
  for (let i = 0; i < nh; i++) {
    let q = p;
    for (let j = 0; j < nw; j++) {
      const v = load<f32>(q);
      if (v > m || v != v) {
        m = v;
        idx = first + i * rowStep + j * colStep;
      }
      q += stepW;
    }
    p += stepH;
  }
  store<f32>(yp, m);
  if (ip) store<i32>(ip, idx);
}

/**
 * Average pooling (PyTorch AvgPool2d, CPU kernel): the window
 * [oh·s − p, min(oh·s − p + K, H + p)) is divided by its size counting
 * padding (countIncludePad = 1) or by the part inside the image (= 0); a
 * window wholly outside gives 0. Ceil mode is the host passing a larger OH, OW.
 */
export function f32_avgpool2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, countIncludePad: i32, y: usize): void {
  const pixelB = <usize>C << 2;
  const rowB = <usize>W * pixelB;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      let h0 = oh * strideH - padH;
      let h1 = min(h0 + KH, H + padH);
      const poolH = h1 - h0;
      h0 = max(h0, 0);
      h1 = min(h1, H);
      for (let ow = 0; ow < OW; ow++) {
        let w0 = ow * strideW - padW;
        let w1 = min(w0 + KW, W + padW);
        const poolW = w1 - w0;
        w0 = max(w0, 0);
        w1 = min(w1, W);
        const yp = y + pixel(n, oh, ow, OH, OW, C);
        if (h0 >= h1 || w0 >= w1) {
          memory.fill(yp, 0, pixelB);
          continue;
        }
        const divisor = <f32>(countIncludePad ? poolH * poolW : (h1 - h0) * (w1 - w0));
        const p = x + pixel(n, h0, w0, H, W, C);
        const nh = h1 - h0, nw = w1 - w0;
        let c = 0;
        for (; c + 16 <= C; c += 16) avg16(p + (<usize>c << 2), nh, nw, rowB, pixelB, divisor, yp + (<usize>c << 2));
        for (; c + 4 <= C; c += 4) avg4(p + (<usize>c << 2), nh, nw, rowB, pixelB, divisor, yp + (<usize>c << 2));
        for (; c < C; c++) {
          let q = p + (<usize>c << 2);
          let s: f32 = 0;
          for (let i = 0; i < nh; i++) {
            for (let j = 0; j < nw; j++) s += load<f32>(q + <usize>j * pixelB);
            q += rowB;
          }
          store<f32>(yp + (<usize>c << 2), s / divisor);
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function avg16(p: usize, nh: i32, nw: i32, rowB: usize, pixelB: usize, divisor: f32, yp: usize): void {
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  for (let i = 0; i < nh; i++) {
    let q = p;
    for (let j = 0; j < nw; j++) {
      s0 = f32x4.add(s0, v128.load(q));
      s1 = f32x4.add(s1, v128.load(q, 16));
      s2 = f32x4.add(s2, v128.load(q, 32));
      s3 = f32x4.add(s3, v128.load(q, 48));
      q += pixelB;
    }
    p += rowB;
  }
  const d = f32x4.splat(divisor);
  v128.store(yp, f32x4.div(s0, d));
  v128.store(yp, f32x4.div(s1, d), 16);
  v128.store(yp, f32x4.div(s2, d), 32);
  v128.store(yp, f32x4.div(s3, d), 48);
}

// @ts-ignore: decorator
@inline function avg4(p: usize, nh: i32, nw: i32, rowB: usize, pixelB: usize, divisor: f32, yp: usize): void {
  let s = f32x4.splat(0);
  for (let i = 0; i < nh; i++) {
    let q = p;
    for (let j = 0; j < nw; j++) {
      s = f32x4.add(s, v128.load(q));
      q += pixelB;
    }
    p += rowB;
  }
  v128.store(yp, f32x4.div(s, f32x4.splat(divisor)));
}

/** Global average pooling: x [N, HW, C] → y [N, C] (the mean over all HW pixels). */
export function f32_global_avgpool_nhwc(N: i32, HW: i32, C: i32, x: usize, y: usize): void {
  const rowB = <usize>C << 2;
  const inv: f32 = 1.0 / <f32>HW;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * <usize>HW * rowB;
    const yn = y + <usize>n * rowB;
    let c = 0;
    // 16 channels at a time: four independent sums hide the add latency.
    for (; c + 16 <= C; c += 16) {
      let p = xn + (<usize>c << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let i = 0; i < HW; i++) {
        s0 = f32x4.add(s0, v128.load(p));
        s1 = f32x4.add(s1, v128.load(p, 16));
        s2 = f32x4.add(s2, v128.load(p, 32));
        s3 = f32x4.add(s3, v128.load(p, 48));
        p += rowB;
      }
      const yp = yn + (<usize>c << 2);
      const vi = f32x4.splat(inv);
      v128.store(yp, f32x4.mul(s0, vi));
      v128.store(yp, f32x4.mul(s1, vi), 16);
      v128.store(yp, f32x4.mul(s2, vi), 32);
      v128.store(yp, f32x4.mul(s3, vi), 48);
    }
    for (; c + 4 <= C; c += 4) {
      let p = xn + (<usize>c << 2);
      let s = f32x4.splat(0);
      for (let i = 0; i < HW; i++) {
        s = f32x4.add(s, v128.load(p));
        p += rowB;
      }
      v128.store(yn + (<usize>c << 2), f32x4.mul(s, f32x4.splat(inv)));
    }
    for (; c < C; c++) {
      let p = xn + (<usize>c << 2);
      let s: f32 = 0;
      for (let i = 0; i < HW; i++) {
        s += load<f32>(p);
        p += rowB;
      }
      store<f32>(yn + (<usize>c << 2), s * inv);
    }
  }
}

/**
 * Max unpooling (PyTorch F.max_unpool2d): y [N, OH, OW, C] is zeroed, then
 * y[n, indices[n, h, w, c], c] = x[n, h, w, c], later pixels winning on
 * repeated indices. indices are i32 into the OH·OW plane. All of them are
 * checked first: the result is −1, or the position of the first index
 * outside the plane, in which case nothing is written (PyTorch raises).
 */
export function f32_maxunpool2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, indices: usize, OH: i32, OW: i32,
  y: usize): i32 {
  const plane = OH * OW;
  const total = N * H * W * C;
  const vPlane = i32x4.splat(plane);
  let i = 0;
  for (; i + 4 <= total; i += 4) {
    if (!i32x4.all_true(i32x4.lt_u(v128.load(indices + (<usize>i << 2)), vPlane))) break;
  }
  for (; i < total; i++) {
    if (<u32>load<i32>(indices + (<usize>i << 2)) >= <u32>plane) return i;
  }
  const pixelB = <usize>C << 2;
  memory.fill(y, 0, <usize>N * <usize>plane * pixelB);
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    const yn = y + <usize>n * <usize>plane * pixelB;
    for (let p = 0; p < HW; p++) {
      const o = pixel(n, 0, p, 1, HW, C);
      const xp = x + o, ip = indices + o;
      let c = 0;
      // Wasm has no scatter: indices and values load four at a time, the stores go one by one.
      for (; c + 4 <= C; c += 4) {
        const co = <usize>c << 2;
        const iv = v128.load(ip + co);
        const xv = v128.load(xp + co);
        const yc = yn + co;
        store<f32>(yc + <usize>i32x4.extract_lane(iv, 0) * pixelB, f32x4.extract_lane(xv, 0));
        store<f32>(yc + <usize>i32x4.extract_lane(iv, 1) * pixelB, f32x4.extract_lane(xv, 1), 4);
        store<f32>(yc + <usize>i32x4.extract_lane(iv, 2) * pixelB, f32x4.extract_lane(xv, 2), 8);
        store<f32>(yc + <usize>i32x4.extract_lane(iv, 3) * pixelB, f32x4.extract_lane(xv, 3), 12);
      }
      for (; c < C; c++) {
        const co = <usize>c << 2;
        store<f32>(yn + <usize>load<i32>(ip + co) * pixelB + co, load<f32>(xp + co));
      }
    }
  }
  return -1;
}

/**
 * Nearest upsampling (PyTorch F.interpolate mode 'nearest'): y [N, OH, OW, C]
 * takes x at src = min(floor(dst · scale), in − 1), dst · scale in f32, with
 * scale as PyTorch computes it in f32 (in/out for a size, 1/scale_factor for
 * a scale factor). This is PyTorch's default (NCHW) kernel. Its channels-last
 * kernel, which it also takes when C = 1, copies the index when out = in and
 * halves it when out = 2·in; that differs from this only when a scale factor
 * other than exactly 1 or 2 yields such a size (e.g. 1.05 on 10 pixels).
 */
export function f32_upsample_nearest_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32,
  scaleH: f32, scaleW: f32, y: usize): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih = min(<i32>floor<f32>(<f32>oh * scaleH), H - 1);
      for (let ow = 0; ow < OW; ow++) {
        const iw = min(<i32>floor<f32>(<f32>ow * scaleW), W - 1);
        const src = x + pixel(n, ih, iw, H, W, C);
        const dst = y + pixel(n, oh, ow, OH, OW, C);
        let c = 0;
        for (; c + 4 <= C; c += 4) v128.store(dst + (<usize>c << 2), v128.load(src + (<usize>c << 2)));
        for (; c < C; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)));
      }
    }
  }
}

// PyTorch's compute_source_index_and_lambda: the source coordinate in f64
// (the CPU accumulate type of f32), clamped at 0 unless alignCorners. Equal
// sizes copy (the caller then also takes i1 = i0, as PyTorch does).
// @ts-ignore: decorator
@inline function linearSource(dst: i32, inSize: i32, outSize: i32, scale: f32, alignCorners: i32): f64 {
  if (outSize == inSize) return <f64>dst;
  const s = <f64>scale;
  const real = alignCorners ? s * <f64>dst : s * (<f64>dst + 0.5) - 0.5;
  return real < 0 ? 0 : real;
}

/**
 * Bilinear upsampling (PyTorch F.interpolate mode 'bilinear'): y [N, OH, OW, C].
 * scale is PyTorch's area_pixel_compute_scale in f32 — (in − 1)/(out − 1)
 * with alignCorners, else in/out or 1/scale_factor; the source coordinate is
 * scale·dst (alignCorners) or max(0, scale·(dst + ½) − ½).
 */
export function f32_upsample_bilinear_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32,
  scaleH: f32, scaleW: f32, alignCorners: i32, y: usize): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const hr = linearSource(oh, H, OH, scaleH, alignCorners);
      const h0 = min(<i32>hr, H - 1);
      const h1 = OH == H || h0 == H - 1 ? h0 : h0 + 1;
      const lh1 = <f32>(hr - <f64>h0);
      const lh0: f32 = 1.0 - lh1;
      for (let ow = 0; ow < OW; ow++) {
        const wr = linearSource(ow, W, OW, scaleW, alignCorners);
        const w0 = min(<i32>wr, W - 1);
        const w1 = OW == W || w0 == W - 1 ? w0 : w0 + 1;
        const lw1 = <f32>(wr - <f64>w0);
        const lw0: f32 = 1.0 - lw1;
        const p00 = x + pixel(n, h0, w0, H, W, C), p01 = x + pixel(n, h0, w1, H, W, C);
        const p10 = x + pixel(n, h1, w0, H, W, C), p11 = x + pixel(n, h1, w1, H, W, C);
        const dst = y + pixel(n, oh, ow, OH, OW, C);
        // The four corner weights, as PyTorch's channels-last kernel forms them.
        const k00 = lh0 * lw0, k01 = lh0 * lw1, k10 = lh1 * lw0, k11 = lh1 * lw1;
        const v00 = f32x4.splat(k00), v01 = f32x4.splat(k01), v10 = f32x4.splat(k10), v11 = f32x4.splat(k11);
        let c = 0;
        for (; c + 4 <= C; c += 4) {
          const co = <usize>c << 2;
          const a = f32x4.add(f32x4.mul(v00, v128.load(p00 + co)), f32x4.mul(v01, v128.load(p01 + co)));
          const b = f32x4.add(f32x4.mul(v10, v128.load(p10 + co)), f32x4.mul(v11, v128.load(p11 + co)));
          v128.store(dst + co, f32x4.add(a, b));
        }
        for (; c < C; c++) {
          const co = <usize>c << 2;
          store<f32>(dst + co, k00 * load<f32>(p00 + co) + k01 * load<f32>(p01 + co) +
            (k10 * load<f32>(p10 + co) + k11 * load<f32>(p11 + co)));
        }
      }
    }
  }
}
