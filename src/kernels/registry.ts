/**
 * The kernel registry: every kernel the module exports, with the problems
 * that exercise it. Tests walk it (random problems against the plain
 * TypeScript references in src/kernels/reference/), and so do the benches (fixed,
 * model-shaped problems), so a kernel is tested and benched by being
 * registered here.
 */
import type { KernelEntry, KernelName } from './problem.js';
import { activationKernels } from './problems/activation.js';
import { attentionKernels } from './problems/attention.js';
import { convKernels } from './problems/conv.js';
import { gemmKernels } from './problems/gemm.js';
import { normKernels } from './problems/norm.js';
import { poolKernels } from './problems/pool.js';
import { quantKernels } from './problems/quant.js';

/** Exports that are helpers, not computations: covered through the kernels that use them. */
export const HELPER_EXPORTS: readonly KernelName[] = [
  'f32_gemm_packed_size',
  'f32_gemm_pack_b',
  'f32_attention_scratch_size',
  'f32_peak_madd',
];

/**
 * Every kernel with its problems: the tests and the bench walk this list, so
 * a kernel registered here is tested and benched.
 */
export const KERNELS: readonly KernelEntry[] = [
  ...gemmKernels,
  ...convKernels,
  ...attentionKernels,
  ...poolKernels,
  ...normKernels,
  ...activationKernels,
  ...quantKernels,
];

export type { KernelEntry, KernelFamily, KernelName, Problem } from './problem.js';
