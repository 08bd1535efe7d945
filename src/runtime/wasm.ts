import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HibikiError } from '../errors.js';
import type { KernelExports } from './exports.js';

/** build/hibiki.wasm, next to src/ and dist/ alike. */
export const WASM_URL = new URL('../../build/hibiki.wasm', import.meta.url);

let compiled: WebAssembly.Module | undefined;

/**
 * The kernel module, compiled once per thread. A compiled module can be
 * posted to workers, which then instantiate it over a shared memory.
 */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(WASM_URL);
    } catch (cause) {
      throw new HibikiError('E_IO', `cannot read the kernel module ${fileURLToPath(WASM_URL)}: run "npm run build:wasm"`, {
        cause,
      });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** Instantiates the kernels over `memory` (the module imports its memory). */
export function instantiateKernels(memory: WebAssembly.Memory, module = kernelModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
