import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibration } from '../../src/metrics/calibration.js';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { denseNetForward, loadDenseNet, parseDenseNetConfig } from '../../src/models/densenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { Image } from '../../src/io/image.js';
import { fitInk } from '../../src/models/image-input.js';
import { Classifier } from '../../src/tasks/vision.js';
import { digitSets } from '../../tools/digit-sets.js';
import { expectClose } from '../helpers/compare.js';

interface DigitsInput {
  size: [number, number];
  channels: number;
  mean: [number];
  std: [number];
  fit_ink: boolean;
}

/** A test-split digit (the data set's 0–16, ink high) as a user's picture: 8×8 grey, dark ink on white. */
const picture = (v: Uint8Array): Image => ({ width: 8, height: 8, channels: 1, data: Uint8Array.from(v, (x) => Math.round(255 - (x * 255) / 16)) });

// The shipped model on the whole test split of scikit-learn's digits (tools/train_digits_densenet.py),
// each digit as a picture through the preprocessing config.json asks for (fit_ink), and on the pictures
// of tools/digit-sets.ts: digits with margins, shifted, inverted, in colour, and typed in unseen fonts.
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
  // fit_ink of each picture (0–255), then x = (ink/255 − mean) / std
  const ink = new Float32Array(n * 64);
  for (let i = 0; i < n; i++) ink.set(fitInk(picture(pixels.subarray(i * 64, i * 64 + 64)), 8, 8), i * 64);
  const logits = classify(Float32Array.from(ink, (v) => (v / 255 - mean) / std)); // [n, 10]

  it('is the small-stem DenseNet the config describes, reading fitted ink', () => {
    expect(config).toEqual({ growthRate: 12, blockConfig: [4, 4], initFeatures: 24, bnSize: 4, classes: 10, stem: 'small' });
    expect(input).toMatchObject({ size: [8, 8], channels: 1, fit_ink: true });
    expect([input.mean, input.std].map((v) => v.length)).toEqual([1, 1]);
    expect(model.config.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('finds the ink as the trainer did (tools/digits_data.py ink_fit)', () => {
    const worst = expectClose(ink.map((v) => v / 255), split.get('ink').data as Float32Array, 1e-6, 'fitted ink');
    console.log(`digits-densenet: worst fitted-ink difference ${worst.toExponential(2)} over ${n} pictures`);
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

  it('reads the sample PNGs through the public API, in process', async () => {
    const classifier = await Classifier.open();
    const images = Array.from({ length: 10 }, (_, d) => readFileSync(new URL(`../../samples/images/digits/${d}.png`, import.meta.url)));
    const { results } = await classifier.classify(images, { top: 1 });
    expect(results.map((r) => r![0]!.label)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    await classifier.close();
  });

  it('reads pictures as users make them: margins, shifts, white on black, colour, typed in unseen fonts', async () => {
    const classifier = await Classifier.open();
    const accuracy: Record<string, number> = {};
    for (const set of digitSets()) {
      const { results } = await classifier.classify(set.images, { top: 1 });
      accuracy[set.name] = results.filter((r, i) => Number(r![0]!.label) === set.labels[i]).length / set.images.length;
    }
    await classifier.close();
    console.log(`digits-densenet: ${Object.entries(accuracy).map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`).join(', ')}`);
    // tools/digits-quality.ts prints the same; issue 25 asks ≥ 98 % held out and ≥ 95 % on every other set
    expect(accuracy).toEqual({ heldout: 354 / 360, margin: 354 / 360, shifted: 354 / 360, inverted: 354 / 360, colour: 354 / 360, typed: 246 / 250 });
  });

  it('gives PyTorch’s logits on every test image', () => {
    const worst = expectClose(logits, split.get('torch_logits').data as Float32Array, 1e-4, 'digits logits');
    console.log(`digits-densenet: worst logit error ${worst.toExponential(2)} over ${n} images`);
  });
});
