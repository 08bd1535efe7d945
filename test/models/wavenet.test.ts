import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelDir } from '../../src/io/model-dir.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { muLawEncode } from '../../src/io/mulaw.js';
import { loadModel } from '../../src/models/index.js';
import { WaveNet, parseWaveNetConfig, receptiveField, requestMinP, timeSinceOnset } from '../../src/models/wavenet.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { sampleCategorical } from '../../src/decode/sample.js';
import { Rng } from '../../src/runtime/rng.js';
import { expectClose } from '../helpers/compare.js';
import { errorOf } from '../helpers/errors.js';

function open(kernel: number) {
  const dir = new URL(`../fixtures/wavenet-k${kernel}/`, import.meta.url).pathname;
  const rt = Runtime.create();
  const model = loadModel(rt, readModelDir(dir)) as WaveNet;
  const parity = readSafetensors(join(dir, 'parity.safetensors'));
  return { model, parity };
}

/** The slow, obviously right generator: recompute the whole causal stack for every new sample. */
function generateNaive(model: WaveNet, samples: number, condition: number, temperature: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const seq = [model.config.classes >> 1];
  for (let t = 0; t < samples; t++) {
    const logits = model.logits(Int32Array.from(seq), condition);
    const Q = model.config.classes;
    seq.push(sampleCategorical(logits.subarray((seq.length - 1) * Q, seq.length * Q), temperature, rng));
  }
  return Int32Array.from(seq.slice(1));
}

for (const kernel of [2, 3]) {
  describe(`wavenet, kernel ${kernel}`, () => {
    const { model, parity } = open(kernel);

    it('has the receptive field of its dilations', () => {
      expect(receptiveField(model.config)).toBe((kernel - 1) * 2 * (1 + 2 + 4 + 8) + 1);
    });

    it('keeps its weights as plain data, which a worker attaches to', () => {
      expect(structuredClone(model.layout)).toEqual(model.layout);
      expect(model.weights.layers[0]!.conv.taps).toHaveLength(kernel);
    });

    it('teacher-forced logits match PyTorch', () => {
      const x = parity.get('x').data as Int32Array;
      const cond = (parity.get('cond').data as Int32Array)[0]!;
      expectClose(model.logits(x, cond), parity.get('logits').data as Float32Array, 1e-4, 'logits');
    });

    it('samples what PyTorch samples, step by step, with the same seed', () => {
      const meta = parity.metadata;
      const want = parity.get('gen_classes').data as Int32Array;
      const got = model.generateClasses([
        { samples: want.length, condition: Number(meta.gen_condition), temperature: Number(meta.gen_temperature), seed: Number(meta.gen_seed) },
      ])[0]!;
      expect(Array.from(got)).toEqual(Array.from(want));
    });

    it('fast generation gives exactly what recomputing the whole stack gives', () => {
      const fast = model.generateClasses([{ samples: 70, condition: 0, temperature: 1, seed: 99 }])[0]!;
      expect(Array.from(fast)).toEqual(Array.from(generateNaive(model, 70, 0, 1, 99)));
    });

    it('streams batched together give what each gives alone', () => {
      const requests = [
        { samples: 50, condition: 0, temperature: 1, seed: 1 },
        { samples: 80, condition: 2, temperature: 0.5, seed: 2 },
        { samples: 20, condition: 1, temperature: 0, seed: 3 },
        { samples: 60, condition: 1, temperature: 1.3, seed: 4 },
        { samples: 45, condition: 2, temperature: 1, seed: 5 },
      ];
      const together = model.generateClasses(requests);
      requests.forEach((r, i) => expect(Array.from(together[i]!), `stream ${i}`).toEqual(Array.from(model.generateClasses([r])[0]!)));
    });
  });
}

// logits runs in time tiles of 256 samples, each layer keeping the (K − 1)·d inputs before the tile.
// Dilations of 300 and 600 make that history longer than a tile; the queue-based generator shares none
// of that code, so agreeing with it sample for sample over 900 samples checks the tiles join exactly.
describe('wavenet with dilations longer than the time tile of logits', () => {
  const dir = new URL('../fixtures/wavenet-k2/', import.meta.url).pathname;
  const md = readModelDir(dir);
  const model = loadModel(Runtime.create(), { ...md, config: { ...md.config, dilation_cycle: [1, 2, 300, 600] } }) as WaveNet;
  it('generates what recomputing the whole stack with logits gives', () => {
    const fast = model.generateClasses([{ samples: 900, condition: 1, temperature: 1, seed: 5 }])[0]!;
    expect(new Set(fast).size).toBeGreaterThan(20);
    expect(Array.from(fast)).toEqual(Array.from(generateNaive(model, 900, 1, 1, 5)));
  });
});

describe('wavenet input checks', () => {
  const { model } = open(2);
  it('rejects bad requests and sequences, naming what was wrong', () => {
    expect(errorOf(() => model.check({ samples: 0, temperature: 1, seed: 1, condition: 0 }, 'item 0'))).toMatch(
      /^E_BAD_INPUT: item 0: samples must be a whole number from 1 to 28800000/,
    );
    expect(errorOf(() => model.check({ samples: 10, temperature: -1, seed: 1, condition: 0 }, 'item 1'))).toMatch(/temperature must be from 0 to 10/);
    expect(errorOf(() => model.check({ samples: 10, temperature: 1, seed: 1, condition: 7 }, 'item 2'))).toBe(
      'E_BAD_INPUT: item 2: condition must be one of the model\'s 3 classes (low, mid, high), got 7',
    );
    expect(errorOf(() => model.check({ samples: 10, temperature: 1, seed: 1, condition: 0, prompt: 'yes' }, 'item 3'))).toBe(
      'E_BAD_INPUT: item 3: prompt must be true or false, got "yes"',
    );
    expect(errorOf(() => model.logits(Int32Array.from([1, 300]), 0))).toMatch(/x\[1\] = 300 is not a class below 256/);
    expect(errorOf(() => model.logits(muLawEncode([0, 0.5]), undefined))).toMatch(/condition must be one of/);
    expect(errorOf(() => model.logits(Int32Array.from([1, 2]), 0, undefined, new Float32Array(511)))).toMatch(
      /out must be a Float32Array of T·classes = 2·256 floats, got 511/,
    );
  });

  it('writes logits into a given array, the same as into a new one', () => {
    const x = Int32Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
    const out = new Float32Array(300 * 256).fill(Number.NaN);
    expect(model.logits(x, 1, undefined, out)).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(model.logits(x, 1)));
  });
});

describe('wavenet with local conditioning (features at a quarter of the sample rate)', () => {
  const dir = new URL('../fixtures/wavenet-local/', import.meta.url).pathname;
  const model = loadModel(Runtime.create(), readModelDir(dir)) as WaveNet;
  const parity = readSafetensors(join(dir, 'parity.safetensors'));
  const local = parity.get('local').data as Float32Array; // (26 frames, 5 channels)

  it('teacher-forced logits match PyTorch', () => {
    const x = parity.get('x').data as Int32Array;
    expectClose(model.logits(x, 1, local), parity.get('logits').data as Float32Array, 1e-4, 'logits');
  });

  it('samples what PyTorch samples, and the same as a batch', () => {
    const want = parity.get('gen_classes').data as Int32Array;
    const request = { samples: want.length, condition: 1, temperature: 0.8, seed: 1234, local };
    expect(Array.from(model.generateClasses([request])[0]!)).toEqual(Array.from(want));
    const other = { samples: 50, condition: 0, temperature: 1, seed: 9, local: local.map((v) => -v) };
    const both = model.generateClasses([other, request]);
    expect(Array.from(both[1]!)).toEqual(Array.from(want));
    expect(Array.from(both[0]!)).toEqual(Array.from(model.generateClasses([other])[0]!));
  });

  it('asks for features when they are missing or short', () => {
    expect(errorOf(() => model.check({ samples: 100, condition: 0, temperature: 1, seed: 1 }, 'item 0'))).toMatch(
      /item 0: local must be a Float32Array of at least 25 frames × 5 channels \(hop 4\)/,
    );
    expect(errorOf(() => model.check({ samples: 200, condition: 0, temperature: 1, seed: 1, local }, 'item 1'))).toMatch(
      /at least 50 frames × 5 channels/,
    );
  });
});

describe('the note clock (local_condition_features "time_since_onset")', () => {
  it('is [1, exp(−t/0.25), exp(−t/1.5), min(t, 6)/6] per frame, t from the onset to the frame\'s first sample', () => {
    // Hand-computed: hop 80 at 8 kHz is 10 ms a frame; frame 150 is 1.5 s in, frame 700 is 7 s (past the 6 s ramp).
    const clock = timeSinceOnset(701, 80, 8000);
    expect(Array.from(clock.subarray(0, 4))).toEqual([1, 1, 1, 0]);
    expectClose(clock.subarray(4, 8), Float32Array.of(1, Math.exp(-0.04), Math.exp(-0.01 / 1.5), 0.01 / 6), 1e-7, 'frame 1');
    expectClose(clock.subarray(600, 604), Float32Array.of(1, 0.00247875218, 0.36787944117, 0.25), 1e-7, 'frame 150');
    expectClose(clock.subarray(2800, 2804), Float32Array.of(1, 6.914400e-13, 0.00940356255, 1), 1e-7, 'frame 700');
  });

  const base = {
    sample_rate: 8000, quantization_channels: 256, residual_channels: 8, dilation_channels: 8, skip_channels: 16,
    kernel_size: 2, stacks: 1, dilation_cycle: [1, 2],
  };

  it('is read from config.json with four channels, and other names or widths are refused', () => {
    const config = parseWaveNetConfig('m/config.json', { ...base, local_condition_channels: 4, local_condition_hop: 80, local_condition_features: 'time_since_onset' });
    expect(config.localFeatures).toBe('time_since_onset');
    expect(parseWaveNetConfig('m/config.json', base).localFeatures).toBeUndefined();
    expect(errorOf(() => parseWaveNetConfig('m/config.json', { ...base, local_condition_channels: 4, local_condition_features: 'mel' }))).toMatch(
      /m\/config.json: "local_condition_features" must be one of time_since_onset, got "mel"/,
    );
    expect(errorOf(() => parseWaveNetConfig('m/config.json', { ...base, local_condition_channels: 5, local_condition_features: 'time_since_onset' }))).toMatch(
      /"time_since_onset" has 4 channels, but "local_condition_channels" is 5/,
    );
  });
});

describe('the pitch prompt (config.json "pitch_prompt")', () => {
  const pitched = {
    sample_rate: 8000, quantization_channels: 256, residual_channels: 8, dilation_channels: 8, skip_channels: 16,
    kernel_size: 2, stacks: 1, dilation_cycle: [1, 2], global_condition_classes: 2, global_condition_name: 'midi_pitch',
    global_condition_labels: ['60', '61'], local_condition_channels: 4, local_condition_hop: 80, local_condition_features: 'time_since_onset',
  };

  it('is read for a midi_pitch model, in whole frames, and refused otherwise, naming the file', () => {
    expect(parseWaveNetConfig('m/config.json', { ...pitched, pitch_prompt: { samples: 160, amplitude: 0.1 } }).pitchPrompt).toEqual({ samples: 160, amplitude: 0.1 });
    expect(parseWaveNetConfig('m/config.json', pitched).pitchPrompt).toBeUndefined();
    const refused = (extra: object) => errorOf(() => parseWaveNetConfig('m/config.json', { ...pitched, ...extra }));
    const shape = 'm/config.json: "pitch_prompt" must be {"samples": a positive multiple of 80 (the local hop), "amplitude": above 0, at most 1}';
    expect(refused({ pitch_prompt: { samples: 100, amplitude: 0.1 } })).toContain(`${shape}, got {"samples":100,"amplitude":0.1}`);
    expect(refused({ pitch_prompt: { samples: 160, amplitude: 1.5 } })).toContain(shape);
    expect(refused({ pitch_prompt: { samples: 160 } })).toContain(shape);
    expect(refused({ pitch_prompt: 400 })).toContain(shape);
    expect(refused({ global_condition_name: 'speaker', pitch_prompt: { samples: 160, amplitude: 0.1 } })).toContain(
      'm/config.json: "pitch_prompt" needs a model conditioned on "midi_pitch", with MIDI note numbers as its labels');
    expect(refused({ global_condition_labels: ['C4', 'C#4'], pitch_prompt: { samples: 160, amplitude: 0.1 } })).toContain('needs a model conditioned on "midi_pitch"');
  });
});

describe('min-p (config.json "min_p")', () => {
  const base = {
    sample_rate: 8000, quantization_channels: 256, residual_channels: 8, dilation_channels: 8, skip_channels: 16,
    kernel_size: 2, stacks: 1, dilation_cycle: [1, 2],
  };

  it('is read from 0 to 1, 0 when left out, and refused otherwise, naming the file', () => {
    expect(parseWaveNetConfig('m/config.json', { ...base, min_p: 0.3 }).minP).toBe(0.3);
    expect(parseWaveNetConfig('m/config.json', base).minP).toBe(0);
    for (const bad of [-0.1, 1.01, '0.3', [0.3]]) {
      expect(errorOf(() => parseWaveNetConfig('m/config.json', { ...base, min_p: bad }))).toContain(
        `m/config.json: "min_p" must be a number from 0 to 1, got ${JSON.stringify(bad)}`);
    }
  });

  it("is a request's default, except for a note that a model with a pitch prompt starts from silence", () => {
    const plain = parseWaveNetConfig('m/config.json', { ...base, min_p: 0.3 });
    const pitched = parseWaveNetConfig('m/config.json', {
      ...base, min_p: 0.3, global_condition_classes: 1, global_condition_name: 'midi_pitch', global_condition_labels: ['60'],
      pitch_prompt: { samples: 80, amplitude: 0.03 },
    });
    expect([{}, { prompt: true }, { prompt: false }, { prompt: false, minP: 0.2 }, { minP: 0 }].map((r) => requestMinP(pitched, r))).toEqual([0.3, 0.3, 0, 0.2, 0]);
    // without a prompt every note starts from silence, and the model's min-p is every note's
    expect([{}, { prompt: false }, { minP: 0.1 }].map((r) => requestMinP(plain, r))).toEqual([0.3, 0.3, 0.1]);
  });
});
