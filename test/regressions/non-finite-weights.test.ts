/**
 * A checkpoint holding NaN or ±∞ used to load and run: classify printed
 * "NaN%", detect reported 100 faces at score 1.000, generate wrote full-scale
 * DC. Loaders now refuse it, naming the file, the tensor and the index.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { parseTfjsManifest } from '../../src/io/tfjs-manifest.js';
import { Classifier, Segmenter } from '../../src/tasks/vision.js';
import { Generator } from '../../src/tasks/generator.js';
import { expectError, expectRejection } from '../helpers/errors.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

/** A copy of a shipped model whose tensor `name` holds `value` at `index`. */
function poisoned(model: string, name: string, index: number, value: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'hibiki-nan-')), model);
  cpSync(join(MODELS, model), dir, { recursive: true });
  const file = readSafetensors(join(dir, 'model.safetensors'));
  const tensors = [...file.tensors.values()].map((t) => (t.name === name ? { ...t, data: Float32Array.from(t.data as Float32Array, (v, i) => (i === index ? value : v)) } : t));
  writeSafetensors(join(dir, 'model.safetensors'), tensors, file.metadata);
  return dir;
}

describe('non-finite weights are refused at load, naming the tensor', () => {
  it.each([
    ['shapes-unet', 'classifier.weight', 3, Number.NaN, Segmenter],
    ['digits-densenet', 'classifier.bias', 0, Number.POSITIVE_INFINITY, Classifier],
  ] as const)('%s with %s[%i] = %d', async (model, name, index, value, Task) => {
    const dir = poisoned(model, name, index, value);
    await expectRejection(() => Task.open(dir), 'E_MODEL_FORMAT',
      new RegExp(`model\\.safetensors: ${name.replace('.', '\\.')} holds ${value} at index ${index}: weights must be finite numbers$`));
  });

  it('in a WaveNet (the generator opens in this thread)', async () => {
    const dir = poisoned('wavenet-piano', 'out2.bias', 5, Number.NEGATIVE_INFINITY);
    await expectRejection(() => Generator.open(dir), 'E_MODEL_FORMAT', /out2\.bias holds -Infinity at index 5/);
  });

  it('in a TensorFlow.js shard (float32 weights)', () => {
    const values = new Float32Array([0.5, 1, Number.NaN, 2]);
    const manifest = [{ paths: ['shard1'], weights: [{ name: 'conv/kernel', shape: [4], dtype: 'float32' }] }];
    expectError(() => parseTfjsManifest(manifest, 'model.json', () => ({ file: 'shard1', bytes: new Uint8Array(values.buffer) })),
      'E_MODEL_FORMAT', /^E_MODEL_FORMAT: shard1: weight "conv\/kernel" holds NaN at index 2: weights must be finite numbers$/);
  });
});
