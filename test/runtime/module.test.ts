import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELAXED_WASM_URL, WASM_URL, kernelModule } from '../../src/runtime/wasm.js';

/** The ids of the sections in a wasm binary (spec §5.5.2), in order. */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      size |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

const GLOBAL = 6;
const START = 8;
const DATA = 11;
const DATA_COUNT = 12;

describe('the kernel module', () => {
  // A module instantiated over a shared memory by several workers must not
  // rewrite memory (data segments), keep per-instance state (globals) or run
  // code at instantiation (start) — see TOOLCHAIN.md. Both builds.
  it.each([['simd128', WASM_URL], ['relaxed', RELAXED_WASM_URL]])('has no data segments, globals or start function (%s)', (_, url) => {
    const ids = sectionIds(readFileSync(url));
    expect(ids).toContain(10); // it does have code
    for (const forbidden of [GLOBAL, START, DATA, DATA_COUNT]) expect(ids).not.toContain(forbidden);
  });

  it('imports nothing but its memory', () => {
    expect(WebAssembly.Module.imports(kernelModule())).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
  });

  it('runs over a shared memory from two instances at once', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const a = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as Record<string, Function>;
    const b = new WebAssembly.Instance(kernelModule(), { env: { memory } }).exports as Record<string, Function>;
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5], 16);
    a.f32_add!(5, 64, 64, 128); // instance a doubles [16..21) into [32..37)
    b.f32_mul!(5, 128, 64, 192); // instance b sees a's result in the same memory
    expect(Array.from(new Float32Array(memory.buffer, 192, 5))).toEqual([2, 8, 18, 32, 50]);
  });
});
