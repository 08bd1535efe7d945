import { badInput } from '../../errors.js';
import type { Runtime } from '../runtime.js';
import { Tensor, expectShape } from '../tensor.js';
import { type Activation, activationCode } from './activation.js';
import type { PackedMatrix } from './gemm.js';

/**
 * A Linear weight [N, K] quantised to int8 per output channel
 * (i8_quantize_rows): N rows of Kp bytes (K rounded up to 16, zeros past
 * K) at `ptr`, and N float scales at `scales`. A quarter of the bytes of
 * the float32 weight.
 */
export interface Int8Matrix {
  readonly ptr: number;
  readonly scales: number;
  /** Each row's sum of its int8 values (i32 [N]): the relaxed build's correction for its offset inputs. */
  readonly sums: number;
  readonly K: number;
  readonly N: number;
  readonly Kp: number;
}

/** A Linear weight in either form: packed float32 for the GEMM, or int8 rows. */
export type LinearWeight = PackedMatrix | Int8Matrix;

export const isInt8 = (w: LinearWeight): w is Int8Matrix => 'scales' in w;

/** K rounded up to the 16 bytes the int8 kernel reads at a time. */
export const int8RowBytes = (K: number) => Math.ceil(K / 16) * 16;

/**
 * Quantises a weight [N, K] given as plain values (a checkpoint's) into
 * `rt`'s memory, staging a block of rows at a time above it as
 * packMatrixValues does, so no float copy stays behind.
 */
export function quantizeMatrixValues(rt: Runtime, values: Float32Array, [N, K]: readonly [number, number]): Int8Matrix {
  if (values.length !== N * K) throw badInput(`quantizeMatrixValues: ${values.length} values for [${N}, ${K}]`);
  const Kp = int8RowBytes(K);
  const ptr = rt.heap.alloc(N * Kp);
  const scales = rt.heap.alloc(N * 4);
  const sums = rt.heap.alloc(N * 4);
  const block = Math.max(1, Math.floor(STAGE_FLOATS / Math.max(1, K)));
  for (let n0 = 0; n0 < N; n0 += block) {
    const n = Math.min(block, N - n0);
    rt.scope(() => rt.kernels.i8_quantize_rows(n, K, rt.tensor([n, K], values.subarray(n0 * K, (n0 + n) * K)).ptr, K, ptr + n0 * Kp, Kp,
      scales + n0 * 4, sums + n0 * 4));
  }
  return { ptr, scales, sums, K, N, Kp };
}

/** Bytes of scratch i8_linear takes for M rows: each row quantised (Kp bytes), then the M scales. */
export const i8LinearScratch = (M: number, Kp: number) => M * Kp + M * 4;

/** Floats of the weight staged at once (8 MiB). */
const STAGE_FLOATS = 1 << 21;

/** What int8Linear adds to x·Wᵀ, as gemm's options. */
export interface Int8LinearOptions {
  bias?: Tensor;
  activation?: Activation;
  accumulate?: boolean;
  out?: Tensor;
  /** The first rows of x only (default all). */
  rows?: number;
}

/**
 * act(x·Wᵀ + bias) (+ out with accumulate) for x [M, K] and an int8 weight:
 * each row of x is quantised per row (dynamic quantisation), the products
 * summed in integers, scaled back by both scales.
 */
export function int8Linear(rt: Runtime, x: Tensor, w: Int8Matrix, options: Int8LinearOptions = {}): Tensor {
  const M = options.rows ?? x.size / w.K;
  if (x.size % w.K !== 0) expectShape('int8Linear', 'x', x, [-1, w.K]);
  if (options.accumulate && !options.out) throw badInput('int8Linear: accumulate needs an out tensor');
  const out = options.out ?? rt.tensor([M, w.N]);
  if (out.size < M * w.N) expectShape('int8Linear', 'out', out, [M, w.N]);
  rt.scope(() => {
    const scratch = rt.heap.alloc(i8LinearScratch(M, w.Kp));
    rt.kernels.i8_linear(M, w.N, w.K, x.ptr, w.K, scratch, w.ptr, w.Kp, w.scales, w.sums, options.bias?.ptr ?? 0, out.ptr, w.N,
      activationCode(options.activation), options.accumulate ? 1 : 0);
  });
  return out;
}

/** The int8 weight's values, scales and row sums as JavaScript arrays (tests, references). */
export function readInt8Matrix(rt: Runtime, w: Int8Matrix): { q: Int8Array; scales: Float32Array; sums: Int32Array } {
  return {
    q: new Int8Array(rt.heap.memory.buffer, w.ptr, w.N * w.Kp).slice(),
    scales: new Tensor(rt.heap, w.scales, [w.N]).toArray(),
    sums: new Int32Array(rt.heap.memory.buffer, w.sums, w.N).slice(),
  };
}
