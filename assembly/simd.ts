// What the two kernel builds do differently. `npm run build:wasm` compiles
// the kernels twice: build/hibiki.wasm with SIMD128 only, and
// build/hibiki-relaxed.wasm with relaxed SIMD as well (asc --enable
// relaxed-simd), where ASC_FEATURE_RELAXED_SIMD is true.

/**
 * a·b + c in four lanes. The relaxed build fuses it into one multiply–add
 * instruction (f32x4.relaxed_madd: an FMA on x86 with FMA3 and on ARM, one
 * rounding); the SIMD128 build multiplies, rounds, adds and rounds again.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
