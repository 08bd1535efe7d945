// Plain TypeScript definitions of pooling, unpooling and upsampling: what
// assembly/pool.ts computes, over channels-last images, written from
// PyTorch's definitions (window bounds, divisors, source indices and scales
// exactly as its CPU kernels form them). The innermost loops run over
// contiguous channels, as a plain-JS implementation would.

export interface Pool2dParams {
  N: number; H: number; W: number; C: number;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  /** Max pooling only; default [1, 1]. */
  dilation?: [number, number];
  ceilMode?: boolean;
}

/** PyTorch's pooling_output_shape. */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

export function poolOutputShape(p: Pool2dParams): [number, number] {
  const [dH, dW] = p.dilation ?? [1, 1];
  return [
    outSize(p.H, p.kernel[0], p.stride[0], p.padding[0], dH, p.ceilMode ?? false),
    outSize(p.W, p.kernel[1], p.stride[1], p.padding[1], dW, p.ceilMode ?? false),
  ];
}

/**
 * F.max_pool2d(return_indices=True) on x [N, H, W, C]: y and indices
 * [N, OH, OW, C], an index being h·W + w within the image plane. A value
 * replaces the maximum when greater or NaN; the index starts at the first tap.
 */
export function maxPool2dRef(x: Float32Array, p: Pool2dParams): { y: Float32Array; indices: Int32Array } {
  const { N, H, W, C } = p;
  const [KH, KW] = p.kernel;
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [dH, dW] = p.dilation ?? [1, 1];
  const [OH, OW] = poolOutputShape(p);
  const y = new Float32Array(N * OH * OW * C);
  const indices = new Int32Array(N * OH * OW * C);
  const firstTap = (start: number, d: number) => {
    let i = start;
    while (i < 0) i += d;
    return i;
  };
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const o = ((n * OH + oh) * OW + ow) * C;
        const first = firstTap(oh * sH - pH, dH) * W + firstTap(ow * sW - pW, dW);
        y.fill(-Infinity, o, o + C);
        indices.fill(first, o, o + C);
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sW - pW + kw * dW;
            if (iw < 0 || iw >= W) continue;
            const xi = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) {
              const v = x[xi + c]!;
              if (v > y[o + c]! || Number.isNaN(v)) {
                y[o + c] = v;
                indices[o + c] = ih * W + iw;
              }
            }
          }
        }
      }
    }
  }
  return { y, indices };
}

/**
 * F.avg_pool2d on x [N, H, W, C]: the window [s·o − p, min(s·o − p + k, size + p))
 * divided by its size (countIncludePad) or by the part inside the image.
 */
export function avgPool2dRef(x: Float32Array, p: Pool2dParams & { countIncludePad: boolean }): Float32Array {
  const { N, H, W, C } = p;
  const [KH, KW] = p.kernel;
  const [sH, sW] = p.stride;
  const [pH, pW] = p.padding;
  const [OH, OW] = poolOutputShape(p);
  const y = new Float32Array(N * OH * OW * C);
  const sum = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sH - pH;
      const h1 = Math.min(h0 + KH, H + pH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sW - pW;
        const w1 = Math.min(w0 + KW, W + pW);
        const [ch0, ch1, cw0, cw1] = [Math.max(h0, 0), Math.min(h1, H), Math.max(w0, 0), Math.min(w1, W)];
        if (ch0 >= ch1 || cw0 >= cw1) continue;
        const divisor = p.countIncludePad ? (h1 - h0) * (w1 - w0) : (ch1 - ch0) * (cw1 - cw0);
        sum.fill(0);
        for (let ih = ch0; ih < ch1; ih++) {
          for (let iw = cw0; iw < cw1; iw++) {
            const xi = ((n * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) sum[c]! += x[xi + c]!;
          }
        }
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) y[o + c] = sum[c]! / divisor;
      }
    }
  }
  return y;
}

/** The mean over the HW pixels of x [N, HW, C]: y [N, C]. */
export function globalAvgPoolRef(x: Float32Array, N: number, HW: number, C: number): Float32Array {
  const y = new Float32Array(N * C);
  const sum = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    sum.fill(0);
    for (let i = 0; i < HW; i++) {
      const xi = (n * HW + i) * C;
      for (let c = 0; c < C; c++) sum[c]! += x[xi + c]!;
    }
    for (let c = 0; c < C; c++) y[n * C + c] = sum[c]! / HW;
  }
  return y;
}

/** F.max_unpool2d: zeros [N, OH, OW, C] with y[n, indices[n, h, w, c], c] = x[n, h, w, c], later pixels winning. */
export function maxUnpool2dRef(
  x: Float32Array, indices: Int32Array, N: number, H: number, W: number, C: number, OH: number, OW: number,
): Float32Array {
  const y = new Float32Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < H * W; i++) {
      const xi = (n * H * W + i) * C;
      for (let c = 0; c < C; c++) y[(n * OH * OW + indices[xi + c]!) * C + c] = x[xi + c]!;
    }
  }
  return y;
}

export interface ResampleParams {
  N: number; H: number; W: number; C: number;
  /** [OH, OW]; give size or scaleFactor. */
  size?: [number, number];
  /** OH = floor(H · factor); the source index uses 1/factor. */
  scaleFactor?: [number, number];
  /** Bilinear only. */
  alignCorners?: boolean;
}

export function resampleOutputShape(p: ResampleParams): [number, number] {
  return p.size ?? [Math.floor(p.H * p.scaleFactor![0]), Math.floor(p.W * p.scaleFactor![1])];
}

/** PyTorch's compute_scales_value<float>: 1/scale_factor if given, else in/out, rounded to f32. */
function scaleValue(inSize: number, outSize: number, factor: number | undefined): number {
  return Math.fround(factor !== undefined ? 1 / factor : inSize / outSize);
}

/**
 * The source index of every output index along one axis, as PyTorch's NCHW
 * kernel (HelperInterpNearest) forms it: min(floor(dst · scale), in − 1) in f32.
 */
function nearestIndices(inSize: number, outSize: number, factor: number | undefined): Int32Array {
  const scale = scaleValue(inSize, outSize, factor);
  return Int32Array.from({ length: outSize }, (_, d) => Math.min(Math.floor(Math.fround(d * scale)), inSize - 1));
}

/** F.interpolate(mode='nearest') of x [N, H, W, C]. */
export function upsampleNearestRef(x: Float32Array, p: ResampleParams): Float32Array {
  const { N, H, W, C } = p;
  const [OH, OW] = resampleOutputShape(p);
  const hs = nearestIndices(H, OH, p.scaleFactor?.[0]);
  const ws = nearestIndices(W, OW, p.scaleFactor?.[1]);
  const y = new Float32Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const xi = ((n * H + hs[oh]!) * W + ws[ow]!) * C;
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) y[o + c] = x[xi + c]!;
      }
    }
  }
  return y;
}

/**
 * PyTorch's compute_source_index_and_lambda for one axis: per output index
 * the two source indices and their weights. The scale is f32
 * (area_pixel_compute_scale), the source coordinate f64 (CPU's acc type).
 */
function linearTaps(inSize: number, outSize: number, factor: number | undefined, alignCorners: boolean) {
  const scale = alignCorners
    ? (outSize > 1 ? Math.fround((inSize - 1) / (outSize - 1)) : 0)
    : scaleValue(inSize, outSize, factor);
  return Array.from({ length: outSize }, (_, d) => {
    if (outSize === inSize) return { i0: d, i1: d, l0: 1, l1: 0 };
    const real = Math.max(0, alignCorners ? scale * d : scale * (d + 0.5) - 0.5);
    const i0 = Math.trunc(real);
    const l1 = Math.fround(real - i0);
    return { i0, i1: i0 < inSize - 1 ? i0 + 1 : i0, l0: Math.fround(1 - l1), l1 };
  });
}

/** F.interpolate(mode='bilinear', align_corners) of x [N, H, W, C]. */
export function upsampleBilinearRef(x: Float32Array, p: ResampleParams): Float32Array {
  const { N, H, W, C } = p;
  const [OH, OW] = resampleOutputShape(p);
  const align = p.alignCorners ?? false;
  const hs = linearTaps(H, OH, p.scaleFactor?.[0], align);
  const ws = linearTaps(W, OW, p.scaleFactor?.[1], align);
  const y = new Float32Array(N * OH * OW * C);
  for (let n = 0; n < N; n++) {
    for (const [oh, h] of hs.entries()) {
      for (const [ow, w] of ws.entries()) {
        const at = (ih: number, iw: number) => ((n * H + ih) * W + iw) * C;
        const [p00, p01, p10, p11] = [at(h.i0, w.i0), at(h.i0, w.i1), at(h.i1, w.i0), at(h.i1, w.i1)];
        const o = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          y[o + c] = h.l0 * (w.l0 * x[p00 + c]! + w.l1 * x[p01 + c]!) + h.l1 * (w.l0 * x[p10 + c]! + w.l1 * x[p11 + c]!);
        }
      }
    }
  }
  return y;
}
