import { badInput } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { type Tensor, expectShape, formatShape } from '../tensor.js';
import { type Activation, activationCode } from './activation.js';

/** B (K×N) packed into 8-column strips for f32_gemm_packed, in the runtime's heap. */
export interface PackedMatrix {
  readonly ptr: number;
  readonly K: number;
  readonly N: number;
}

/**
 * Packs B for GEMM. `b` is [K, N], or with `transposed` Bᵀ as [N, K] — the
 * layout of PyTorch's Linear weight [out, in], packed without a transpose.
 */
export function packMatrix(rt: Runtime, b: Tensor, options: { transposed?: boolean } = {}): PackedMatrix {
  if (b.shape.length !== 2) throw badInput(`packMatrix: expected a matrix, got shape ${formatShape(b.shape)}`);
  const [r, c] = b.shape as [number, number];
  const [K, N] = options.transposed ? [c, r] : [r, c];
  const ptr = rt.scratch(rt.kernels.f32_gemm_packed_size(K, N));
  rt.kernels.f32_gemm_pack_b(K, N, b.ptr, c, options.transposed ? 1 : 0, ptr);
  return { ptr, K, N };
}

/**
 * Packs B given as plain values (a checkpoint's weight) without keeping an
 * unpacked copy in linear memory: the packed matrix is allocated first and
 * the staging copy above it is freed. Bᵀ is staged a block of whole strips
 * at a time (STAGE_FLOATS), so that the largest matrix (a 58k-token output
 * projection, 113 MiB) does not grow the memory by a second copy of itself:
 * linear memory never shrinks, and every page it has touched stays resident.
 */
export function packMatrixValues(
  rt: Runtime, values: Float32Array, shape: readonly [number, number], options: { transposed?: boolean } = {},
): PackedMatrix {
  const [r, c] = shape;
  const [K, N] = options.transposed ? [c, r] : [r, c];
  const ptr = rt.scratch(rt.kernels.f32_gemm_packed_size(K, N));
  if (!options.transposed) {
    rt.scope(() => rt.kernels.f32_gemm_pack_b(K, N, rt.tensor(shape, values).ptr, c, 0, ptr));
    return { ptr, K, N };
  }
  // Rows n0 … n0 + n − 1 of Bᵀ are strips n0/8 … of the packed matrix, K·8 floats each.
  const block = Math.max(8, Math.floor(STAGE_FLOATS / K / 8) * 8);
  for (let n0 = 0; n0 < N; n0 += block) {
    const n = Math.min(block, N - n0);
    rt.scope(() => rt.kernels.f32_gemm_pack_b(K, n, rt.tensor([n, K], values.subarray(n0 * K, (n0 + n) * K)).ptr, K, 1, ptr + n0 * K * 4));
  }
  return { ptr, K, N };
}

/** Floats of Bᵀ that packMatrixValues stages at once (8 MiB). */
const STAGE_FLOATS = 1 << 21;

/** What gemm adds to a·b: a bias, an activation, an output to write or add to. */
export interface GemmOptions {
  /** [N], added to every row. */
  bias?: Tensor;
  /** Applied last (default 'none'). */
  activation?: Activation;
  /** Where to write [M, N]; allocated when absent. */
  out?: Tensor;
  /** Add to what `out` holds: out = act(out + a·b + bias). */
  accumulate?: boolean;
}

/** act(a · b + bias) for a [M, K] and packed b (K×N): [M, N]. */
export function gemm(rt: Runtime, a: Tensor, b: PackedMatrix, options: GemmOptions = {}): Tensor {
  expectShape('gemm', 'a', a, [-1, b.K]);
  const M = a.shape[0] as number;
  if (options.bias) expectShape('gemm', 'bias', options.bias, [b.N]);
  if (options.accumulate && !options.out) throw badInput('gemm: accumulate needs an out tensor to add to');
  const out = options.out ?? rt.empty([M, b.N]);
  expectShape('gemm', 'out', out, [M, b.N]);
  rt.kernels.f32_gemm_packed(
    M, b.N, b.K, a.ptr, b.K, b.ptr, out.ptr, b.N,
    options.bias?.ptr ?? 0, activationCode(options.activation), options.accumulate ? 1 : 0,
  );
  return out;
}

/** a [M, K] · b [K, N] (b packed on the fly, for a B that is not reused). */
export function matmul(rt: Runtime, a: Tensor, b: Tensor, options: GemmOptions = {}): Tensor {
  expectShape('matmul', 'b', b, [a.shape[1] ?? -1, -1]);
  return gemm(rt, a, packMatrix(rt, b), options);
}
