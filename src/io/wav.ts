// WAV files, mono: 16-bit PCM (what every player takes) or 32-bit IEEE float,
// with a LIST/INFO chunk naming the software and its version. Written here,
// chunk by chunk as the RIFF WAVE spec lays them out; read through wavefile.
import { readFileSync } from 'node:fs';
import { VERSION } from '../version.js';
import wavefile from 'wavefile';
import { HibikiError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

// wavefile is CommonJS: its named export type-checks but fails at run time.
const { WaveFile } = wavefile;

/** How samples are stored in a WAV file: 16-bit PCM, or 32-bit IEEE float. */
export type WavFormat = 'pcm16' | 'f32';

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;

/** A RIFF chunk: id, little-endian size, body, and a pad byte when the size is odd (the size excludes it). */
function chunk(id: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(new TextEncoder().encode(id), 0);
  new DataView(out.buffer).setUint32(4, body.length, true);
  out.set(body, 8);
  return out;
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A LIST/INFO text field: NUL-terminated (RIFF ZSTR). */
const infoField = (id: string, text: string) => chunk(id, new TextEncoder().encode(`${text}\0`));

/**
 * The fmt chunk. PCM takes the 16-byte PCMWAVEFORMAT; any other format tag
 * takes WAVEFORMATEX, 18 bytes ending in cbSize (0: no extra bytes), and the
 * file then needs a fact chunk (Microsoft's RIFF spec, 1991, and its 1994
 * update). A 16-byte fmt on a float file is what made sox warn "missing
 * extended part of fmt chunk".
 */
function fmtChunk(format: WavFormat, sampleRate: number): Uint8Array {
  const float = format === 'f32';
  const bytesPerSample = float ? 4 : 2;
  const body = new DataView(new ArrayBuffer(float ? 18 : 16));
  body.setUint16(0, float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  body.setUint16(2, 1, true); // channels
  body.setUint32(4, sampleRate, true);
  body.setUint32(8, sampleRate * bytesPerSample, true); // bytes per second
  body.setUint16(12, bytesPerSample, true); // block align: one frame
  body.setUint16(14, 8 * bytesPerSample, true); // bits per sample
  if (float) body.setUint16(16, 0, true); // cbSize
  return chunk('fmt ', new Uint8Array(body.buffer));
}

export function encodeWav(samples: Float32Array, sampleRate: number, format: WavFormat, comment?: string): Uint8Array {
  const data = new DataView(new ArrayBuffer(samples.length * (format === 'f32' ? 4 : 2)));
  for (let i = 0; i < samples.length; i++) {
    if (format === 'f32') data.setFloat32(4 * i, samples[i]!, true);
    else data.setInt16(2 * i, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), true);
  }
  const fact = new DataView(new ArrayBuffer(4));
  fact.setUint32(0, samples.length, true); // sample frames
  const info = concat([new TextEncoder().encode('INFO'), infoField('ISFT', `hibiki ${VERSION}`), ...(comment ? [infoField('ICMT', comment)] : [])]);
  const body = concat([
    new TextEncoder().encode('WAVE'),
    fmtChunk(format, sampleRate),
    ...(format === 'f32' ? [chunk('fact', new Uint8Array(fact.buffer))] : []),
    chunk('data', new Uint8Array(data.buffer)),
    chunk('LIST', info),
  ]);
  return chunk('RIFF', body);
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
