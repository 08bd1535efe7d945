import { describe, expect, it } from 'vitest';
import { fundamentalHz, midiToHz, midiToNoteName, noteNameToMidi } from '../../src/metrics/pitch.js';
import { Rng } from '../../src/runtime/rng.js';

const SR = 8000;
function tone(hz: number, seconds: number, harmonics: number[] = [1]): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) =>
    harmonics.reduce((s, a, h) => s + a * Math.sin((2 * Math.PI * hz * (h + 1) * i) / SR), 0));
}

describe('fundamentalHz', () => {
  it('finds the pitch of pure tones across the piano model range within 0.3 %', () => {
    for (let note = 48; note <= 72; note++) {
      const hz = midiToHz(note);
      expect(Math.abs(fundamentalHz(tone(hz, 0.3), { sampleRate: SR })! / hz - 1), `note ${note}`).toBeLessThan(0.003);
    }
  });

  it('does not jump an octave down when the second harmonic is stronger than the first', () => {
    const hz = midiToHz(60);
    expect(fundamentalHz(tone(hz, 0.3, [0.4, 1, 0.5, 0.3]), { sampleRate: SR })! / hz).toBeCloseTo(1, 2);
  });

  it('finds nothing in silence or noise', () => {
    expect(fundamentalHz(new Float32Array(2400), { sampleRate: SR })).toBeUndefined();
    expect(fundamentalHz(new Rng(1).uniform(2400), { sampleRate: SR })).toBeUndefined();
  });

  it('names the equal-tempered frequencies', () => {
    expect(midiToHz(69)).toBe(440);
    expect(midiToHz(60)).toBeCloseTo(261.6256, 4);
  });
});

describe('note names (scientific pitch notation)', () => {
  it('read as MIDI notes: C4 is middle C, 60; A4 is 69', () => {
    const cases: Array<[string, number]> = [
      ['C4', 60], ['c4', 60], ['A4', 69], ['A0', 21], ['C8', 108], ['C-1', 0], ['G9', 127], ['B3', 59],
      ['F#3', 54], ['Bb4', 70], ['bb3', 58], ['C♯4', 61], ['D♭4', 61], ['E#4', 65], ['Cb4', 59], ['C##4', 62], ['Dbb4', 60], [' C4 ', 60],
    ];
    for (const [name, midi] of cases) expect(noteNameToMidi(name), name).toBe(midi);
  });

  it('read as nothing when they are not note names, or fall outside MIDI 0–127', () => {
    for (const name of ['', 'C', 'H4', '4', '60', 'C#b4', 'Cx4', 'C 4', 'C4.5', 'G#9', 'Cb-1', 'C10']) {
      expect(noteNameToMidi(name), JSON.stringify(name)).toBeUndefined();
    }
  });

  it('are written with sharps, and read back to the same note for all 128', () => {
    expect([60, 61, 69, 21, 0, 127].map(midiToNoteName)).toEqual(['C4', 'C#4', 'A4', 'A0', 'C-1', 'G9']);
    for (let midi = 0; midi < 128; midi++) expect(noteNameToMidi(midiToNoteName(midi))).toBe(midi);
  });
});
