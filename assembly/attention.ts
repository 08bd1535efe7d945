// Scaled dot-product attention: y = softmax(scale·Q·Kᵀ + masks)·V, per batch
// and head, numerically stable and never holding more than one row block of
// scores.
//
// Per (b, h), Kᵀ and V are packed once into GEMM strips; then each block of
// RB query rows takes scores = Q_blk·Kᵀ (packed GEMM), a masked,
// max-subtracted exp per row, and y_blk = P·V, each row divided by its sum
// afterwards (Dv divisions instead of Tk). A causal mask lets a block see
// only a prefix of the keys, so both GEMMs stop at that prefix (gemmPacked
// multiplies by the first rows of a packed V whose strips are Tk high).
//
// Fewer than PACK_MIN_TQ queries (a decoding step against a KV cache) do not
// pay back packing K and V: they take dot products straight from K and sums
// of V's rows.

import { gemmPacked, f32_gemm_packed_size, f32_gemm_pack_b } from './gemm';
import { exp4 } from './activation';
import { madd } from './simd';

// Query rows per block: the score block is RB × ⌈Tk/8⌉·8 floats (8 KB at
// Tk = 128), and a causal block computes at most RB/2 wasted scores per row.
const RB: i32 = 16;
// Below this many queries per head the direct path is faster (measured here:
// 6× at Tq = 1, even at Tq = 16, 15–20 % slower at Tq = 128).
const PACK_MIN_TQ: i32 = 16;

// @ts-ignore: decorator
@inline function roundUp8(n: i32): i32 {
  return ((n + 7) >> 3) << 3;
}

/**
 * Floats of scratch f32_attention needs: packed Kᵀ and V, one block of
 * scores and its row sums; for fewer than PACK_MIN_TQ queries, one row of scores.
 */
export function f32_attention_scratch_size(Tq: i32, Tk: i32, D: i32, Dv: i32): i32 {
  if (Tq < PACK_MIN_TQ) return roundUp8(Tk); // one row of scores
  return f32_gemm_packed_size(D, Tk) + f32_gemm_packed_size(Tk, Dv) + RB * (roundUp8(Tk) + 1);
}

/**
 * softmax(scale·Q·Kᵀ + masks)·V over q [B, H, Tq, D], k [B, H, Tk, D],
 * v [B, H, Tk, Dv] into y [B, H, Tq, Dv]. causal ≠ 0: query i sees keys
 * j ≤ i + Tk − Tq (bottom-right aligned). keyMask: u8 [B, Tk], nonzero =
 * padding key, or 0 for none. A query that sees no key gets a zero row.
 */
export function f32_attention(B: i32, H: i32, Tq: i32, Tk: i32, D: i32, Dv: i32, q: usize, k: usize, v: usize,
  y: usize, scale: f32, causal: i32, keyMask: usize, scratch: usize): void {
  // Keys a query row i may see, before the key mask: [0, i + shift).
  const shift = causal ? Tk - Tq + 1 : Tk;
  for (let b = 0; b < B; b++) {
    const mask: usize = keyMask ? keyMask + <usize>b * <usize>Tk : 0;
    for (let h = 0; h < H; h++) {
      const bh = <usize>(b * H + h);
      const qh = q + ((bh * <usize>Tq * <usize>D) << 2);
      const kh = k + ((bh * <usize>Tk * <usize>D) << 2);
      const vh = v + ((bh * <usize>Tk * <usize>Dv) << 2);
      const yh = y + ((bh * <usize>Tq * <usize>Dv) << 2);
      if (Tq < PACK_MIN_TQ) headDirect(Tq, Tk, D, Dv, qh, kh, vh, yh, scale, shift, mask, scratch);
      else headPacked(Tq, Tk, D, Dv, qh, kh, vh, yh, scale, shift, mask, scratch);
    }
  }
}

// One head through the packed GEMM; q [Tq, D], k [Tk, D], v [Tk, Dv], y [Tq, Dv].
function headPacked(Tq: i32, Tk: i32, D: i32, Dv: i32, q: usize, k: usize, v: usize, y: usize, scale: f32,
  shift: i32, mask: usize, scratch: usize): void {
  const ldS = roundUp8(Tk);
  const kt = scratch;
  const vp = kt + (<usize>f32_gemm_packed_size(D, Tk) << 2);
  const scores = vp + (<usize>f32_gemm_packed_size(Tk, Dv) << 2);
  const invSums = scores + ((<usize>RB * <usize>ldS) << 2);
  // K is stored [Tk, D] = (Kᵀ)ᵀ, so Kᵀ packs with transposed = 1.
  f32_gemm_pack_b(D, Tk, k, D, 1, kt);
  f32_gemm_pack_b(Tk, Dv, v, Dv, 0, vp);
  for (let i0 = 0; i0 < Tq; i0 += RB) {
    const rows = min(RB, Tq - i0);
    // Keys any row of the block sees: the last row's prefix.
    const tkBlock = max(0, min(Tk, i0 + rows - 1 + shift));
    // scoresTk [rows, tkBlock] = Q_blk [rows, D] · Kᵀ[:, :tkBlock]
    gemmPacked(rows, tkBlock, D, q + ((<usize>i0 * <usize>D) << 2), D, kt, D, scores, ldS, 0, 0, 0);
    for (let r = 0; r < rows; r++) {
      const row = scores + ((<usize>r * <usize>ldS) << 2);
      const seen = max(0, min(tkBlock, i0 + r + shift));
      store<f32>(invSums + (<usize>r << 2), expRow(seen, row, scale, mask));
      memory.fill(row + (<usize>seen << 2), 0, <usize>(tkBlock - seen) << 2);
    }
    // y_blk [rows, Dv] = P [rows, tkBlock] · V[:tkBlock, :], then each row / its sum
    const yBlk = y + ((<usize>i0 * <usize>Dv) << 2);
    gemmPacked(rows, Dv, tkBlock, scores, ldS, vp, Tk, yBlk, Dv, 0, 0, 0);
    for (let r = 0; r < rows; r++) {
      scaleRow(Dv, yBlk + ((<usize>r * <usize>Dv) << 2), load<f32>(invSums + (<usize>r << 2)));
    }
  }
}

// One head by dot products, for few queries; the scores row is scratch [Tk].
function headDirect(Tq: i32, Tk: i32, D: i32, Dv: i32, q: usize, k: usize, v: usize, y: usize, scale: f32,
  shift: i32, mask: usize, row: usize): void {
  const ldK = <usize>D << 2;
  const ldV = <usize>Dv << 2;
  for (let i = 0; i < Tq; i++) {
    const qi = q + <usize>i * ldK;
    const yi = y + <usize>i * ldV;
    const seen = max(0, min(Tk, i + shift));
    // scoresTk [seen] = K[:seen] · q_i, four keys at a time
    let j = 0;
    for (; j + 4 <= seen; j += 4) {
      const k0 = k + <usize>j * ldK, k1 = k0 + ldK, k2 = k1 + ldK, k3 = k2 + ldK;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let d = 0;
      for (; d + 4 <= D; d += 4) {
        const o = <usize>d << 2;
        const x = v128.load(qi + o);
        a0 = madd(x, v128.load(k0 + o), a0);
        a1 = madd(x, v128.load(k1 + o), a1);
        a2 = madd(x, v128.load(k2 + o), a2);
        a3 = madd(x, v128.load(k3 + o), a3);
      }
      // Transposing the four accumulators' lanes gives the four sums in one vector.
      const lo01 = f32x4.shuffle(a0, a1, 0, 4, 1, 5), hi01 = f32x4.shuffle(a0, a1, 2, 6, 3, 7);
      const lo23 = f32x4.shuffle(a2, a3, 0, 4, 1, 5), hi23 = f32x4.shuffle(a2, a3, 2, 6, 3, 7);
      const u = f32x4.add(lo01, hi01), w = f32x4.add(lo23, hi23);
      const out = row + (<usize>j << 2);
      v128.store(out, f32x4.add(i64x2.shuffle(u, w, 0, 2), i64x2.shuffle(u, w, 1, 3)));
      for (; d < D; d++) {
        const o = <usize>d << 2;
        const x = load<f32>(qi + o);
        store<f32>(out, load<f32>(out) + x * load<f32>(k0 + o));
        store<f32>(out, load<f32>(out, 4) + x * load<f32>(k1 + o), 4);
        store<f32>(out, load<f32>(out, 8) + x * load<f32>(k2 + o), 8);
        store<f32>(out, load<f32>(out, 12) + x * load<f32>(k3 + o), 12);
      }
    }
    for (; j < seen; j++) store<f32>(row + (<usize>j << 2), dot(D, qi, k + <usize>j * ldK));
    const inv = expRow(seen, row, scale, mask);
    // y_i [Dv] = Σ_j p_j · V[j] / Σ_j p_j, eight columns at a time
    let c = 0;
    for (; c + 8 <= Dv; c += 8) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
      let vj = v + (<usize>c << 2);
      for (let jj = 0; jj < seen; jj++) {
        const p = v128.load32_splat(row + (<usize>jj << 2));
        a0 = madd(p, v128.load(vj), a0);
        a1 = madd(p, v128.load(vj, 16), a1);
        vj += ldV;
      }
      const vi = f32x4.splat(inv);
      v128.store(yi + (<usize>c << 2), f32x4.mul(a0, vi));
      v128.store(yi + (<usize>c << 2), f32x4.mul(a1, vi), 16);
    }
    for (; c < Dv; c++) {
      let a: f32 = 0;
      for (let jj = 0; jj < seen; jj++) a += load<f32>(row + (<usize>jj << 2)) * load<f32>(v + <usize>jj * ldV + (<usize>c << 2));
      store<f32>(yi + (<usize>c << 2), a * inv);
    }
  }
}

// @ts-ignore: decorator
@inline function dot(n: i32, a: usize, b: usize): f32 {
  let acc = f32x4.splat(0);
  let d = 0;
  for (; d + 4 <= n; d += 4) {
    const o = <usize>d << 2;
    acc = madd(v128.load(a + o), v128.load(b + o), acc);
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) +
    f32x4.extract_lane(acc, 3);
  for (; d < n; d++) s += load<f32>(a + (<usize>d << 2)) * load<f32>(b + (<usize>d << 2));
  return s;
}

/**
 * Turns a row of n raw scores into exp(scale·x − m), m the row's largest
 * scaled visible score, with padding keys (mask[j] ≠ 0) at exactly 0, and
 * returns 1 / Σ. A row with no visible key becomes zeros and returns 0, so
 * its output row is zero rather than 0/0; NaN scores give NaN.
 */
function expRow(n: i32, row: usize, scale: f32, mask: usize): f32 {
  // Scaling first makes the max-subtraction right for any sign of scale.
  // pmax/pmin are single instructions (max/min handle NaN and −0 in ~8); a
  // NaN score still reaches the output through exp.
  const vs = f32x4.splat(scale);
  const hidden = f32x4.splat(-Infinity);
  let vmax = hidden;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    let x = f32x4.mul(v128.load(row + o), vs);
    if (mask) {
      const m = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(mask + <usize>j)));
      x = v128.bitselect(hidden, x, i32x4.ne(m, i32x4.splat(0)));
    }
    v128.store(row + o, x);
    vmax = f32x4.pmax(vmax, x);
  }
  let m = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)),
    max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const x: f32 = mask && load<u8>(mask + <usize>j) ? -Infinity : load<f32>(row + o) * scale;
    store<f32>(row + o, x);
    m = max(m, x);
  }
  if (m == -Infinity) {
    // No visible key, or only NaN scores (pmax skips NaN): those must still
    // reach the output, as they do through exp in any other row.
    let nan = false;
    for (j = 0; j < n; j++) nan = nan || isNaN(load<f32>(row + (<usize>j << 2)));
    memory.fill(row, 0, <usize>n << 2);
    return nan ? NaN : 0;
  }
  // exp4(−∞) is exactly 0: padding keys get zero weight.
  const vm = f32x4.splat(m);
  let vsum = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    const e = exp4(f32x4.sub(v128.load(row + o), vm));
    v128.store(row + o, e);
    vsum = f32x4.add(vsum, e);
  }
  let sum = f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) +
    f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
  for (; j < n; j++) {
    const o = <usize>j << 2;
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(row + o) - m)), 0);
    store<f32>(row + o, e);
    sum += e;
  }
  return 1.0 / sum;
}

// @ts-ignore: decorator
@inline function scaleRow(n: i32, x: usize, s: f32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}
