import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/io/safetensors.js';
import { parseImageInput, prepareImages } from '../../src/models/image-input.js';
import { Engine } from '../../src/pool/engine.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { loadMobileNetV2, mobileNetV2Forward, parseMobileNetV2Config } from '../../src/models/mobilenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { torchvisionFixture } from '../helpers/torchvision.js';

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

  it('a model directory as tools/export_torchvision.py writes it classifies an image through the engine', async () => {
    const f = torchvisionFixture('mobilenet_v2');
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-mobilenet-'));
    const config = { architecture: 'mobilenet_v2', width_mult: 1, num_classes: 1000, labels: Array.from({ length: 1000 }, (_, i) => `class ${i}`),
      input: { size: [224, 224], channels: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeSafetensors(join(dir, 'model.safetensors'), [...f.weights.tensors.values()].filter((t) => t.name !== 'logits').map((t) => ({ name: t.name, shape: t.shape, data: t.data })));
    // a 300×200 picture: resized by the engine, then the network
    const image = { width: 300, height: 200, channels: 3, data: Uint8Array.from({ length: 300 * 200 * 3 }, (_, i) => (i * 37) % 256) };
    const result = await Engine.open(dir).run([image]);
    const rt = Runtime.create();
    const w = loadMobileNetV2(rt, f.weights, parseMobileNetV2Config('config', config));
    const direct = rt.scope(() => mobileNetV2Forward(rt, w, prepareImages(rt, [image], parseImageInput('config', config.input))).toArray());
    expect(Array.from(result.outputs[0]!)).toEqual(Array.from(direct));
  });
});
