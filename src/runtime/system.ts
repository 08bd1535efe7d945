import os from 'node:os';
import { type KernelBuild, kernelBuild } from './wasm.js';

/** What a figure was measured on: every bench and CLI run can print it. */
export interface SystemInfo {
  node: string;
  v8: string;
  /** WebAssembly SIMD128 validated by this runtime (the kernels need it). */
  simd: boolean;
  /** The kernel build that runs: 'relaxed' (fused multiply–add) or 'simd128'. */
  kernels: KernelBuild;
  cpu: string;
  cores: number;
  memoryGiB: number;
  workers: number;
}

// The smallest module using a v128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** What this process runs on, with `workers` as the run uses them. */
export function systemInfo(workers = 1): SystemInfo {
  return {
    node: process.version,
    v8: process.versions.v8,
    simd: WebAssembly.validate(SIMD_PROBE),
    kernels: kernelBuild(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    workers,
  };
}

/** The one `system:` line benches and the CLI print: Node, V8, SIMD and the kernel build, CPU, cores, memory, workers. */
export function formatSystemLine(s: SystemInfo): string {
  return `system: node ${s.node} (v8 ${s.v8}) | wasm simd ${s.simd ? 'yes' : 'NO'}, kernels ${s.kernels} | ${s.cpu} | ${s.cores} cores | ${s.memoryGiB} GiB | workers ${s.workers}`;
}
