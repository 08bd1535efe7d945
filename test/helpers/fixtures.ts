import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafeTensorsFile } from '../../src/io/safetensors.js';

/** One case written by tools/fixtures.py: params, and tensors by short name. */
export interface FixtureCase {
  name: string;
  op: string;
  params: Record<string, unknown>;
  /** A float tensor of this case as f32 values, with its shape. */
  f32(key: string): { data: Float32Array; shape: number[] };
  /** An integer tensor of this case (I32/I64 stored) as numbers. */
  int(key: string): { data: Int32Array; shape: number[] };
}

/** The cases of test/fixtures/<family>.safetensors (PyTorch's outputs on seeded inputs). */
export function loadFixtures(family: string): FixtureCase[] {
  const file: SafeTensorsFile = readSafetensors(fileURLToPath(new URL(`../fixtures/${family}.safetensors`, import.meta.url)));
  const cases = JSON.parse(file.metadata.cases ?? '[]') as Array<{ name: string; op: string; params: Record<string, unknown> }>;
  return cases.map((c) => ({
    ...c,
    f32(key) {
      const t = file.get(`${c.name}.${key}`);
      if (!(t.data instanceof Float32Array)) throw new Error(`${c.name}.${key} is ${t.dtype}, not a float tensor`);
      return { data: t.data, shape: t.shape };
    },
    int(key) {
      const t = file.get(`${c.name}.${key}`);
      const data = t.data instanceof BigInt64Array ? Int32Array.from(t.data, (v) => Number(v)) : t.data;
      if (!(data instanceof Int32Array)) throw new Error(`${c.name}.${key} is ${t.dtype}, not an integer tensor`);
      return { data, shape: t.shape };
    },
  }));
}
