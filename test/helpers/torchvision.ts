import { fileURLToPath } from 'node:url';
import { SafeTensorsFile, readSafetensors } from '../../src/io/safetensors.js';
import { Rng } from '../../src/runtime/rng.js';

interface Recipe {
  torchvision: string;
  input_seed: number;
  generated: Array<{ name: string; seed: number; shape: number[]; lo: number; hi: number }>;
}

/**
 * A torchvision state dict rebuilt from tools/fixtures_vision.py's fixture: the batch norms as stored,
 * every conv and Linear weight drawn again from the same seeded generator (Rng.uniform).
 */
export function torchvisionFixture(name: string) {
  const fixture = readSafetensors(fileURLToPath(new URL(`../fixtures/vision/${name}.safetensors`, import.meta.url)));
  const recipe = JSON.parse(fixture.metadata.recipe!) as Recipe;
  const tensors = new Map(fixture.tensors);
  for (const g of recipe.generated) {
    const n = g.shape.reduce((a, b) => a * b, 1);
    tensors.set(g.name, { name: g.name, dtype: 'F32', shape: g.shape, data: new Rng(g.seed).uniform(n, g.lo, g.hi) });
  }
  // the input, drawn in NCHW order as torch saw it, laid out channels-last
  const nchw = new Rng(recipe.input_seed).uniform(3 * 224 * 224, -1, 1);
  const nhwc = new Float32Array(nchw.length);
  for (let c = 0; c < 3; c++) for (let p = 0; p < 224 * 224; p++) nhwc[p * 3 + c] = nchw[c * 224 * 224 + p]!;
  return { weights: new SafeTensorsFile(`${name} (fixture)`, tensors, {}), input: nhwc, logits: fixture.get('logits').data as Float32Array, recipe };
}
