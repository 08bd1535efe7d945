import { describe, expect, it } from 'vitest';
import { HELPER_EXPORTS, KERNELS } from '../../src/kernels/registry.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { kernelModule } from '../../src/runtime/wasm.js';
import { expectClose } from '../helpers/compare.js';

const PROBLEMS_PER_KERNEL = 25;

describe('kernel registry', () => {
  it('registers every kernel the module exports', () => {
    const exported = WebAssembly.Module.exports(kernelModule())
      .filter((e) => e.kind === 'function')
      .map((e) => e.name)
      .sort();
    const covered = [...new Set([...KERNELS.map((k) => k.kernel), ...HELPER_EXPORTS])].sort();
    expect(covered).toEqual(exported);
  });

  const rt = Runtime.create();
  for (const entry of KERNELS) {
    it(`${entry.kernel} matches its reference on ${PROBLEMS_PER_KERNEL} random problems`, () => {
      const rng = new Rng(0x5eed ^ entry.kernel.length);
      for (let i = 0; i < PROBLEMS_PER_KERNEL; i++) {
        const problem = entry.random(rng);
        rt.scope(() => {
          const { call, output } = problem.prepare(rt);
          call();
          expectClose(output(), problem.reference(), problem.tolerance ?? 1e-4, problem.label);
        });
      }
    });
  }
});
