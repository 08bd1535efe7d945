// SGEMM: C = act(A·B + bias), the workhorse behind Linear, pointwise and
// im2col convolutions and attention.
//
// B is packed into 8-column strips: strip s holds rows k = 0..K-1 of
// B[k, 8s .. 8s+7] contiguously (zero-padded past N), so the 4×8 micro-kernel
// streams it with two v128 loads per k step. A is read in place (packing A
// did not pay on this machine). Loops are blocked KC deep so a strip's block
// (KC·32 bytes) stays in L1, MC rows so A's block stays in L2, and
// NC_STRIPS strips (128 columns) so the B panel in use stays in L2 across
// the row blocks (+2 % at n = 1024, measured).

import { ACT_NONE, ACT_RELU, ACT_RELU6, activate4, activate1 } from './activation';
import { madd } from './simd';

const KC: i32 = 256;
const MC: i32 = 64;
const NC_STRIPS: i32 = 16;
const FEW_ROWS: i32 = 32; // rows up to which gemmFewRows wins (at N = 512 too: 29 → 40 GFLOP/s at M = 32)

/** Floats needed to pack a K×N matrix: K · ⌈N/8⌉ · 8. */
export function f32_gemm_packed_size(K: i32, N: i32): i32 {
  return K * (((N + 7) >> 3) << 3);
}

/**
 * Packs B (K×N) into strips at bp. With transposed = 1, b holds Bᵀ as [N, K]
 * rows of stride ldb — PyTorch's Linear weight [out, in] and attention's K
 * are packed this way without a separate transpose.
 */
export function f32_gemm_pack_b(K: i32, N: i32, b: usize, ldb: i32, transposed: i32, bp: usize): void {
  const strips = (N + 7) >> 3;
  for (let s = 0; s < strips; s++) {
    const n0 = s << 3;
    const nb = min(8, N - n0);
    let dst = bp + ((<usize>s * <usize>K * 8) << 2);
    for (let k = 0; k < K; k++) {
      if (transposed) {
        for (let j = 0; j < 8; j++) {
          const v: f32 = j < nb ? load<f32>(b + ((<usize>(n0 + j) * <usize>ldb + <usize>k) << 2)) : 0;
          store<f32>(dst + (<usize>j << 2), v);
        }
      } else {
        const row = b + ((<usize>k * <usize>ldb + <usize>n0) << 2);
        if (nb == 8) {
          v128.store(dst, v128.load(row));
          v128.store(dst, v128.load(row, 16), 16);
        } else {
          for (let j = 0; j < 8; j++) store<f32>(dst + (<usize>j << 2), j < nb ? load<f32>(row + (<usize>j << 2)) : 0);
        }
      }
      dst += 32;
    }
  }
}

/**
 * C[M, N] = act(A[M, K] · B + bias) with B packed by f32_gemm_pack_b.
 * lda and ldc are row strides in floats; bias is [N] or 0 for none;
 * accumulate = 1 adds to what C holds (C = act(C + A·B + bias)).
 */
export function f32_gemm_packed(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, c: usize, ldc: i32,
  bias: usize, act: i32, accumulate: i32): void {
  gemmPacked(M, N, K, a, lda, bp, K, c, ldc, bias, act, accumulate);
}

/**
 * The same as f32_gemm_packed, with the packed B's strip height given apart
 * from K: attention multiplies by a prefix (the first K rows) of a packed
 * matrix of `stripK` rows when a causal mask cuts the keys short.
 */
export function gemmPacked(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, act: i32, accumulate: i32): void {
  // No activation, ReLU and ReLU6 run copies of the loops where the
  // activation is a constant: with it a runtime value, every tile's
  // write-back dispatches on it and V8 spills the eight accumulators around
  // the unused cases' code (K = 16 ran at 34 GFLOP/s instead of 42). Each
  // copy is a function of its own: binaryen folds inlined copies that differ
  // only in a constant back into one.
  switch (act) {
    case ACT_NONE: gemmLinear(M, N, K, a, lda, bp, stripK, c, ldc, bias, accumulate); break;
    case ACT_RELU: gemmRelu(M, N, K, a, lda, bp, stripK, c, ldc, bias, accumulate); break;
    case ACT_RELU6: gemmRelu6(M, N, K, a, lda, bp, stripK, c, ldc, bias, accumulate); break;
    default: gemmBlocks(M, N, K, a, lda, bp, stripK, c, ldc, bias, act, accumulate);
  }
}

function gemmLinear(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, accumulate: i32): void {
  gemmBlocks(M, N, K, a, lda, bp, stripK, c, ldc, bias, ACT_NONE, accumulate);
}

function gemmRelu(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, accumulate: i32): void {
  gemmBlocks(M, N, K, a, lda, bp, stripK, c, ldc, bias, ACT_RELU, accumulate);
}

function gemmRelu6(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, accumulate: i32): void {
  gemmBlocks(M, N, K, a, lda, bp, stripK, c, ldc, bias, ACT_RELU6, accumulate);
}

// The K blocks in order: all but the last write back without the activation.
// @ts-ignore: decorator
@inline function gemmBlocks(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, act: i32, accumulate: i32): void {
  if (M <= 0 || N <= 0) return;
  if (M >= 2 && M <= FEW_ROWS) {
    gemmFewRows(M, N, K, a, lda, bp, stripK, c, ldc, bias, act, accumulate);
    return;
  }
  let k0 = 0;
  for (; K - k0 > KC; k0 += KC) gemmKBlock(M, N, k0, KC, a, lda, bp, stripK, c, ldc, bias, ACT_NONE, k0 > 0 || accumulate != 0);
  gemmKBlock(M, N, k0, K - k0, a, lda, bp, stripK, c, ldc, bias, act, k0 > 0 || accumulate != 0);
}

// Columns k0 … k0 + kc − 1 of A (rows of B) into C; loadC adds what C holds, and the bias is added in the first block.
// @ts-ignore: decorator
@inline function gemmKBlock(M: i32, N: i32, k0: i32, kc: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize,
  ldc: i32, bias: usize, act: i32, loadC: bool): void {
  const strips = (N + 7) >> 3;
  const ldaB = <usize>lda << 2;
  const ldcB = <usize>ldc << 2;
  const first = k0 == 0;
  const stripB = <usize>stripK * 32; // bytes from one strip to the next
  for (let s0 = 0; s0 < strips; s0 += NC_STRIPS) {
    const sEnd = min(strips, s0 + NC_STRIPS);
    for (let m0 = 0; m0 < M; m0 += MC) {
      const mEnd = min(M, m0 + MC);
      const m4 = m0 + ((mEnd - m0) & ~3);
      for (let s = s0; s < sEnd; s++) {
        const n0 = s << 3;
        const nb = min(8, N - n0);
        const bs = bp + ((<usize>(s * stripK + k0) * 8) << 2);
        const bb: usize = first && bias != 0 ? bias + (<usize>n0 << 2) : 0;
        for (let i = m0; i < m4; i += 4) {
          tile4x8(1, kc, a + <usize>i * ldaB + (<usize>k0 << 2), ldaB, 0, bs, c + <usize>i * ldcB + (<usize>n0 << 2), ldcB,
            nb, loadC, bb, act);
        }
      }
      // Leftover rows (all rows of a matrix–vector product, e.g. one WaveNet
      // stream) take four strips at once: eight independent sums instead of
      // two, still each in k order, so a row's result does not depend on
      // whether it went through here or through the 4-row tile.
      for (let i = m4; i < mEnd; i++) {
        const ai = a + <usize>i * ldaB + (<usize>k0 << 2);
        let s = s0;
        for (; s + 4 <= sEnd && ((s + 4) << 3) <= N; s += 4) {
          const n0 = s << 3;
          micro1x32(kc, ai, bp + ((<usize>(s * stripK + k0) * 8) << 2), stripB, c + <usize>i * ldcB + (<usize>n0 << 2),
            loadC, first && bias != 0 ? bias + (<usize>n0 << 2) : 0, act);
        }
        for (; s < sEnd; s++) {
          const n0 = s << 3;
          micro1x8(kc, ai, bp + ((<usize>(s * stripK + k0) * 8) << 2), c + <usize>i * ldcB + (<usize>n0 << 2),
            min(8, N - n0), loadC, first && bias != 0 ? bias + (<usize>n0 << 2) : 0, act);
        }
      }
    }
  }
}

// A decoding step's GEMM: a few rows (one per sentence or beam) against a
// weight matrix far larger than the caches (opus-mt's 512 × 58,101 output
// projection is 119 MB). The loops above take one 8-column strip at a time,
// K block outermost, and their first 4-row tile waits on memory with a
// single stream; here a pair of strips is read together (two streams, in
// address order) and all K blocks of the pair are finished for every row
// while each block sits in L1. At K = 512, N = 58,101 (one thread, best of
// 7): M = 8 went from 33 to 22 ms (14 → 22 GFLOP/s, 3.6 → 5.5 GB/s of
// weights), M = 4 from 24 to 16 ms, M = 32 (8 sentences × 4 beams) from 87
// to 59 ms; greedy 8 × 32 tokens at that size from 2.37 to 1.80 s. Tried
// and dropped: a load of the next block in every k step as a prefetch
// (M = 8 took 26 ms). One row stays on micro1x32 above: four streams beat
// two there (11.5 against 8.9 GFLOP/s at K = N = 512).
// Every output is still the same sum: a fresh k-ordered sum per KC block,
// added to C (or C's previous blocks) and the bias in writeRow, the
// activation after the last block, so a row's result does not depend on M
// (test/kernels/gemm.few-rows.test.ts).
// @ts-ignore: decorator
@inline function gemmFewRows(M: i32, N: i32, K: i32, a: usize, lda: i32, bp: usize, stripK: i32, c: usize, ldc: i32,
  bias: usize, act: i32, accumulate: i32): void {
  const strips = (N + 7) >> 3;
  const ldaB = <usize>lda << 2;
  const ldcB = <usize>ldc << 2;
  const stripB = <usize>stripK * 32;
  for (let s = 0; s < strips; s += 2) {
    const n0 = s << 3;
    const pair = s + 1 < strips;
    const nb = min(8, N - n0);
    const nb2 = pair ? min(8, N - n0 - 8) : 0;
    const bs = bp + <usize>s * stripB;
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = min(KC, K - k0);
      const blockAct = k0 + kc >= K ? act : ACT_NONE;
      const loadC = k0 > 0 || accumulate != 0;
      const bb: usize = k0 == 0 && bias != 0 ? bias + (<usize>n0 << 2) : 0;
      const bk = bs + (<usize>k0 << 5);
      const ak = a + (<usize>k0 << 2);
      const cs = c + (<usize>n0 << 2);
      if (pair) {
        let i = 0;
        for (; i + 2 <= M; i += 2) {
          tile2x16(kc, ak + <usize>i * ldaB, ldaB, bk, stripB, cs + <usize>i * ldcB, ldcB, nb2, loadC, bb, blockAct);
        }
        if (i < M) micro1x16(kc, ak + <usize>i * ldaB, bk, stripB, cs + <usize>i * ldcB, nb2, loadC, bb, blockAct);
      } else {
        for (let i = 0; i < M; i++) micro1x8(kc, ak + <usize>i * ldaB, bk, cs + <usize>i * ldcB, nb, loadC, bb, blockAct);
      }
    }
  }
}

// 2 rows × two strips (16 columns): the 4×8 tile's 8 accumulators and 6
// loads per k step, with the second strip `stripB` bytes on (nb2 of its
// columns valid).
// @ts-ignore: decorator
@inline function tile2x16(kc: i32, a0: usize, ldaB: usize, b: usize, stripB: usize, c: usize, ldcB: usize, nb2: i32,
  loadC: bool, bias: usize, act: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  const a1 = a0 + ldaB;
  const b2 = b + stripB;
  for (let k = 0; k < kc; k++) {
    const ko = <usize>k << 2;
    const bo = <usize>k << 5;
    const x0 = v128.load32_splat(a0 + ko), x1 = v128.load32_splat(a1 + ko);
    let w = v128.load(b + bo);
    c00 = madd(x0, w, c00); c10 = madd(x1, w, c10);
    w = v128.load(b + bo, 16);
    c01 = madd(x0, w, c01); c11 = madd(x1, w, c11);
    w = v128.load(b2 + bo);
    c02 = madd(x0, w, c02); c12 = madd(x1, w, c12);
    w = v128.load(b2 + bo, 16);
    c03 = madd(x0, w, c03); c13 = madd(x1, w, c13);
  }
  writeRow(c, c00, c01, 8, loadC, bias, act);
  writeRow(c + 32, c02, c03, nb2, loadC, bias ? bias + 32 : 0, act);
  writeRow(c + ldcB, c10, c11, 8, loadC, bias, act);
  writeRow(c + ldcB + 32, c12, c13, nb2, loadC, bias ? bias + 32 : 0, act);
}

// One row × two strips.
// @ts-ignore: decorator
@inline function micro1x16(kc: i32, a: usize, b: usize, stripB: usize, c: usize, nb2: i32, loadC: bool, bias: usize,
  act: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const b2 = b + stripB;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a + (<usize>k << 2));
    const bo = <usize>k << 5;
    c0 = madd(x, v128.load(b + bo), c0); c1 = madd(x, v128.load(b + bo, 16), c1);
    c2 = madd(x, v128.load(b2 + bo), c2); c3 = madd(x, v128.load(b2 + bo, 16), c3);
  }
  writeRow(c, c0, c1, 8, loadC, bias, act);
  writeRow(c + 32, c2, c3, nb2, loadC, bias ? bias + 32 : 0, act);
}

// 4 rows × 8 columns: 8 accumulators, 2 B loads and 4 broadcasts per k step.
// Larger tiles made V8 spill registers here (see TOOLCHAIN.md). The
// broadcasts must be v128.load32_splat (one vbroadcastss): splatting a
// scalar load costs a shuffle more and held this loop at ~85 % of peak.
// Each A row is `runs` runs of `run` floats, `runB` bytes apart: the GEMM's
// rows are one run of kc; a direct convolution's (conv.ts) are one run per
// kernel row or tap, read in place. The k order is the same either way, so
// a pixel's output does not depend on which path computed it.
// @ts-ignore: decorator
@inline export function tile4x8(runs: i32, run: i32, a: usize, ldaB: usize, runB: usize, b: usize, c: usize, ldcB: usize,
  nb: i32, loadC: bool, bias: usize, act: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let j = 0; j < runs; j++) {
    const a0 = a + <usize>j * runB, a1 = a0 + ldaB, a2 = a1 + ldaB, a3 = a2 + ldaB;
    for (let k = 0; k < run; k++) {
      const ko = <usize>k << 2;
      const b0 = v128.load(b), b1 = v128.load(b, 16);
      let x = v128.load32_splat(a0 + ko);
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
      x = v128.load32_splat(a1 + ko);
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
      x = v128.load32_splat(a2 + ko);
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
      x = v128.load32_splat(a3 + ko);
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
      b += 32;
    }
  }
  writeRow(c, c00, c01, nb, loadC, bias, act);
  writeRow(c + ldcB, c10, c11, nb, loadC, bias, act);
  writeRow(c + 2 * ldcB, c20, c21, nb, loadC, bias, act);
  writeRow(c + 3 * ldcB, c30, c31, nb, loadC, bias, act);
}

// @ts-ignore: decorator
@inline function micro1x8(kc: i32, a: usize, b: usize, c: usize, nb: i32, loadC: bool, bias: usize, act: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(a + (<usize>k << 2));
    c0 = madd(x, v128.load(b), c0);
    c1 = madd(x, v128.load(b, 16), c1);
    b += 32;
  }
  writeRow(c, c0, c1, nb, loadC, bias, act);
}

// One row × four full strips (32 columns): eight accumulators.
// @ts-ignore: decorator
@inline function micro1x32(kc: i32, a: usize, b: usize, stripB: usize, c: usize, loadC: bool, bias: usize, act: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  const b1 = b + stripB, b2 = b1 + stripB, b3 = b2 + stripB;
  for (let k = 0; k < kc; k++) {
    const ko = <usize>k << 2;
    const x = v128.load32_splat(a + ko);
    const bo = <usize>k << 5;
    c0 = madd(x, v128.load(b + bo), c0); c1 = madd(x, v128.load(b + bo, 16), c1);
    c2 = madd(x, v128.load(b1 + bo), c2); c3 = madd(x, v128.load(b1 + bo, 16), c3);
    c4 = madd(x, v128.load(b2 + bo), c4); c5 = madd(x, v128.load(b2 + bo, 16), c5);
    c6 = madd(x, v128.load(b3 + bo), c6); c7 = madd(x, v128.load(b3 + bo, 16), c7);
  }
  writeRow(c, c0, c1, 8, loadC, bias, act);
  writeRow(c + 32, c2, c3, 8, loadC, bias ? bias + 32 : 0, act);
  writeRow(c + 64, c4, c5, 8, loadC, bias ? bias + 64 : 0, act);
  writeRow(c + 96, c6, c7, 8, loadC, bias ? bias + 96 : 0, act);
}

// Stores one row of a tile: adds what C held and the bias, applies the
// activation, and stores only the nb valid columns of a partial strip (bias
// and C are never read past column N).
// @ts-ignore: decorator
@inline function writeRow(c: usize, v0: v128, v1: v128, nb: i32, loadC: bool, bias: usize, act: i32): void {
  if (nb == 8) {
    if (loadC) { v0 = f32x4.add(v0, v128.load(c)); v1 = f32x4.add(v1, v128.load(c, 16)); }
    if (bias) { v0 = f32x4.add(v0, v128.load(bias)); v1 = f32x4.add(v1, v128.load(bias, 16)); }
    v128.store(c, activate4(v0, act));
    v128.store(c, activate4(v1, act), 16);
    return;
  }
  for (let j = 0; j < nb; j++) {
    let v: f32 = j < 4 ? laneOf(v0, j) : laneOf(v1, j - 4);
    const o = <usize>j << 2;
    if (loadC) v += load<f32>(c + o);
    if (bias) v += load<f32>(bias + o);
    store<f32>(c + o, activate1(v, act));
  }
}

// @ts-ignore: decorator
@inline function laneOf(v: v128, j: i32): f32 {
  switch (j) {
    case 0: return f32x4.extract_lane(v, 0);
    case 1: return f32x4.extract_lane(v, 1);
    case 2: return f32x4.extract_lane(v, 2);
    default: return f32x4.extract_lane(v, 3);
  }
}
