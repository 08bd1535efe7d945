// Convolutions over channels-last tensors: conv2d (im2col tiles through the
// packed SGEMM), depthwise conv2d (direct, with a 3×3 fast path), transposed
// conv2d (GEMM then col2im scatter) and WaveNet's dilated causal conv1d.
//
// The GEMM-based kernels never build a whole im2col matrix: the host gives a
// scratch tile of `tilePixels` rows (about 64K floats, so it stays in L2),
// and each tile is gathered and multiplied in turn.

import { f32_gemm_packed_size, gemmPacked, tile4x8 } from './gemm';
import { ACT_NONE, ACT_RELU, ACT_RELU6, activate4, activate1, f32_activation, f32_gated_tanh } from './activation';
import { madd } from './simd';

/**
 * y [N, OH, OW, OC] = act(conv2d(x [N, H, W, C]) + bias). wp holds `groups`
 * packed blocks, block g being B_g [KH·KW·Cg, OCg] with row (kh·KW + kw)·Cg + c;
 * group g reads channels g·Cg.. and writes output channels g·OCg.. (ldc = OC).
 * scratch holds tilePixels × KH·KW·Cg floats (unused by the 1×1 path).
 */
export function f32_conv2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32, OC: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, dilationW: i32,
  groups: i32, wp: usize, bias: usize, act: i32, y: usize, scratch: usize, tilePixels: i32): void {
  const Cg = C / groups;
  const OCg = OC / groups;
  const Kg = KH * KW * Cg;
  const blockB = <usize>f32_gemm_packed_size(Kg, OCg) << 2;
  const P = N * OH * OW;
  // Pointwise (1×1, stride 1, no padding): the input is already the im2col
  // matrix [N·H·W, C]; each group is a column slice of it (lda = C).
  if (KH == 1 && KW == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0) {
    for (let g = 0; g < groups; g++) {
      gemmPacked(P, OCg, Cg, x + (<usize>(g * Cg) << 2), C, wp + <usize>g * blockB, Cg,
        y + (<usize>(g * OCg) << 2), OC, bias != 0 ? bias + (<usize>(g * OCg) << 2) : 0, act, 0);
    }
    return;
  }
  if (groups == 1 && dilationW == 1 && Kg <= DIRECT_MAX_K) {
    convDirect(N, H, W, C, x, OH, OW, OC, KH, KW, strideH, strideW, padH, padW, dilationH, wp, bias, act, y,
      scratch, tilePixels);
    return;
  }
  const ohw = OH * OW;
  for (let p0 = 0; p0 < P; p0 += tilePixels) {
    const rows = min(tilePixels, P - p0);
    for (let g = 0; g < groups; g++) {
      // gather the tile's patches [rows, KH·KW·Cg]
      let n = p0 / ohw;
      let oh = (p0 - n * ohw) / OW;
      let ow = p0 - n * ohw - oh * OW;
      let dst = scratch;
      const xg = x + (<usize>(g * Cg) << 2);
      for (let r = 0; r < rows; r++) {
        gatherPatch(dst, xg, n, oh * strideH - padH, ow * strideW - padW, H, W, C, Cg, KH, KW, dilationH, dilationW);
        dst += <usize>Kg << 2;
        if (++ow == OW) {
          ow = 0;
          if (++oh == OH) { oh = 0; n++; }
        }
      }
      gemmPacked(rows, OCg, Kg, scratch, Kg, wp + <usize>g * blockB, Kg,
        y + ((<usize>p0 * <usize>OC + <usize>(g * OCg)) << 2), OC,
        bias != 0 ? bias + (<usize>(g * OCg) << 2) : 0, act, 0);
    }
  }
}

// One im2col row: the patch of the output pixel whose top-left tap is at (ih0, iw0), in the packed
// weight's order (kh, kw, c), zeros where a tap falls in the padding. `xg` is x at the group's first channel.
// @ts-ignore: decorator
@inline function gatherPatch(dst: usize, xg: usize, n: i32, ih0: i32, iw0: i32, H: i32, W: i32, C: i32, Cg: i32,
  KH: i32, KW: i32, dilationH: i32, dilationW: i32): void {
  const inside = dilationW == 1 && Cg == C && iw0 >= 0 && iw0 + KW <= W;
  for (let kh = 0; kh < KH; kh++) {
    const ih = ih0 + kh * dilationH;
    if (ih < 0 || ih >= H) {
      zeroFloats(dst, KW * Cg);
      dst += <usize>(KW * Cg) << 2;
      continue;
    }
    const row = xg + ((<usize>(n * H + ih) * <usize>W * <usize>C) << 2);
    if (inside) {
      // the KW taps are one run of KW·C floats: a 3-channel stem moves 9 floats at once, not 3 at a time
      copyFloats(dst, row + ((<usize>iw0 * <usize>C) << 2), KW * Cg);
      dst += <usize>(KW * Cg) << 2;
      continue;
    }
    for (let kw = 0; kw < KW; kw++) {
      const iw = iw0 + kw * dilationW;
      if (iw < 0 || iw >= W) zeroFloats(dst, Cg);
      else copyFloats(dst, row + ((<usize>iw * <usize>C) << 2), Cg);
      dst += <usize>Cg << 2;
    }
  }
}

// Largest patch (KH·KW·C floats) convDirect takes: its weight strips (K·32 bytes each) stay in L1 unblocked.
const DIRECT_MAX_K: i32 = 256;

// Convolution without im2col, for one group with taps side by side and small patches (a network's stem:
// 3×3×3, 7×7×3). Four neighbouring output pixels of a row whose taps are all inside the image are a 4-row
// GEMM tile whose A rows are read from x itself: row r of the tile starts strideW·C floats after row r − 1,
// and each kh is a run of KW·C floats. The pixels that touch the padding, and the last < 4 of a row, are
// gathered as im2col rows and go through the GEMM.
function convDirect(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32, OC: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, wp: usize, bias: usize, act: i32, y: usize,
  scratch: usize, tilePixels: i32): void {
  const K = KH * KW * C;
  const seg = KW * C;
  const ldaB = <usize>(strideW * C) << 2;
  const rowB = <usize>(dilationH * W * C) << 2;
  const ldcB = <usize>OC << 2;
  // Output columns whose KW taps are all inside the image: [owLo, owHi).
  const owLo = min(OW, (padW + strideW - 1) / strideW);
  const owHi = max(owLo, W - KW + padW < 0 ? 0 : min(OW, (W - KW + padW) / strideW + 1));
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const yRow = y + ((<usize>(n * OH + oh) * <usize>OW * <usize>OC) << 2);
      let ow = 0;
      if (ih0 >= 0 && ih0 + (KH - 1) * dilationH < H) {
        gatherRows(n, oh, 0, owLo, H, W, C, x, OW, OC, KH, KW, strideW, ih0, padW, dilationH, K, wp, bias, act, yRow,
          scratch, tilePixels);
        const a0 = x + ((<usize>(n * H + ih0) * <usize>W * <usize>C) << 2);
        const tiles = (owHi - owLo) >> 2;
        directTiles(tiles, KH, seg, a0 + ((<usize>(owLo * strideW - padW) * <usize>C) << 2), 4 * ldaB, ldaB, rowB, wp,
          yRow + ((<usize>owLo * <usize>OC) << 2), 4 * ldcB, ldcB, OC, bias, act);
        ow = owLo + 4 * tiles;
      }
      gatherRows(n, oh, ow, OW, H, W, C, x, OW, OC, KH, KW, strideW, ih0, padW, dilationH, K, wp, bias, act, yRow,
        scratch, tilePixels);
    }
  }
}

// Output pixels [ow0, ow1) of one row through im2col and the GEMM, at most tilePixels at a time.
function gatherRows(n: i32, oh: i32, ow0: i32, ow1: i32, H: i32, W: i32, C: i32, x: usize, OW: i32, OC: i32,
  KH: i32, KW: i32, strideW: i32, ih0: i32, padW: i32, dilationH: i32, K: i32, wp: usize, bias: usize, act: i32,
  yRow: usize, scratch: usize, tilePixels: i32): void {
  for (let o0 = ow0; o0 < ow1; o0 += tilePixels) {
    const rows = min(tilePixels, ow1 - o0);
    for (let r = 0; r < rows; r++) {
      gatherPatch(scratch + ((<usize>(r * K)) << 2), x, n, ih0, (o0 + r) * strideW - padW, H, W, C, C, KH, KW, dilationH, 1);
    }
    gemmPacked(rows, OC, K, scratch, K, wp, K, yRow + ((<usize>o0 * <usize>OC) << 2), OC, bias, act, 0);
  }
}

// `count` tiles of 4 output rows side by side, tile i reading its A rows from a + i·stepAB and writing
// c + i·stepCB (see directTile). The common activations get a copy of the loop each, in a function of its
// own, for the reason gemmPacked gives.
function directTiles(count: i32, runs: i32, run: i32, a: usize, stepAB: usize, ldaB: usize, runB: usize, wp: usize,
  c: usize, stepCB: usize, ldcB: usize, OC: i32, bias: usize, act: i32): void {
  switch (act) {
    case ACT_NONE: directTilesLinear(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias); break;
    case ACT_RELU: directTilesRelu(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias); break;
    case ACT_RELU6: directTilesRelu6(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias); break;
    default: directTilesWith(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias, act);
  }
}

function directTilesLinear(count: i32, runs: i32, run: i32, a: usize, stepAB: usize, ldaB: usize, runB: usize,
  wp: usize, c: usize, stepCB: usize, ldcB: usize, OC: i32, bias: usize): void {
  directTilesWith(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias, ACT_NONE);
}

function directTilesRelu(count: i32, runs: i32, run: i32, a: usize, stepAB: usize, ldaB: usize, runB: usize,
  wp: usize, c: usize, stepCB: usize, ldcB: usize, OC: i32, bias: usize): void {
  directTilesWith(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias, ACT_RELU);
}

function directTilesRelu6(count: i32, runs: i32, run: i32, a: usize, stepAB: usize, ldaB: usize, runB: usize,
  wp: usize, c: usize, stepCB: usize, ldcB: usize, OC: i32, bias: usize): void {
  directTilesWith(count, runs, run, a, stepAB, ldaB, runB, wp, c, stepCB, ldcB, OC, bias, ACT_RELU6);
}

// @ts-ignore: decorator
@inline function directTilesWith(count: i32, runs: i32, run: i32, a: usize, stepAB: usize, ldaB: usize, runB: usize,
  wp: usize, c: usize, stepCB: usize, ldcB: usize, OC: i32, bias: usize, act: i32): void {
  for (let i = 0; i < count; i++) {
    directTile(runs, run, a, ldaB, runB, wp, c, ldcB, OC, bias, act);
    a += stepAB;
    c += stepCB;
  }
}

// Output rows [c, c + 4·ldcB) from four A rows read in place (gemm.ts's tile4x8): all 8-column strips of the
// packed weight wp, whose K = runs · run rows each.
// @ts-ignore: decorator
@inline function directTile(runs: i32, run: i32, a: usize, ldaB: usize, runB: usize, wp: usize, c: usize, ldcB: usize,
  OC: i32, bias: usize, act: i32): void {
  const stripB = <usize>(runs * run) << 5;
  for (let n0 = 0; n0 < OC; n0 += 8) {
    tile4x8(runs, run, a, ldaB, runB, wp + <usize>(n0 >> 3) * stripB, c + (<usize>n0 << 2), ldcB, min(8, OC - n0), false,
      bias != 0 ? bias + (<usize>n0 << 2) : 0, act);
  }
}

/**
 * Depthwise conv2d (one filter per channel): y [N, OH, OW, C] =
 * act(bias + Σ w[kh, kw, c] · x[n, oh·s − p + kh·d, ow·s − p + kw·d, c]), w [KH, KW, C].
 */
export function f32_dwconv2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, dilationW: i32,
  w: usize, bias: usize, act: i32, y: usize): void {
  const fast3x3 = KH == 3 && KW == 3 && dilationH == 1 && dilationW == 1 && C >= 4;
  // Output columns whose 3 input columns are all inside the image.
  let owLo = 0, owHi = 0;
  if (fast3x3) {
    owLo = min(OW, (padW + strideW - 1) / strideW);
    owHi = W - 3 + padW < 0 ? 0 : min(OW, (W - 3 + padW) / strideW + 1);
    if (owHi < owLo) owHi = owLo;
  }
  const C4 = C & ~3;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      if (!fast3x3 || ih0 < 0 || ih0 + 2 >= H || owLo == owHi) {
        dwGeneral(n, oh, 0, OW, 0, C, H, W, C, x, OH, OW, KH, KW, strideH, strideW, padH, padW,
          dilationH, dilationW, w, bias, act, y);
        continue;
      }
      dwGeneral(n, oh, 0, owLo, 0, C, H, W, C, x, OH, OW, KH, KW, strideH, strideW, padH, padW,
        dilationH, dilationW, w, bias, act, y);
      dw3x3Interior(n, oh, owLo, owHi, C4, H, W, C, x, OH, OW, strideW, ih0, padW, w, bias, act, y);
      if (C4 < C) {
        dwGeneral(n, oh, owLo, owHi, C4, C, H, W, C, x, OH, OW, KH, KW, strideH, strideW, padH, padW,
          dilationH, dilationW, w, bias, act, y);
      }
      dwGeneral(n, oh, owHi, OW, 0, C, H, W, C, x, OH, OW, KH, KW, strideH, strideW, padH, padW,
        dilationH, dilationW, w, bias, act, y);
    }
  }
}

// Interior of one output row, channels [0, C4): the 9 taps of a 4-channel
// block stay in registers while ow sweeps the row, so the three input rows
// are read from cache once per block. The common activations get a copy of
// the loop each, in a function of its own, for the reason gemmPacked gives
// (here the switch at every pixel cost 5-10 %, measured).
function dw3x3Interior(n: i32, oh: i32, owLo: i32, owHi: i32, C4: i32, H: i32, W: i32, C: i32, x: usize,
  OH: i32, OW: i32, strideW: i32, ih0: i32, padW: i32, w: usize, bias: usize, act: i32, y: usize): void {
  const cB = <usize>C << 2;
  const x0 = x + (<usize>(n * H + ih0) * <usize>W + <usize>(owLo * strideW - padW)) * cB;
  const y0 = y + (<usize>(n * OH + oh) * <usize>OW + <usize>owLo) * cB;
  const count = owHi - owLo;
  const rowB = <usize>W * cB;
  const stepB = <usize>strideW * cB;
  switch (act) {
    case ACT_NONE: dw3x3Linear(x0, y0, count, C4, cB, rowB, stepB, w, bias); break;
    case ACT_RELU: dw3x3Relu(x0, y0, count, C4, cB, rowB, stepB, w, bias); break;
    case ACT_RELU6: dw3x3Relu6(x0, y0, count, C4, cB, rowB, stepB, w, bias); break;
    default: dw3x3Blocks(x0, y0, count, C4, cB, rowB, stepB, w, bias, act);
  }
}

function dw3x3Linear(x0: usize, y0: usize, count: i32, C4: i32, cB: usize, rowB: usize, stepB: usize, w: usize, bias: usize): void {
  dw3x3Blocks(x0, y0, count, C4, cB, rowB, stepB, w, bias, ACT_NONE);
}

function dw3x3Relu(x0: usize, y0: usize, count: i32, C4: i32, cB: usize, rowB: usize, stepB: usize, w: usize, bias: usize): void {
  dw3x3Blocks(x0, y0, count, C4, cB, rowB, stepB, w, bias, ACT_RELU);
}

function dw3x3Relu6(x0: usize, y0: usize, count: i32, C4: i32, cB: usize, rowB: usize, stepB: usize, w: usize, bias: usize): void {
  dw3x3Blocks(x0, y0, count, C4, cB, rowB, stepB, w, bias, ACT_RELU6);
}

// @ts-ignore: decorator
@inline function dw3x3Blocks(x0: usize, y0: usize, count: i32, C4: i32, cB: usize, rowB: usize, stepB: usize,
  w: usize, bias: usize, act: i32): void {
  for (let c = 0; c < C4; c += 4) {
    const cb = <usize>c << 2;
    const w0 = v128.load(w + cb), w1 = v128.load(w + cB + cb), w2 = v128.load(w + 2 * cB + cb);
    const w3 = v128.load(w + 3 * cB + cb), w4 = v128.load(w + 4 * cB + cb), w5 = v128.load(w + 5 * cB + cb);
    const w6 = v128.load(w + 6 * cB + cb), w7 = v128.load(w + 7 * cB + cb), w8 = v128.load(w + 8 * cB + cb);
    const b = bias != 0 ? v128.load(bias + cb) : f32x4.splat(0);
    let r0 = x0 + cb;
    let yp = y0 + cb;
    for (let i = 0; i < count; i++) {
      const r1 = r0 + rowB, r2 = r1 + rowB;
      // three independent row sums, so the adds do not form one long chain
      let s0 = madd(w0, v128.load(r0), b);
      let s1 = f32x4.mul(w3, v128.load(r1));
      let s2 = f32x4.mul(w6, v128.load(r2));
      s0 = madd(w1, v128.load(r0 + cB), s0);
      s1 = madd(w4, v128.load(r1 + cB), s1);
      s2 = madd(w7, v128.load(r2 + cB), s2);
      s0 = madd(w2, v128.load(r0 + 2 * cB), s0);
      s1 = madd(w5, v128.load(r1 + 2 * cB), s1);
      s2 = madd(w8, v128.load(r2 + 2 * cB), s2);
      v128.store(yp, activate4(f32x4.add(f32x4.add(s0, s1), s2), act));
      r0 += stepB;
      yp += cB;
    }
  }
}

// Any kernel, stride and dilation, for output columns [ow0, ow1) of one row
// and channels [c0, c1): the taps inside the image are found once per pixel,
// so the channel loops run without bounds checks.
function dwGeneral(n: i32, oh: i32, ow0: i32, ow1: i32, c0: i32, c1: i32, H: i32, W: i32, C: i32, x: usize,
  OH: i32, OW: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32,
  dilationH: i32, dilationW: i32, w: usize, bias: usize, act: i32, y: usize): void {
  const cB = <usize>C << 2;
  const tapB = <usize>dilationW * cB;
  const xRowB = <usize>(dilationH * W) * cB;
  const wRowB = <usize>KW * cB;
  const ih0 = oh * strideH - padH;
  const khLo = firstInside(ih0, dilationH), khHi = endInside(ih0, dilationH, H, KH);
  for (let ow = ow0; ow < ow1; ow++) {
    const iw0 = ow * strideW - padW;
    const kwLo = firstInside(iw0, dilationW), kwHi = endInside(iw0, dilationW, W, KW);
    // the first tap inside the image, in x and in w (unused when no tap is inside)
    const x0 = x + <usize>(((n * H + ih0 + khLo * dilationH) * W + iw0 + kwLo * dilationW)) * cB;
    const w0 = w + <usize>(khLo * KW + kwLo) * cB;
    const yp = y + (<usize>(n * OH + oh) * <usize>OW + <usize>ow) * cB;
    let c = c0;
    for (; c + 4 <= c1; c += 4) {
      const cb = <usize>c << 2;
      let a = bias != 0 ? v128.load(bias + cb) : f32x4.splat(0);
      let xr = x0 + cb, wr = w0 + cb;
      for (let kh = khLo; kh < khHi; kh++) {
        let xp = xr, wq = wr;
        for (let kw = kwLo; kw < kwHi; kw++) {
          a = madd(v128.load(wq), v128.load(xp), a);
          xp += tapB;
          wq += cB;
        }
        xr += xRowB;
        wr += wRowB;
      }
      v128.store(yp + cb, activate4(a, act));
    }
    for (; c < c1; c++) {
      const cb = <usize>c << 2;
      let a: f32 = bias != 0 ? load<f32>(bias + cb) : 0;
      let xr = x0 + cb, wr = w0 + cb;
      for (let kh = khLo; kh < khHi; kh++) {
        let xp = xr, wq = wr;
        for (let kw = kwLo; kw < kwHi; kw++) {
          a += load<f32>(wq) * load<f32>(xp);
          xp += tapB;
          wq += cB;
        }
        xr += xRowB;
        wr += wRowB;
      }
      store<f32>(yp + cb, activate1(a, act));
    }
  }
}

// The first tap k with i0 + k·d ≥ 0.
// @ts-ignore: decorator
@inline function firstInside(i0: i32, d: i32): i32 {
  return i0 >= 0 ? 0 : (d - 1 - i0) / d;
}

// One past the last tap k < K with i0 + k·d < size (0 when none is inside).
// @ts-ignore: decorator
@inline function endInside(i0: i32, d: i32, size: i32, K: i32): i32 {
  const room = size - 1 - i0;
  return room < 0 ? 0 : min(K, room / d + 1);
}

/**
 * Transposed conv2d (groups = 1): y [N, OH, OW, OC] = act(bias + Σ over input
 * pixels and taps of x[n, ih, iw, :] · W[:, kh, kw, :] placed at
 * (ih·s − p + kh·d, iw·s − p + kw·d)). wp is packed [C, KH·KW·OC]. Each tile
 * of input pixels is multiplied into scratch [tilePixels, KH·KW·OC] and
 * scattered (col2im) into y; the activation runs once y is complete.
 */
export function f32_conv_transpose2d_nhwc(N: i32, H: i32, W: i32, C: i32, x: usize, OH: i32, OW: i32, OC: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dilationH: i32, dilationW: i32,
  wp: usize, bias: usize, act: i32, y: usize, scratch: usize, tilePixels: i32): void {
  const cols = KH * KW * OC;
  const ocB = <usize>OC << 2;
  const outPixels = N * OH * OW;
  for (let p = 0; p < outPixels; p++) {
    const yp = y + <usize>p * ocB;
    if (bias != 0) copyFloats(yp, bias, OC);
    else zeroFloats(yp, OC);
  }
  const P = N * H * W;
  const hw = H * W;
  for (let p0 = 0; p0 < P; p0 += tilePixels) {
    const rows = min(tilePixels, P - p0);
    gemmPacked(rows, cols, C, x + ((<usize>p0 * <usize>C) << 2), C, wp, C, scratch, cols, 0, 0, 0);
    let n = p0 / hw;
    let ih = (p0 - n * hw) / W;
    let iw = p0 - n * hw - ih * W;
    let src = scratch;
    for (let r = 0; r < rows; r++) {
      const oh0 = ih * strideH - padH;
      const ow0 = iw * strideW - padW;
      for (let kh = 0; kh < KH; kh++) {
        const oh = oh0 + kh * dilationH;
        if (oh < 0 || oh >= OH) {
          src += <usize>KW * ocB;
          continue;
        }
        const yr = y + <usize>((n * OH + oh) * OW) * ocB;
        for (let kw = 0; kw < KW; kw++) {
          const ow = ow0 + kw * dilationW;
          if (ow >= 0 && ow < OW) addFloats(yr + <usize>ow * ocB, src, OC);
          src += ocB;
        }
      }
      if (++iw == W) {
        iw = 0;
        if (++ih == H) { ih = 0; n++; }
      }
    }
  }
  if (act != 0) f32_activation(outPixels * OC, y, y, act);
}

/**
 * Dilated causal conv1d over x [N, T, C]: y [N, T, OC] =
 * act(bias + Σ_k W_k · x[n, t − (K−1−k)·dilation]), zero before t = 0.
 * wp is packed [K·C, OC] with row k·C + c; scratch holds tileRows × K·C floats.
 * act = ACT_GATED gives WaveNet's gated unit instead (below). With history h > 0
 * the first h rows of each sequence are context only: y [N, T − h, OC] holds
 * rows h.. (a time tile whose past is already in x).
 */
export function f32_causal_conv1d(N: i32, T: i32, C: i32, x: usize, OC: i32, K: i32, dilation: i32,
  wp: usize, bias: usize, act: i32, y: usize, scratch: usize, tileRows: i32, history: i32): void {
  if (act == ACT_GATED) {
    causalConv1dGated(N, T, C, x, OC, K, dilation, wp, bias, y, scratch, tileRows, history);
    return;
  }
  const cB = <usize>C << 2;
  const outRows = T - history;
  if (K == 1 && history == 0) {
    gemmPacked(N * T, OC, C, x, C, wp, C, y, OC, bias, act, 0);
    return;
  }
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>(n * T) * cB;
    for (let t0 = history; t0 < T; t0 += tileRows) {
      const rows = min(tileRows, T - t0);
      const out = y + ((<usize>(n * outRows + t0 - history) * <usize>OC) << 2);
      if (K == 1) gemmPacked(rows, OC, C, xn + <usize>t0 * cB, C, wp, C, out, OC, bias, act, 0);
      else causalRows(xn, C, OC, K, dilation, t0, rows, wp, bias, act, out, scratch);
    }
  }
}

// Rows [t0, t0 + rows) of one sequence's causal conv into out [rows, OC]. With a small patch (K·C ≤
// DIRECT_MAX_K) the rows whose taps all fall inside the sequence are 4-row GEMM tiles read straight from
// x (row t + 1 starts C floats after row t; tap j is (K − 1 − j)·dilation rows back), as convDirect does
// for images; the rows that reach before the start, the last < 4, and large patches go through im2col.
function causalRows(xn: usize, C: i32, OC: i32, K: i32, dilation: i32, t0: i32, rows: i32, wp: usize, bias: usize,
  act: i32, out: usize, scratch: usize): void {
  const KC = K * C;
  const tEnd = t0 + rows;
  const ocB = <usize>OC << 2;
  let t = t0;
  if (KC <= DIRECT_MAX_K) {
    const reach = (K - 1) * dilation;
    const head = min(tEnd, max(t0, reach));
    if (head > t0) {
      causalIm2col(xn, C, K, dilation, t0, head - t0, scratch);
      gemmPacked(head - t0, OC, KC, scratch, KC, wp, KC, out, OC, bias, act, 0);
    }
    const cB = <usize>C << 2;
    const tiles = (tEnd - head) >> 2;
    directTiles(tiles, K, C, xn + <usize>(head - reach) * cB, 4 * cB, cB, <usize>dilation * cB, wp,
      out + <usize>(head - t0) * ocB, 4 * ocB, ocB, OC, bias, act);
    t = head + 4 * tiles;
  }
  if (t < tEnd) {
    causalIm2col(xn, C, K, dilation, t, tEnd - t, scratch);
    gemmPacked(tEnd - t, OC, KC, scratch, KC, wp, KC, out + <usize>(t - t0) * ocB, OC, bias, act, 0);
  }
}

/**
 * `act` of f32_causal_conv1d for WaveNet's gated unit: y [N, T, OC/2] =
 * tanh(z[:, :OC/2]) ⊙ σ(z[:, OC/2:]) of the convolution z. z is computed one
 * tile of rows at a time into scratch (after the tile's im2col rows) and
 * gated while it is still in cache, so it never goes out to memory. Scratch:
 * tileRows · (K·C + OC) floats.
 */
export const ACT_GATED: i32 = 16;

function causalConv1dGated(N: i32, T: i32, C: i32, x: usize, OC: i32, K: i32, dilation: i32,
  wp: usize, bias: usize, y: usize, scratch: usize, tileRows: i32, history: i32): void {
  const KC = K * C;
  const cB = <usize>C << 2;
  const half = OC >> 1;
  const z = scratch + (<usize>(tileRows * KC) << 2);
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>(n * T) * cB;
    for (let t0 = history; t0 < T; t0 += tileRows) {
      const rows = min(tileRows, T - t0);
      if (K == 1) gemmPacked(rows, OC, C, xn + <usize>t0 * cB, C, wp, C, z, OC, bias, 0, 0);
      else causalRows(xn, C, OC, K, dilation, t0, rows, wp, bias, 0, z, scratch);
      f32_gated_tanh(rows, half, z, y + ((<usize>(n * (T - history) + t0 - history) * <usize>half) << 2));
    }
  }
}

/** Rows t0 … t0 + rows − 1 of the causal im2col matrix: per row, the K taps' inputs (zeros before t = 0). */
// @ts-ignore: decorator
@inline function causalIm2col(xn: usize, C: i32, K: i32, dilation: i32, t0: i32, rows: i32, dst: usize): void {
  const cB = <usize>C << 2;
  for (let t = t0; t < t0 + rows; t++) {
    for (let k = 0; k < K; k++) {
      const ts = t - (K - 1 - k) * dilation;
      if (ts < 0) zeroFloats(dst, C);
      else copyFloats(dst, xn + <usize>ts * cB, C);
      dst += cB;
    }
  }
}

// Short copies inline: im2col moves a few channels at a time, too few to
// repay memory.copy's fixed cost per call in V8.
// @ts-ignore: decorator
@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, v128.load(src + o));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o));
  }
}

// @ts-ignore: decorator
@inline function zeroFloats(dst: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), f32x4.splat(0));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// @ts-ignore: decorator
@inline function addFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}
