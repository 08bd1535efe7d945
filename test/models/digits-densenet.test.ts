import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { calibration } from '../../src/metrics/calibration.js';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';

interface DigitsInput {
  size: [number, number];
  channels: number;
  /** Of the data set's values 0–16 onto the 0–1 scale of mean and std. */
  scale: number;
  mean: [number];
  std: [number];
  invert: boolean;
}

// The shipped model on the whole test split of scikit-learn's digits (tools/train_digits_densenet.py).
describe('models/digits-densenet', () => {
  const model = readModelDir(fileURLToPath(new URL('../../models/digits-densenet', import.meta.url)));
  const split = readSafetensors(fileURLToPath(new URL('../fixtures/digits-densenet/test-split.safetensors', import.meta.url)));
  const input = model.config.input as DigitsInput;
  const pixels = split.get('pixels').data as Uint8Array; // [n, 8, 8], the data set's 0–16, ink high
  const labels = split.get('labels').data as Uint8Array;
  const n = labels.length;
  const rt = Runtime.create();
  const config = parseDenseNetConfig('config.json', model.config);
  const weights = loadDenseNet(rt, model.weights, config);
  const [mean, std] = [input.mean[0], input.std[0]];
  const classify = (x: Float32Array) => rt.scope(() => denseNetForward(rt, weights, rt.tensor([x.length / 64, 8, 8, 1], x)).toArray());
  const argmax = (logits: Float32Array, i: number) => {
    const row = logits.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  };
  // x = (v · scale − mean) / std, as config.json's input says
  const logits = classify(Float32Array.from(pixels, (v) => (v * input.scale - mean) / std)); // [n, 10]

  it('is the small-stem DenseNet the config describes', () => {
    expect(config).toEqual({ growthRate: 12, blockConfig: [4, 4], initFeatures: 24, bnSize: 4, classes: 10, stem: 'small' });
    expect(input).toMatchObject({ size: [8, 8], channels: 1, scale: 1 / 16, invert: true });
    expect([input.mean, input.std].map((v) => v.length)).toEqual([1, 1]);
    expect(model.config.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('classifies ≥ 97 % of the test split, as PyTorch measured', () => {
    let correct = 0;
    for (let i = 0; i < n; i++) if (argmax(logits, i) === labels[i]) correct++;
    const training = model.config.training as { test_accuracy: number; test_correct: number };
    console.log(`digits-densenet: ${correct}/${n} = ${(correct / n * 100).toFixed(2)} % of the test split (PyTorch ${training.test_correct})`);
    expect(correct / n).toBeGreaterThanOrEqual(0.97);
    expect(correct).toBe(training.test_correct);
  });

  it('is calibrated on the test split: expected calibration error (15 bins) under 2 %', () => {
    const confidences: number[] = [];
    const correct: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      const max = Math.max(...row);
      const exp = row.map((v) => Math.exp(v - max));
      confidences.push(1 / exp.reduce((a, b) => a + b, 0)); // the best class's softmax: exp(0) / Σ
      correct.push(argmax(logits, i) === labels[i]);
    }
    const { ece, mce } = calibration(confidences, correct);
    console.log(`digits-densenet: ECE ${(ece * 100).toFixed(2)} %, MCE ${(mce * 100).toFixed(1)} % on the ${n} test images`);
    expect(ece).toBeLessThan(0.02);
    expect(ece).toBeGreaterThan(0); // 4 of 360 wrong: not every confidence can match
  });

  it('reads the sample PNGs (dark ink on white) once inverted, as config.json says', () => {
    // samples/images/digits/D.png: 8×8 grey, pixel = 255 − v·255/16; inverted, pixel/255 is back on v/16's scale
    const x = new Float32Array(10 * 64);
    for (let d = 0; d < 10; d++) {
      const png = PNG.sync.read(readFileSync(new URL(`../../samples/images/digits/${d}.png`, import.meta.url)));
      expect([png.width, png.height]).toEqual(input.size);
      for (let p = 0; p < 64; p++) x[d * 64 + p] = ((255 - png.data[p * 4]!) / 255 - mean) / std;
    }
    const got = classify(x);
    expect(Array.from({ length: 10 }, (_, d) => argmax(got, d))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives PyTorch’s logits on every test image', () => {
    const worst = expectClose(logits, split.get('torch_logits').data as Float32Array, 1e-4, 'digits logits');
    console.log(`digits-densenet: worst logit error ${worst.toExponential(2)} over ${n} images`);
  });
});
