import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadModel } from '../../src/models/index.js';
import { type WaveNet, receptiveField, timeSinceOnset } from '../../src/models/wavenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { expectClose } from '../helpers/compare.js';

// The shipped model against the PyTorch model it was trained as
// (tools/fixtures_wavenet.py --trained models/wavenet-piano): teacher-forced
// and sampled with the note clock hibiki computes when a request brings none.
describe('models/wavenet-piano', () => {
  const model = loadModel(Runtime.create(), readModelDir(new URL('../../models/wavenet-piano', import.meta.url).pathname)) as WaveNet;
  const parity = readSafetensors(new URL('../fixtures/wavenet-piano-parity.safetensors', import.meta.url).pathname);

  it('is the 16-layer, 8 kHz, pitch-conditioned model the README describes', () => {
    expect(model.config.sampleRate).toBe(8000);
    expect(model.config.dilations).toHaveLength(16);
    expect(receptiveField(model.config)).toBe(511);
    expect(model.config.globalName).toBe('midi_pitch');
    expect(model.config.globalLabels).toEqual(Array.from({ length: 25 }, (_, i) => String(48 + i)));
    expect(model.config).toMatchObject({ localChannels: 4, localHop: 80, localFeatures: 'time_since_onset' });
  });

  it('computes its note clock itself: a request without features samples as one with timeSinceOnset\'s', () => {
    const request = { samples: 300, condition: 12, temperature: 0.9, seed: 7 };
    const [own, given] = model.generateClasses([request, { ...request, local: timeSinceOnset(4, 80, 8000) }]);
    expect(Array.from(own!)).toEqual(Array.from(given!));
    // and the clock matters: the same request 3.6 s into the note comes out otherwise
    const late = timeSinceOnset(364, 80, 8000).subarray(360 * 4);
    expect(Array.from(model.generateClasses([{ ...request, local: late }])[0]!)).not.toEqual(Array.from(own!));
  });

  it('gives PyTorch\'s logits on a rendered middle C', () => {
    const x = parity.get('x').data as Int32Array;
    const cond = (parity.get('cond').data as Int32Array)[0]!;
    expectClose(model.logits(x, cond), parity.get('logits').data as Float32Array, 1e-4, 'logits');
  });

  it('samples what PyTorch samples with the same seed', () => {
    const want = parity.get('gen_classes').data as Int32Array;
    const m = parity.metadata;
    const got = model.generateClasses([{ samples: want.length, condition: Number(m.gen_condition), temperature: Number(m.gen_temperature), seed: Number(m.gen_seed) }]);
    expect(Array.from(got[0]!)).toEqual(Array.from(want));
  });
});
