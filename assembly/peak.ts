// The machine's WASM SIMD multiply-add peak, for benches to report kernels
// as a fraction of it: 12 independent f32x4 multiply-add chains, so neither
// latency nor loads limit it. Returns a lane sum so the work is not removed.
// The relaxed build fuses each multiply-add (simd.ts), so its peak is its own.

import { madd } from './simd';

/** Runs `iters` steps of 12 chains: iters · 12 · 4 · 2 flops. */
export function f32_peak_madd(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999);
  const d = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, d); a1 = madd(a1, m, d);
    a2 = madd(a2, m, d); a3 = madd(a3, m, d);
    a4 = madd(a4, m, d); a5 = madd(a5, m, d);
    a6 = madd(a6, m, d); a7 = madd(a7, m, d);
    a8 = madd(a8, m, d); a9 = madd(a9, m, d);
    a10 = madd(a10, m, d); a11 = madd(a11, m, d);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const t = f32x4.add(f32x4.add(s, f32x4.add(a8, a9)), f32x4.add(a10, a11));
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
}
