import { describe, expect, it } from 'vitest';
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
});
