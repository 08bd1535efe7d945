// WAV files through wavefile: 16-bit PCM (what every player takes) or 32-bit
// float, mono, with a LIST/INFO chunk naming the software and its version.
import { readFileSync } from 'node:fs';
import { VERSION } from '../version.js';
import wavefile from 'wavefile';
import { HibikiError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

// wavefile is CommonJS: its named export type-checks but fails at run time.
const { WaveFile } = wavefile;

export type WavFormat = 'pcm16' | 'f32';

export function encodeWav(samples: Float32Array, sampleRate: number, format: WavFormat, comment?: string): Uint8Array {
  const wav = new WaveFile();
  if (format === 'f32') {
    wav.fromScratch(1, sampleRate, '32f', samples);
  } else {
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767);
    wav.fromScratch(1, sampleRate, '16', pcm);
  }
  wav.setTag('ISFT', `hibiki ${VERSION}`);
  if (comment) wav.setTag('ICMT', comment);
  return wav.toBuffer();
}

/** Writes a WAV file whole or not at all (never a half-written file under its name). */
export function writeWav(path: string, samples: Float32Array, sampleRate: number, format: WavFormat, comment?: string): void {
  writeFileAtomic(path, encodeWav(samples, sampleRate, format, comment), 'WAV file');
}

/** Reads a mono WAV file as samples in [−1, 1]. */
export function readWav(path: string): { samples: Float32Array; sampleRate: number } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new HibikiError('E_IO', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  return decodeWav(bytes, path);
}

/** A mono WAV file's bytes as samples in [−1, 1]; E_BAD_INPUT naming `where` when they are not one. */
export function decodeWav(bytes: Uint8Array, where: string): { samples: Float32Array; sampleRate: number } {
  try {
    const wav = new WaveFile(bytes);
    // Copied out: toBitDepth rebuilds the headers in place.
    const { numChannels, sampleRate } = wav.fmt as { numChannels: number; sampleRate: number };
    if (numChannels !== 1) throw new HibikiError('E_BAD_INPUT', `${where}: ${numChannels} channels, expected mono`);
    wav.toBitDepth('32f');
    const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array;
    return { samples: Float32Array.from(raw), sampleRate };
  } catch (e) {
    if (e instanceof HibikiError) throw e;
    throw new HibikiError('E_BAD_INPUT', `${where}: not a WAV file hibiki can read (${(e as Error).message})`, { cause: e });
  }
}
