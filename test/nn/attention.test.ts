import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadMultiHeadAttention, multiHeadSelfAttention } from '../../src/nn/attention.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { errorOf } from '../helpers/errors.js';

// PyTorch's nn.MultiheadAttention on seeded weights (tools/fixtures_mha.py)
const file = readSafetensors(new URL('../fixtures/mha.safetensors', import.meta.url).pathname);
const cases = JSON.parse(file.metadata.cases!) as Array<{ name: string; heads: number; causal: boolean }>;

describe('multiHeadSelfAttention', () => {
  it('gives nn.MultiheadAttention’s outputs (batch_first; causal through the mask)', () => {
    expect(cases).toHaveLength(4);
    for (const { name, heads, causal } of cases) {
      const rt = Runtime.create();
      const layer = loadMultiHeadAttention(rt, file, name, heads);
      const x = file.get(`${name}.x`);
      const y = multiHeadSelfAttention(rt, layer, rt.tensor(x.shape, x.data as Float32Array), { causal });
      expect(y.shape, name).toEqual(x.shape);
      expectClose(y.toArray(), file.get(`${name}.y`).data as Float32Array, 1e-4);
    }
  });

  it('refuses heads that do not divide d, and an input of another width', () => {
    const rt = Runtime.create();
    expect(errorOf(() => loadMultiHeadAttention(rt, file, 'd48_h6_b2_t7', 5))).toMatch(/5 heads do not divide d = 48/);
    const layer = loadMultiHeadAttention(rt, file, 'd48_h6_b2_t7', 6);
    expect(errorOf(() => multiHeadSelfAttention(rt, layer, rt.tensor([3, 47])))).toMatch(/x has shape \[3, 47\], expected \[B, T, 48\]/);
  });
});
