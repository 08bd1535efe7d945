import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Generator } from '../../src/tasks/generator.js';
import { MAX_SECONDS } from '../../src/tasks/defaults.js';
import { errorOf } from '../helpers/errors.js';
import wavefile from 'wavefile';

const MODEL = fileURLToPath(new URL('../fixtures/wavenet-k2/', import.meta.url));

describe('the generation library API', () => {
  it('the same seed gives the same clip in this thread and on two workers; clips become WAV bytes', async () => {
    const local = await Generator.open(MODEL);
    const pooled = await Generator.open(MODEL, { workers: 2 });
    const asked = { seconds: 0.05, count: 3, condition: 'high', temperature: 1, seed: 7 };
    const [a, b] = await Promise.all([local.generate(asked), pooled.generate(asked)]);
    await pooled.close();
    expect(a.failures).toEqual([]);
    expect(a.requests.map((r) => r.seed)).toEqual([7, 8, 9]);
    expect(b.clips).toEqual(a.clips);
    expect(a.clips[0]).not.toEqual(a.clips[1]); // clip i uses seed + i
    const wav = new wavefile.WaveFile(local.wav(a.clips[0]!, 'f32'));
    expect((wav.fmt as { sampleRate: number }).sampleRate).toBe(local.config.sampleRate);
    expect(Array.from(wav.getSamples(false, Float32Array) as unknown as Float32Array)).toEqual(Array.from(a.clips[0]!));
  });

  it('takes note names for a pitch-conditioned model, and names its range when a pitch is not one of its', async () => {
    const piano = await Generator.open(); // models/wavenet-piano: midi_pitch 48–72
    const conditionOf = (condition: string) => piano.config.globalLabels[piano.requests({ seconds: 0.01, condition })[0]!.condition!];
    expect(['60', 'C4', 'c4', 'A4', 'F#3', 'Bb4', 'C3', 'C5'].map(conditionOf)).toEqual(['60', '60', '60', '69', '54', '70', '48', '72']);
    const range = 'this model plays the MIDI pitches 48–72 (C3 to C5); give one as a number or a note name such as C4 (middle C), F#3 or Bb4';
    expect(errorOf(() => piano.requests({ seconds: 1, condition: 'C6' }))).toBe(`E_BAD_INPUT: unknown condition "C6" (MIDI 84): ${range}`);
    expect(errorOf(() => piano.requests({ seconds: 1, condition: '47' }))).toBe(`E_BAD_INPUT: unknown condition "47": ${range}`);
    expect(errorOf(() => piano.requests({ seconds: 1, condition: 'H4' }))).toBe(`E_BAD_INPUT: unknown condition "H4": ${range}`);
    // its pitch prompt unless told otherwise
    expect(piano.requests({ seconds: 0.01 })[0]!.prompt).toBeUndefined();
    expect(piano.requests({ seconds: 0.01, prompt: false })[0]!.prompt).toBe(false);
    expect(errorOf(() => piano.requests({ seconds: 0.01, prompt: 0 as unknown as boolean }))).toBe('E_BAD_INPUT: prompt must be true or false, got 0');
    // its min-p unless told otherwise (left out of the request: the model's is the default there too)
    expect(piano.config.minP).toBe(0.3);
    expect(piano.requests({ seconds: 0.01 })[0]!.minP).toBeUndefined();
    expect(piano.requests({ seconds: 0.01, minP: 0 })[0]!.minP).toBe(0);
    expect(errorOf(() => piano.requests({ seconds: 0.01, minP: 1.5 }))).toBe('E_BAD_INPUT: minP must be a number from 0 to 1, got 1.5');
    await piano.close();
  });

  it('refuses absurd requests before any work, naming the value', async () => {
    const g = await Generator.open(MODEL);
    expect(errorOf(() => g.requests({ seconds: 1e9 }))).toBe(`E_BAD_INPUT: seconds must be above 0 and at most ${MAX_SECONDS}, got 1000000000`);
    expect(errorOf(() => g.requests({ seconds: 1, condition: 'C9' }))).toMatch(/^E_BAD_INPUT: unknown condition "C9" \(condition: low, mid, high\)/);
    expect(errorOf(() => g.requests({ seconds: 1, count: 0 }))).toMatch(/^E_BAD_INPUT: count must be a whole number from 1 to 1000, got 0/);
    expect(errorOf(() => g.requests({ seconds: 1, temperature: -1 }))).toBe('E_BAD_INPUT: temperature must be from 0 to 10, got -1');
    expect(g.requests({ seconds: 0.01, temperature: 0 })[0]!.temperature).toBe(0); // no min_temperature: greedy is allowed
    // the piano model's config.json says min_temperature 0.5: for a note started from silence colder is refused in the
    // library, and by the model on a pool; with its pitch prompt (the default) no note falls silent, and any is allowed
    const piano = await Generator.open(undefined, { workers: 1 });
    expect(piano.config.minTemperature).toBe(0.5);
    expect(errorOf(() => piano.requests({ seconds: 1, temperature: 0.4, prompt: false }))).toBe(
      'E_BAD_INPUT: temperature 0.4 is below 0.5, this model\'s min_temperature: sampled colder, its notes fall into silence (every sample one value); ' +
      'use 0.5 to 10, or its pitch prompt (leave prompt on), which keeps a note sounding at any temperature');
    const run = await piano.pool!.run([{ samples: 80, condition: 12, temperature: 0.3, seed: 1, prompt: false }, { samples: 80, condition: 12, temperature: 0, seed: 1 }]);
    expect(run.failures.map((f) => f.index)).toEqual([0]);
    expect(run.failures[0]!.error.message).toMatch(/^item 1: temperature 0\.3 is below 0\.5/);
    expect(run.outputs[1]).toHaveLength(80);
    // the model checks a request's min-p on a pool too
    const badMinP = await piano.pool!.run([{ samples: 80, condition: 12, temperature: 0.9, seed: 1, minP: -0.1 }]);
    expect(badMinP.failures[0]!.error.message).toBe('item 1: minP must be a number from 0 to 1, got -0.1');
    expect(piano.requests({ seconds: 1, temperature: 0 })[0]!.temperature).toBe(0);
    expect((await piano.generate({ seconds: 0.01, temperature: 0.5, prompt: false })).clips[0]).toHaveLength(80);
    await piano.close();
    const controller = new AbortController();
    controller.abort();
    await expect(g.generate({ seconds: 0.05, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError', code: 'E_ABORTED', cause: controller.signal.reason });
  });
});
