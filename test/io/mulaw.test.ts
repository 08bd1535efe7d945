import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { muLawDecode, muLawEncode } from '../../src/io/mulaw.js';
import { readSafetensors } from '../../src/io/safetensors.js';

describe('mu-law', () => {
  const file = readSafetensors(fileURLToPath(new URL('../fixtures/mulaw.safetensors', import.meta.url)));
  it('encodes exactly as torchaudio, on 27,009 values including the edges', () => {
    const x = file.get('x').data as Float32Array;
    const want = file.get('classes').data as Int32Array;
    const got = muLawEncode(x);
    const differing = [...got.keys()].filter((i) => got[i] !== want[i]);
    expect(differing.map((i) => `${x[i]} → ${got[i]}, torchaudio ${want[i]}`)).toEqual([]);
  });
  it('decodes as torchaudio within 1.2e-7, every class', () => {
    // torch's float32 exp is not correctly rounded (Math.exp is): 18 of the
    // 256 classes differ in their last bits (exp(·) − 1 amplifies one ulp of
    // exp near silence). 1.2e-7 is 1/250 of a 16-bit PCM step.
    const want = file.get('decoded').data as Float32Array;
    const got = muLawDecode(Array.from({ length: 256 }, (_, i) => i));
    for (let i = 0; i < 256; i++) expect(Math.abs(got[i]! - want[i]!), `class ${i}`).toBeLessThanOrEqual(1.2e-7);
  });
  it('maps silence to the middle class and the ends to the ends', () => {
    expect(Array.from(muLawEncode([0, 1, -1]))).toEqual([128, 255, 0]);
    expect(Array.from(muLawDecode([0, 128, 255]))).toEqual([-1, Math.fround(8.621309e-5), 1]);
  });
});
