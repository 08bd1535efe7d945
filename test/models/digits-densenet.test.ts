import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';

interface DigitsInput {
  size: [number, number];
  channels: number;
  scale: number;
  mean: number;
  std: number;
  invert: boolean;
}

// The shipped model on the whole test split of scikit-learn's digits (tools/train_digits_densenet.py).
describe('models/digits-densenet', () => {
  const model = readModelDir(new URL('../../models/digits-densenet', import.meta.url).pathname);
  const split = readSafetensors(new URL('../fixtures/digits-densenet/test-split.safetensors', import.meta.url).pathname);
  const input = model.config.input as DigitsInput;
  const pixels = split.get('pixels').data as Uint8Array; // [n, 8, 8], the data set's 0–16, ink high
  const labels = split.get('labels').data as Uint8Array;
  const n = labels.length;
  const rt = Runtime.create();
  const config = parseDenseNetConfig('config.json', model.config);
  const weights = loadDenseNet(rt, model.weights, config);
  // x = (v · scale − mean) / std, as config.json's input says
  const x = Float32Array.from(pixels, (v) => (v * input.scale - input.mean) / input.std);
  const logits = rt.scope(() => denseNetForward(rt, weights, rt.tensor([n, 8, 8, 1], x)).toArray()); // [n, 10]

  it('is the small-stem DenseNet the config describes', () => {
    expect(config).toEqual({ growthRate: 12, blockConfig: [4, 4], initFeatures: 24, bnSize: 4, classes: 10, stem: 'small' });
    expect(input).toMatchObject({ size: [8, 8], channels: 1, scale: 1 / 16, invert: true });
    expect(model.config.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('classifies ≥ 97 % of the test split, as PyTorch measured', () => {
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = logits.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    const training = model.config.training as { test_accuracy: number; test_correct: number };
    console.log(`digits-densenet: ${correct}/${n} = ${(correct / n * 100).toFixed(2)} % of the test split (PyTorch ${training.test_correct})`);
    expect(correct / n).toBeGreaterThanOrEqual(0.97);
    expect(correct).toBe(training.test_correct);
  });

  it('gives PyTorch’s logits on every test image', () => {
    const worst = expectClose(logits, split.get('torch_logits').data as Float32Array, 1e-4, 'digits logits');
    console.log(`digits-densenet: worst logit error ${worst.toExponential(2)} over ${n} images`);
  });
});
