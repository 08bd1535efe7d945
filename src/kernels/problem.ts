// What the kernel registry (../kernels.ts) is made of: a kernel and the
// problems that exercise it, for the tests and the benches alike.
import type { KernelExports } from '../runtime/exports.js';
import type { Rng } from '../runtime/rng.js';
import type { Runtime } from '../runtime/runtime.js';

export type KernelName = keyof KernelExports;
/** The operation a kernel belongs to, as the bench groups them. */
export type KernelFamily = 'gemm' | 'conv' | 'pool' | 'norm' | 'activation' | 'attention' | 'quant';

/** One problem for a kernel: its inputs, made in a runtime, and its definition. */
export interface Problem {
  label: string;
  /** Floating-point operations of one call (multiply and add count as two). */
  flops: number;
  /**
   * Copies inputs into `rt`, packs weights, allocates the output; returns the
   * call to time (nothing but the kernel) and a reader of its output.
   */
  prepare(rt: Runtime): { call(): void; output(): Float32Array | Float64Array };
  /** The same computation by the plain TypeScript reference. */
  reference(): Float32Array | Float64Array;
  /** The registry test's tolerance (test/helpers/compare.ts) where the default 1e-4 is too loose for the kernel. */
  tolerance?: number;
  /** Speed target for the bench, as a fraction of the machine's WASM SIMD peak. */
  target?: number;
}

/** The speed targets, as fractions of the WASM SIMD peak measured in the same run. */
export function withTarget(problem: Problem, target: number): Problem {
  return { ...problem, target };
}

/**
 * A kernel in the registry: its problems (random ones for the tests, model-
 * shaped ones for the bench) and its reference.
 */
export interface KernelEntry {
  kernel: KernelName;
  family: KernelFamily;
  /** A random problem, odd sizes included; deterministic in `rng`. */
  random(rng: Rng): Problem;
  /** The model-shaped problems `npm run bench` and `hibiki bench` time. */
  bench(rng: Rng): Problem[];
}
