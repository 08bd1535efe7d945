import { describe, expect, it } from 'vitest';
import { SafeTensorsFile, readSafetensors } from '../../src/io/safetensors.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { loadMobileNetV2, mobileNetV2Forward, parseMobileNetV2Config } from '../../src/models/mobilenet.js';
import { Rng } from '../../src/runtime/rng.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';

interface Recipe {
  torchvision: string;
  input_seed: number;
  generated: Array<{ name: string; seed: number; shape: number[]; lo: number; hi: number }>;
}

/**
 * A torchvision state dict rebuilt from tools/fixtures_vision.py's fixture: the batch norms as stored,
 * every conv and Linear weight drawn again from the same seeded generator (Rng.uniform).
 */
function torchvisionFixture(name: string) {
  const fixture = readSafetensors(new URL(`../fixtures/vision/${name}.safetensors`, import.meta.url).pathname);
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

describe('torchvision models on random weights (tools/fixtures_vision.py)', () => {
  it('mobilenet_v2: torchvision’s logits', () => {
    const f = torchvisionFixture('mobilenet_v2');
    const rt = Runtime.create();
    const w = loadMobileNetV2(rt, f.weights, parseMobileNetV2Config('config', { width_mult: 1, num_classes: 1000 }));
    const logits = rt.scope(() => mobileNetV2Forward(rt, w, rt.tensor([1, 224, 224, 3], f.input)).toArray());
    const worst = expectClose(logits, f.logits, 1e-3, 'mobilenet_v2 logits');
    console.log(`mobilenet_v2 worst logit error ${worst.toExponential(2)} (torchvision ${f.recipe.torchvision})`);
  });

  it('densenet121: torchvision’s logits', () => {
    const f = torchvisionFixture('densenet121');
    const rt = Runtime.create();
    const config = parseDenseNetConfig('config', { growth_rate: 32, block_config: [6, 12, 24, 16], num_init_features: 64, bn_size: 4, num_classes: 1000 });
    const w = loadDenseNet(rt, f.weights, config);
    const logits = rt.scope(() => denseNetForward(rt, w, rt.tensor([1, 224, 224, 3], f.input)).toArray());
    const worst = expectClose(logits, f.logits, 1e-3, 'densenet121 logits');
    console.log(`densenet121 worst logit error ${worst.toExponential(2)}`);
    expect(f.weights.tensors.size).toBeGreaterThan(600);
  });
});
