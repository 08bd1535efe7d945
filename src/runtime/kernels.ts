/**
 * The kernel registry: every kernel the module exports, with the problems
 * that exercise it. Tests walk it (random problems against the plain
 * TypeScript references in src/reference/), and so do the benches (fixed,
 * model-shaped problems), so a kernel is tested and benched by being
 * registered here.
 */
import type { KernelExports } from './exports.js';
import type { Rng } from './rng.js';
import type { Runtime } from './runtime.js';
import { activationKernels } from './registry/activation.js';
import { attentionKernels } from './registry/attention.js';
import { convKernels } from './registry/conv.js';
import { gemmKernels } from './registry/gemm.js';
import { normKernels } from './registry/norm.js';
import { poolKernels } from './registry/pool.js';

export type KernelName = keyof KernelExports;
export type KernelFamily = 'gemm' | 'conv' | 'pool' | 'norm' | 'activation' | 'attention';

/** One problem for a kernel: its inputs, made in a runtime, and its definition. */
export interface Problem {
  label: string;
  /** Floating-point operations of one call (multiply and add count as two). */
  flops: number;
  /**
   * Copies inputs into `rt`, packs weights, allocates the output; returns the
   * call to time (nothing but the kernel) and a reader of its output.
   */
  prepare(rt: Runtime): { call(): void; output(): Float32Array };
  /** The same computation by the plain TypeScript reference. */
  reference(): Float32Array;
  /** Speed target for the bench, as a fraction of the machine's WASM SIMD peak. */
  target?: number;
}

export interface KernelEntry {
  kernel: KernelName;
  family: KernelFamily;
  /** A random problem, odd sizes included; deterministic in `rng`. */
  random(rng: Rng): Problem;
  /** The model-shaped problems `npm run bench` and `hibiki bench` time. */
  bench(rng: Rng): Problem[];
}

/** Exports that are helpers, not computations: covered through the kernels that use them. */
export const HELPER_EXPORTS: readonly KernelName[] = [
  'f32_gemm_packed_size',
  'f32_gemm_pack_b',
  'f32_attention_scratch_size',
  'f32_peak_madd',
];

export const KERNELS: readonly KernelEntry[] = [...gemmKernels, ...activationKernels, ...attentionKernels, ...convKernels, ...poolKernels, ...normKernels];
