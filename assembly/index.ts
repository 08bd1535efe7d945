// The kernel library's exports: every kernel is a plain function over raw
// pointers into linear memory (f32 data, channels-last) and i32 sizes. None
// allocates or keeps state, so one module instance can run over a shared
// memory from any worker. src/runtime/exports.ts declares them for the host
// (test/runtime/kernel-interface.test.ts checks it against these signatures and
// the built module) and src/kernels/registry.ts registers them.

export { f32_gemm_packed_size, f32_gemm_pack_b, f32_gemm_packed } from './gemm';
export { f32_activation, f32_gated_tanh, f32_softmax_rows, f32_exp_sums, f32_sample_rows, f32_add, f32_mul, f32_copy_rows } from './activation';
export { f32_peak_madd } from './peak';
export { f32_conv2d_nhwc, f32_dwconv2d_nhwc, f32_conv_transpose2d_nhwc, f32_causal_conv1d } from './conv';
export { f32_attention_scratch_size, f32_attention } from './attention';
export { f32_maxpool2d_nhwc, f32_avgpool2d_nhwc, f32_global_avgpool_nhwc, f32_maxunpool2d_nhwc, f32_upsample_nearest_nhwc, f32_upsample_bilinear_nhwc } from './pool';
export { f32_batchnorm_nhwc, f32_layernorm, f32_instancenorm_nhwc } from './norm';
export { i8_quantize_rows, i8_linear } from './quant';
