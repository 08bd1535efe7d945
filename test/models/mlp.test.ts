import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { Engine } from '../../src/pool/engine.js';
import { expectClose } from '../helpers/compare.js';
import { errorOf } from '../helpers/errors.js';

const MLP = fileURLToPath(new URL('../fixtures/mlp/', import.meta.url));

describe('mlp model', () => {
  it('matches PyTorch (tools/make_mlp.py) on 37 rows, whatever the batching', async () => {
    const parity = readSafetensors(join(MLP, 'parity.safetensors'));
    const x = parity.get('x').data as Float32Array;
    const y = parity.get('y').data as Float32Array;
    const engine = Engine.open(MLP);
    // one item of 37 rows, and items of 1, 5 and 31 rows
    const whole = await engine.run([x]);
    expectClose(whole.outputs[0]!, y, 1e-4, 'one item');
    const parts = await engine.run([x.subarray(0, 16), x.subarray(16, 96), x.subarray(96)]);
    expect(parts.failures).toEqual([]);
    const joined = new Float32Array(y.length);
    joined.set(parts.outputs[0]!, 0);
    joined.set(parts.outputs[1]!, 8);
    joined.set(parts.outputs[2]!, 48);
    expect(Array.from(joined)).toEqual(Array.from(whole.outputs[0]!));
  });

  it('rejects bad items one by one, naming them', async () => {
    const engine = Engine.open(MLP);
    const good = new Float32Array(16).fill(0.5);
    const nan = new Float32Array(16);
    nan[3] = NaN;
    const r = await engine.run([good, new Float32Array(15), nan, new Float32Array(0), [1, 2] as unknown, good]);
    expect(r.outputs[0]).toHaveLength(8);
    expect(Array.from(r.outputs[5]!)).toEqual(Array.from(r.outputs[0]!));
    expect(r.failures.map((f) => `${f.index} ${f.error.code}: ${f.error.message}`)).toEqual([
      '1 E_BAD_INPUT: item 2: 15 values is not a whole number of rows of 16 features',
      '2 E_BAD_INPUT: item 3: value 3 is NaN, not a finite number',
      '3 E_BAD_INPUT: item 4: 0 values is not a whole number of rows of 16 features',
      '4 E_BAD_INPUT: item 5: expected a Float32Array of feature rows',
    ]);
  });

  it('names the file and tensor when the model directory is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-mlp-'));
    expect(errorOf(() => Engine.open(dir))).toMatch(/^E_IO: cannot read .*config\.json: is ".*" a model directory\?/);
    writeFileSync(join(dir, 'config.json'), '{"architecture": "mlp", "sizes": [4, 2]');
    expect(errorOf(() => Engine.open(dir))).toMatch(/^E_MODEL_FORMAT: .*config\.json: not valid JSON/);
    writeFileSync(join(dir, 'config.json'), '{"architecture": "resnet"}');
    writeSafetensors(join(dir, 'model.safetensors'), []);
    expect(errorOf(() => Engine.open(dir))).toMatch(/unknown architecture "resnet" \(known: mlp, transformer, marian, wavenet, mobilenet_v2, densenet, ssd-mobilenet-v1-face, unet\)/);
    writeFileSync(join(dir, 'config.json'), '{"architecture": "mlp", "sizes": [4, 2], "activation": "swish"}');
    expect(errorOf(() => Engine.open(dir))).toMatch(/"activation" must be one of none, relu/);
    writeFileSync(join(dir, 'config.json'), '{"architecture": "mlp", "sizes": [4, 2]}');
    expect(errorOf(() => Engine.open(dir))).toMatch(/model\.safetensors: missing tensor "layers\.0\.weight"/);
    writeSafetensors(join(dir, 'model.safetensors'), [
      { name: 'layers.0.weight', shape: [4, 2], data: new Float32Array(8) },
      { name: 'layers.0.bias', shape: [2], data: new Float32Array(2) },
    ]);
    expect(errorOf(() => Engine.open(dir))).toMatch(
      /model\.safetensors: layers\.0\.weight is F32 \[4, 2\], expected a float tensor \[2, 4\] \(config\.json sizes\)/,
    );
  });
});
