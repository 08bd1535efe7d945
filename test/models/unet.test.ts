import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SafeTensorsFile, readSafetensors } from '../../src/io/safetensors.js';
import { loadUNet, parseUNetConfig, unetForward } from '../../src/models/unet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';
import { expectError } from '../helpers/errors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/unet/', import.meta.url));
const fixture = (name: string) => readSafetensors(`${FIXTURES}${name}.safetensors`);
const configOf = (f: SafeTensorsFile) => parseUNetConfig(`${f.file} config`, JSON.parse(f.metadata.config!) as Record<string, unknown>);

/** The fixture's state dict without `drop`, as a model file. */
function without(f: SafeTensorsFile, drop: (name: string) => boolean): SafeTensorsFile {
  return new SafeTensorsFile('model.safetensors', new Map([...f.tensors].filter(([name]) => !drop(name))), {});
}

describe('U-Net against PyTorch (tools/fixtures_unet.py)', () => {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.safetensors')).map((n) => n.replace('.safetensors', '')).sort();

  it('covers every upsampling × skip, plain and dilated bottlenecks', () => {
    expect(names).toEqual([
      'transposed-add', 'transposed-add-dilated', 'transposed-concat', 'transposed-concat-dilated', 'unpool-add-dilated', 'unpool-concat',
    ]);
  });

  it.each(names)('%s: PyTorch’s logits', (name) => {
    const f = fixture(name);
    const rt = Runtime.create();
    const w = loadUNet(rt, f, configOf(f));
    const x = f.get('x');
    const logits = rt.scope(() => unetForward(rt, w, rt.tensor(x.shape, x.data as Float32Array)).toArray());
    const worst = expectClose(logits, f.get('logits').data as Float32Array, 1e-4, `${name} logits`);
    console.log(`unet ${name}: x [${x.shape.join(', ')}], worst logit error ${worst.toExponential(2)}`);
  });
});

describe('U-Net errors', () => {
  const good = { in_channels: 3, classes: 3, base_channels: 4, depth: 2 };

  it('reads defaults and names bad config fields', () => {
    expect(parseUNetConfig('config.json', good)).toEqual({
      inChannels: 3, classes: 3, baseChannels: 4, depth: 2, upsample: 'transposed', skip: 'concat', bottleneckDilations: [1, 1],
    });
    const bad = (fields: Record<string, unknown>, mentions: RegExp) =>
      expectError(() => parseUNetConfig('config.json', { ...good, ...fields }), 'E_MODEL_FORMAT', mentions);
    bad({ depth: 0 }, /config\.json: "depth" must be a positive integer, got 0/);
    bad({ base_channels: 2.5 }, /"base_channels" must be a positive integer, got 2\.5/);
    bad({ classes: undefined }, /"classes" must be a positive integer, got undefined/);
    bad({ upsample: 'bilinear' }, /"upsample" must be "transposed" or "unpool", got "bilinear"/);
    bad({ skip: 'sum' }, /"skip" must be "concat" or "add", got "sum"/);
    bad({ bottleneck_dilations: [] }, /"bottleneck_dilations" must list positive integers/);
    bad({ bottleneck_dilations: [1, 0] }, /"bottleneck_dilations" must list positive integers .* got \[1,0\]/);
  });

  it('names the tensor when the weights do not fit the config', () => {
    const f = fixture('transposed-concat');
    const rt = Runtime.create();
    const load = (fields: Record<string, unknown>, file = f) => () => loadUNet(rt, file, parseUNetConfig('config.json', { ...good, ...fields }));
    expectError(load({ base_channels: 8 }), 'E_MODEL_FORMAT', /down\.0\.conv1\.weight is F32 \[4, 3, 3, 3\], expected a float tensor \[8, 3, 3, 3\] \(config\.json\)/);
    expectError(load({ depth: 3 }), 'E_MODEL_FORMAT', /missing tensor "down\.2\.conv1\.weight"/);
    expectError(load({ upsample: 'unpool' }), 'E_MODEL_FORMAT', /up\.0\.upconv\.weight is F32 \[8, 4, 2, 2\], expected a float tensor \[4, 8, 1, 1\]/);
    expectError(load({ skip: 'add' }), 'E_MODEL_FORMAT', /up\.0\.conv1\.weight is F32 \[4, 8, 3, 3\], expected a float tensor \[4, 4, 3, 3\]/);
    expectError(load({ classes: 2 }), 'E_MODEL_FORMAT', /classifier\.weight is F32 \[3, 4, 1, 1\], expected a float tensor \[2, 4, 1, 1\]/);
    expectError(load({}, without(f, (n) => n === 'bottleneck.bn2.running_var')), 'E_MODEL_FORMAT', /missing tensor "bottleneck\.bn2\.running_var"/);
  });

  it('rejects images whose sides are not divisible by 2^depth, and the wrong channel count', () => {
    const f = fixture('transposed-concat');
    const rt = Runtime.create();
    const w = loadUNet(rt, f, configOf(f));
    const run = (shape: number[]) => () => rt.scope(() => unetForward(rt, w, rt.tensor(shape)));
    expectError(run([1, 18, 16, 3]), 'E_SHAPE', /the image is 18×16; a U-Net of depth 2 needs H and W divisible by 2\^2 = 4 \(pad or crop it\)/);
    expectError(run([1, 16, 6, 3]), 'E_SHAPE', /the image is 16×6/);
    expectError(run([1, 16, 16, 4]), 'E_SHAPE', /x has shape \[1, 16, 16, 4\], expected \[N, H, W, 3\]/);
    expectError(run([16, 16, 3]), 'E_SHAPE', /expected \[N, H, W, 3\]/);
  });
});
