// The kernel library's exports: every kernel is a plain function over raw
// pointers into linear memory (f32 data, channels-last) and i32 sizes. None
// allocates or keeps state, so one module instance can run over a shared
// memory from any worker. src/runtime/kernels.ts binds and registers them.

export { f32_gemm_packed_size, f32_gemm_pack_b, f32_gemm_packed } from './gemm';
export { f32_activation, f32_gated_tanh, f32_softmax_rows, f32_add, f32_mul, f32_copy_rows } from './activation';
export { f32_peak_madd } from './peak';
