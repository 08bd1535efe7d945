import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { HibikiError } from '../errors.js';
import type { KernelExports } from './exports.js';

/**
 * The two builds of the kernels (`npm run build:wasm` makes both from
 * assembly/): 'simd128' uses WebAssembly SIMD only; 'relaxed' adds relaxed
 * SIMD, whose multiply–add is one fused instruction (an FMA, one rounding
 * instead of two: results differ in the last bits, and GEMM-heavy work runs
 * faster). Within one build, results do not depend on batching or threads.
 */
export type KernelBuild = 'relaxed' | 'simd128';

/** build/hibiki.wasm (SIMD128), next to src/ and dist/ alike. */
export const WASM_URL = new URL('../../build/hibiki.wasm', import.meta.url);
/** build/hibiki-relaxed.wasm (relaxed SIMD). */
export const RELAXED_WASM_URL = new URL('../../build/hibiki-relaxed.wasm', import.meta.url);

const URLS: Record<KernelBuild, URL> = { simd128: WASM_URL, relaxed: RELAXED_WASM_URL };

let asked: KernelBuild | 'auto' = 'auto';
let compiled: { build: KernelBuild; module: WebAssembly.Module } | undefined;

function read(build: KernelBuild): Buffer {
  try {
    return readFileSync(URLS[build]);
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read the kernel module ${fileURLToPath(URLS[build])}: run "npm run build:wasm"`, { cause });
  }
}

/**
 * Whether this engine runs relaxed SIMD. Node 22 and later have it on; Node 20
 * and 21 have it behind V8's --experimental-wasm-relaxed-simd, which is
 * turned on here (it only adds instructions a module may use, so it changes
 * nothing for other modules) before asking.
 */
export function relaxedSimdSupported(): boolean {
  if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(read('relaxed'));
}

/**
 * Chooses the kernel build this thread compiles: 'auto' (the default) takes
 * 'relaxed' where the engine runs it and 'simd128' otherwise. The environment
 * variable HIBIKI_SIMD (relaxed, simd128 or auto) overrides the default; a
 * call here overrides both. Call it before the first model or runtime is
 * made: once a build is compiled, asking for the other is an E_BAD_INPUT.
 * Worker pools run the module their opener compiled.
 */
export function selectKernelBuild(build: KernelBuild | 'auto'): void {
  if (build !== 'auto' && build !== 'relaxed' && build !== 'simd128') {
    throw new HibikiError('E_BAD_INPUT', `kernel build must be relaxed, simd128 or auto, got ${JSON.stringify(build)}`);
  }
  if (compiled && build !== 'auto' && build !== compiled.build) {
    throw new HibikiError('E_BAD_INPUT', `the ${compiled.build} kernels are already compiled in this thread: choose the build before the first model or runtime`);
  }
  asked = build;
}

function decide(): KernelBuild {
  let build = asked;
  const env = process.env.HIBIKI_SIMD;
  if (build === 'auto' && env !== undefined && env !== '') {
    if (env !== 'auto' && env !== 'relaxed' && env !== 'simd128') {
      throw new HibikiError('E_BAD_INPUT', `HIBIKI_SIMD must be relaxed, simd128 or auto, got ${JSON.stringify(env)}`);
    }
    build = env;
  }
  if (build === 'simd128') return build;
  const relaxed = relaxedSimdSupported();
  if (build === 'relaxed' && !relaxed) {
    throw new HibikiError('E_BAD_INPUT', `relaxed SIMD was asked for (${asked === 'relaxed' ? 'selectKernelBuild' : 'HIBIKI_SIMD'}), but Node ${process.version} cannot run it: use simd128`);
  }
  return relaxed ? 'relaxed' : 'simd128';
}

/** The build this thread runs (deciding it now if nothing was compiled yet). */
export function kernelBuild(): KernelBuild {
  return compiled?.build ?? decide();
}

/**
 * The kernel module, compiled once per thread. A compiled module can be
 * posted to workers, which then instantiate it over a shared memory.
 */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const build = decide();
    compiled = { build, module: new WebAssembly.Module(read(build)) };
  }
  return compiled.module;
}

/** Instantiates the kernels over `memory` (the module imports its memory). */
export function instantiateKernels(memory: WebAssembly.Memory, module = kernelModule()): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
