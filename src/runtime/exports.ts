/**
 * The kernel ABI: what build/hibiki.wasm exports (assembly/index.ts).
 *
 * Pointers are byte addresses into linear memory (0 = "none" for optional
 * arrays); sizes are element counts; every array is f32 unless noted, row
 * major and channels-last: images [N, H, W, C], sequences [N, T, C]. Strides
 * (lda, ldb, ldc) count floats. Packed matrices come from f32_gemm_pack_b.
 * `act` is an activation code (ACTIVATION_CODES in ops/activation.ts).
 *
 * Written by hand beside the assembly signatures: test/runtime/kernel-interface.test.ts
 * fails when a kernel, a parameter's name or position, or a return type here differs
 * from assembly/ or from the built module.
 */
export interface KernelExports {
  // gemm.ts
  f32_gemm_packed_size(K: number, N: number): number;
  f32_gemm_pack_b(K: number, N: number, b: number, ldb: number, transposed: number, bp: number): void;
  f32_gemm_packed(
    M: number, N: number, K: number, a: number, lda: number, bp: number, c: number, ldc: number,
    bias: number, act: number, accumulate: number,
  ): void;

  // conv.ts
  /** wp: `groups` packed blocks of [KH·KW·C/groups, OC/groups], B row index (kh·KW + kw)·Cg + c. */
  f32_conv2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number, OC: number,
    KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
    dilationH: number, dilationW: number, groups: number, wp: number, bias: number, act: number, y: number,
    scratch: number, tilePixels: number,
  ): void;
  /** Depthwise (groups = C, one filter per channel); w is [KH, KW, C]. Takes a 3×3 fast path. */
  f32_dwconv2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number,
    KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
    dilationH: number, dilationW: number, w: number, bias: number, act: number, y: number,
  ): void;
  /** wp: packed [C, KH·KW·OC], column index (kh·KW + kw)·OC + oc. */
  f32_conv_transpose2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number, OC: number,
    KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
    dilationH: number, dilationW: number, wp: number, bias: number, act: number, y: number,
    scratch: number, tilePixels: number,
  ): void;
  /**
   * y[n, t] = act(bias + Σ_k W_k · x[n, t − (K−1−k)·dilation]); wp packed [K·C, OC], row k·C + c.
   * act = ACT_GATED (16): y [N, T, OC/2] = tanh(z[:, :OC/2]) ⊙ σ(z[:, OC/2:]) of that z, with
   * scratch tileRows · (K·C + OC) floats.
   */
  f32_causal_conv1d(
    N: number, T: number, C: number, x: number, OC: number, K: number, dilation: number,
    wp: number, bias: number, act: number, y: number, scratch: number, tileRows: number, history: number,
  ): void;

  // pool.ts
  /** indices (i32, or 0 for none) get h·W + w of each maximum, as PyTorch's return_indices. */
  f32_maxpool2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dilationH: number, dilationW: number,
    y: number, indices: number,
  ): void;
  f32_avgpool2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, countIncludePad: number, y: number,
  ): void;
  f32_global_avgpool_nhwc(N: number, HW: number, C: number, x: number, y: number): void;
  /** Returns −1, or the position of the first index outside [0, OH·OW), having then written nothing. */
  f32_maxunpool2d_nhwc(
    N: number, H: number, W: number, C: number, x: number, indices: number, OH: number, OW: number, y: number,
  ): number;
  /** src = min(floor(dst · scale), in − 1), scale as PyTorch computes it (in/out, or 1/scale_factor). */
  f32_upsample_nearest_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number,
    scaleH: number, scaleW: number, y: number,
  ): void;
  f32_upsample_bilinear_nhwc(
    N: number, H: number, W: number, C: number, x: number, OH: number, OW: number,
    scaleH: number, scaleW: number, alignCorners: number, y: number,
  ): void;

  // norm.ts
  /** y = act(x · scale + shift) per channel; scale and shift folded from the batch-norm statistics by the host. */
  f32_batchnorm_nhwc(rows: number, C: number, x: number, xStride: number, scale: number, shift: number, act: number, y: number, yStride: number): void;
  f32_layernorm(rows: number, C: number, x: number, gamma: number, beta: number, eps: number, y: number): void;
  f32_instancenorm_nhwc(
    N: number, HW: number, C: number, x: number, gamma: number, beta: number, eps: number, y: number,
  ): void;

  // activation.ts
  f32_activation(n: number, x: number, y: number, act: number): void;
  f32_gated_tanh(rows: number, C: number, x: number, y: number): void;
  f32_softmax_rows(rows: number, n: number, x: number, y: number, log: number): void;
  /** out: f64 [rows, 2], each row's (max, Σ exp(x − max)). */
  f32_exp_sums(rows: number, n: number, x: number, out: number): void;
  /** temperatures, minP, u: f64 [rows]; cdf: f64 [n] scratch; out: i32 [rows]. */
  f32_sample_rows(rows: number, n: number, x: number, temperatures: number, minP: number, u: number, cdf: number, out: number): void;
  f32_add(n: number, a: number, b: number, y: number): void;
  f32_mul(n: number, a: number, b: number, y: number): void;
  f32_copy_rows(rows: number, cols: number, src: number, srcStride: number, dst: number, dstStride: number): void;

  // attention.ts
  f32_attention_scratch_size(Tq: number, Tk: number, D: number, Dv: number): number;
  /**
   * softmax(scale · Q·Kᵀ + mask) · V over q [B, H, Tq, D], k [B, H, Tk, D],
   * v [B, H, Tk, Dv] into y [B, H, Tq, Dv]. causal: query i sees keys
   * j ≤ i + Tk − Tq (bottom-right aligned, so it also serves a KV cache).
   * keyMask: u8 [B, Tk], 1 = padding (ignored), or 0 for none. A query
   * that sees no key gets a zero row (PyTorch: NaN).
   */
  f32_attention(
    B: number, H: number, Tq: number, Tk: number, D: number, Dv: number, q: number, k: number, v: number,
    y: number, scale: number, causal: number, keyMask: number, scratch: number,
  ): void;

  // peak.ts
  f32_peak_madd(iters: number, seed: number): number;

  // quant.ts
  /** x [M, K] (stride ldx) → q: i8 [M, Kp] (zeros past K, Kp a multiple of 16), scales [M] and row sums i32 [M]: q = round(x / s), s = max|row| / 127. */
  i8_quantize_rows(M: number, K: number, x: number, ldx: number, q: number, Kp: number, scales: number, sums: number): void;
  /**
   * y [M, N] (stride ldy) = act(x·Wᵀ + bias) (+ y with accumulate) for x [M, K] f32 and W as
   * i8_quantize_rows made it: qw i8 [N, Kp], sw [N], sums i32 [N]. scratch: M · (Kp + 4) bytes, 16-aligned (the rows of x,
   * quantised: ±127 in the SIMD128 build, ±63 stored plus 64 in the relaxed one; then their scales).
   */
  i8_linear(
    M: number, N: number, K: number, x: number, ldx: number, scratch: number, qw: number, Kp: number, sw: number,
    sums: number, bias: number, y: number, ldy: number, act: number, accumulate: number,
  ): void;
}
