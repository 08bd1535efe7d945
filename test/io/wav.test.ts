import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/io/wav.js';
import { VERSION } from '../../src/version.js';

const ascii = (bytes: Uint8Array, at: number, n: number) => Buffer.from(bytes.subarray(at, at + n)).toString('latin1');
const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const samples = Float32Array.from([0, 0.5, -0.5]);

describe('WAV files', () => {
  it('f32: an 18-byte WAVEFORMATEX fmt chunk with cbSize 0, then a fact chunk, as the RIFF WAVE spec asks of non-PCM data', () => {
    const wav = encodeWav(samples, 8000, 'f32');
    const v = view(wav);
    expect(ascii(wav, 0, 4)).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(wav, 8, 4)).toBe('WAVE');
    expect(ascii(wav, 12, 4)).toBe('fmt ');
    expect(v.getUint32(16, true)).toBe(18);
    expect([
      v.getUint16(20, true), // wFormatTag: WAVE_FORMAT_IEEE_FLOAT
      v.getUint16(22, true), // nChannels
      v.getUint32(24, true), // nSamplesPerSec
      v.getUint32(28, true), // nAvgBytesPerSec
      v.getUint16(32, true), // nBlockAlign
      v.getUint16(34, true), // wBitsPerSample
      v.getUint16(36, true), // cbSize
    ]).toEqual([3, 1, 8000, 32000, 4, 32, 0]);
    expect(ascii(wav, 38, 4)).toBe('fact');
    expect(v.getUint32(42, true)).toBe(4);
    expect(v.getUint32(46, true)).toBe(3); // dwSampleLength: frames
    expect(ascii(wav, 50, 4)).toBe('data');
    expect(v.getUint32(54, true)).toBe(12);
    expect([0, 1, 2].map((i) => v.getFloat32(58 + 4 * i, true))).toEqual([0, 0.5, -0.5]);
    expect(ascii(wav, 70, 4)).toBe('LIST');
    expect(ascii(wav, 78, 4)).toBe('INFO');
  });

  it('pcm16: the 16-byte PCMWAVEFORMAT and no fact chunk', () => {
    const wav = encodeWav(samples, 16000, 'pcm16');
    const v = view(wav);
    expect(v.getUint32(16, true)).toBe(16);
    expect([v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint32(28, true), v.getUint16(32, true), v.getUint16(34, true)])
      .toEqual([1, 1, 16000, 32000, 2, 16]);
    expect(ascii(wav, 36, 4)).toBe('data');
    expect(v.getUint32(40, true)).toBe(6);
    expect([0, 1, 2].map((i) => v.getInt16(44 + 2 * i, true))).toEqual([0, 16384, -16383]); // round(±0.5 · 32767), JavaScript's half up
    expect(ascii(wav, 50, 4)).toBe('LIST');
  });

  it('names the software in LIST/INFO, NUL-terminated and padded to even sizes, and reads back', () => {
    for (const format of ['pcm16', 'f32'] as const) {
      const wav = encodeWav(samples, 8000, format, 'odd');
      const list = ascii(wav, 0, wav.length).indexOf('LIST');
      const v = view(wav);
      expect(v.getUint32(list + 4, true)).toBe(wav.length - list - 8);
      const isft = `hibiki ${VERSION}\0`;
      expect(ascii(wav, list + 12, 4)).toBe('ISFT');
      expect(v.getUint32(list + 16, true)).toBe(isft.length);
      expect(ascii(wav, list + 20, isft.length)).toBe(isft);
      const icmt = list + 20 + isft.length + (isft.length & 1);
      expect([ascii(wav, icmt, 4), v.getUint32(icmt + 4, true), ascii(wav, icmt + 8, 4)]).toEqual(['ICMT', 4, 'odd\0']);
      expect(wav.length % 2).toBe(0);
      const back = decodeWav(wav, 'x.wav');
      expect(back.sampleRate).toBe(8000);
      if (format === 'f32') expect(Array.from(back.samples)).toEqual([0, 0.5, -0.5]);
      else back.samples.forEach((x, i) => expect(Math.abs(x - samples[i]!)).toBeLessThan(1 / 32767));
    }
  });

  // sox is one of the system packages npm test installs (test/setup/system-packages.ts).
  it('sox reads both formats without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-wav-'));
    for (const format of ['pcm16', 'f32'] as const) {
      const path = join(dir, `${format}.wav`);
      writeFileSync(path, encodeWav(new Float32Array(800).fill(0.25), 8000, format, 'hibiki test'));
      const info = spawnSync('sox', ['--i', path], { encoding: 'utf8' });
      expect(info.status).toBe(0);
      expect(info.stdout).toMatch(/800 samples/);
      const stat = spawnSync('sox', [path, '-n', 'stat'], { encoding: 'utf8' });
      expect(stat.status).toBe(0);
      expect(stat.stderr).not.toMatch(/WARN/);
      expect(stat.stderr).toMatch(/Maximum amplitude:\s+0\.25/);
    }
  });
});
