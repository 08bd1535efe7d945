import { describe, expect, it } from 'vitest';
import { fundamentalHz, midiToHz } from '../../src/metrics/pitch.js';
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
