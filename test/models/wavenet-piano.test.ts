import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadModel } from '../../src/models/index.js';
import { type GenerateRequest, type WaveNet, pitchPrompt, receptiveField, timeSinceOnset } from '../../src/models/wavenet.js';
import { muLawDecode } from '../../src/io/mulaw.js';
import { fundamentalHz, midiToHz } from '../../src/metrics/pitch.js';
import { sampleCategorical } from '../../src/decode/sample.js';
import { Rng } from '../../src/runtime/rng.js';
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
    expect(model.config).toMatchObject({ localChannels: 4, localHop: 80, localFeatures: 'time_since_onset', pitchPrompt: { samples: 400, amplitude: 0.03 } });
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

  it("samples what PyTorch samples with the same seed: after the pitch prompt, with the model's min-p", () => {
    const want = parity.get('gen_classes').data as Int32Array;
    const m = parity.metadata;
    expect(Number(m.gen_min_p)).toBe(model.config.minP);
    expect(Number(m.gen_prompt)).toBe(model.config.pitchPrompt!.samples);
    const request = { samples: want.length, condition: Number(m.gen_condition), temperature: Number(m.gen_temperature), seed: Number(m.gen_seed) };
    expect(Array.from(model.generateClasses([request])[0]!)).toEqual(Array.from(want));
    // a note, not silence: the draws are spread, so min-p changes them
    expect(new Set(want).size).toBeGreaterThan(20);
    expect(Array.from(model.generateClasses([{ ...request, minP: 0 }])[0]!)).not.toEqual(Array.from(want));
  });

  /**
   * The slow, obviously right generator with a prompt: the whole causal stack recomputed by `logits` over
   * silence, the prompt and the samples so far, every prompt step on the note clock's first frame.
   */
  function generateNaive(r: GenerateRequest): Int32Array {
    const { classes: Q, localHop: hop } = model.config;
    const prompt = pitchPrompt(model.config, Number(model.config.globalLabels[r.condition!]));
    const clock = timeSinceOnset(Math.ceil(r.samples / hop) + 1, hop, 8000);
    const local = new Float32Array(prompt.length / hop * 4 + clock.length);
    for (let f = 0; f < prompt.length / hop; f++) local.set(clock.subarray(0, 4), f * 4);
    local.set(clock, (prompt.length / hop) * 4);
    const rng = new Rng(r.seed);
    const seq = [Q >> 1, ...prompt];
    for (let t = 0; t < r.samples; t++) {
      const x = Int32Array.from(seq);
      const logits = model.logits(x, r.condition, local.subarray(0, Math.ceil(x.length / hop) * 4));
      seq.push(sampleCategorical(logits.subarray((x.length - 1) * Q, x.length * Q), r.temperature, rng, undefined, r.minP ?? model.config.minP));
    }
    return Int32Array.from(seq.slice(1 + prompt.length));
  }

  it('starts a note from its pitch prompt: a sine at the pitch, fed before the first sample, not in the output', () => {
    const { samples, amplitude } = model.config.pitchPrompt!;
    expect(samples % model.config.localHop).toBe(0);
    // the prompt of MIDI 57 (220 Hz): that pitch, at that amplitude
    const prompt = muLawDecode(pitchPrompt(model.config, 57));
    expect(prompt).toHaveLength(samples);
    expect(fundamentalHz(prompt, { sampleRate: 8000 })! / midiToHz(57)).toBeCloseTo(1, 2);
    expect(Math.max(...prompt)).toBeCloseTo(amplitude, 2);
    // generation with it is what recomputing the whole stack over prompt and samples gives
    const request = { samples: 90, condition: 9, temperature: 0.9, seed: 11 };
    const fast = model.generateClasses([request])[0]!;
    expect(Array.from(fast)).toEqual(Array.from(generateNaive(request)));
    expect(Array.from(fast)).not.toEqual(Array.from(model.generateClasses([{ ...request, prompt: false }])[0]!));
  });

  it("samples with the model's min-p unless a request names its own, each as the slow generator draws", () => {
    expect(model.config.minP).toBe(0.3);
    const request = { samples: 60, condition: 4, temperature: 1, seed: 21 };
    const runs = [undefined, 0, 0.8].map((minP) => {
      const r = minP === undefined ? request : { ...request, minP };
      const fast = model.generateClasses([r])[0]!;
      expect(Array.from(fast), `minP ${minP}`).toEqual(Array.from(generateNaive(r)));
      return Array.from(fast).join();
    });
    // the model's 0.3, every class and a near-greedy 0.8 each draw another note from the same seed
    expect(new Set(runs).size).toBe(3);
  });

  it('steps streams with and without a prompt, and with their own min-p, together, each as it would alone', () => {
    const requests = [
      { samples: 200, condition: 3, temperature: 0.9, seed: 1 },
      { samples: 300, condition: 20, temperature: 1, seed: 2, prompt: false, minP: 0 },
      { samples: 120, condition: 12, temperature: 0.7, seed: 3, prompt: true, minP: 0.5 },
    ];
    const together = model.generateClasses(requests);
    requests.forEach((r, i) => expect(Array.from(together[i]!), `stream ${i}`).toEqual(Array.from(model.generateClasses([r])[0]!)));
  });
});
