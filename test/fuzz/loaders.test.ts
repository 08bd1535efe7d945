// Property-based fuzzing of every loader that reads bytes a user hands us: 10,000 generated inputs
// each — valid files with bytes changed, inserted or cut off, and random bytes — must either load
// or throw a HibikiError (never another exception, never a hang; vitest's timeout bounds the time).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { decodeImage } from '../../src/io/image.js';
import { parseSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { parseTfjsManifest } from '../../src/io/tfjs-manifest.js';
import { decodeWav, encodeWav } from '../../src/io/wav.js';
import { SentencePiece } from '../../src/text/sentencepiece.js';

const CASES = 10_000;
const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../${path}`, import.meta.url)));

/** A valid file with up to 8 bytes overwritten, up to 4 runs inserted, and maybe cut short; or random bytes. */
function damaged(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({
    writes: fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    inserts: fc.array(fc.tuple(fc.nat(base.length), fc.uint8Array({ minLength: 1, maxLength: 16 })), { maxLength: 4 }),
    cut: fc.option(fc.nat(base.length), { freq: 3 }),
  }).map(({ writes, inserts, cut }) => {
    let bytes = base.slice();
    for (const [i, v] of writes) bytes[i] = v;
    for (const [at, run] of inserts.sort((a, b) => b[0] - a[0])) {
      const next = new Uint8Array(bytes.length + run.length);
      next.set(bytes.subarray(0, at));
      next.set(run, at);
      next.set(bytes.subarray(at), at + run.length);
      bytes = next;
    }
    return cut === null ? bytes : bytes.subarray(0, cut);
  });
  return fc.oneof({ weight: 9, arbitrary: edit }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) });
}

/** Runs `load` on CASES inputs; returns how many loaded and how many were refused with a HibikiError. */
function fuzz(name: string, inputs: fc.Arbitrary<Uint8Array>, load: (bytes: Uint8Array) => unknown) {
  let loaded = 0;
  let refused = 0;
  fc.assert(fc.property(inputs, (bytes) => {
    try {
      load(bytes);
      loaded++;
    } catch (e) {
      if (!(e instanceof HibikiError)) throw e;
      refused++;
    }
  }), { numRuns: CASES, seed: 20261128 });
  console.log(`${name}: ${loaded + refused} cases, ${loaded} loaded, ${refused} refused with a HibikiError`);
  return { loaded, refused };
}

describe(`loaders under ${CASES} damaged inputs each`, () => {
  it('safetensors', () => {
    const base = serializeSafetensors([
      { name: 'w', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
      { name: 'ids', shape: [5], data: Int32Array.from([1, 2, 3, 4, 5]) },
    ], { format: 'pt' });
    const r = fuzz('safetensors', damaged(base), (b) => parseSafetensors(b, 'fuzz.safetensors'));
    expect(r.refused).toBeGreaterThan(CASES / 2);
  });

  it('PNG', () => {
    const r = fuzz('PNG', damaged(fixture('../samples/images/digits/3.png')), (b) => decodeImage(b, 'fuzz.png'));
    expect(r.loaded + r.refused).toBe(CASES);
  });

  it('JPEG', () => {
    const pixels = Buffer.alloc(16 * 16 * 4, 0);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 29) % 256;
    const base = new Uint8Array(jpeg.encode({ data: pixels, width: 16, height: 16 }, 80).data);
    const r = fuzz('JPEG', damaged(base), (b) => decodeImage(b, 'fuzz.jpg'));
    expect(r.loaded + r.refused).toBe(CASES);
  });

  it('WAV', () => {
    const base = encodeWav(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i / 3)), 8000, 'pcm16');
    const r = fuzz('WAV', damaged(base), (b) => decodeWav(b, 'fuzz.wav'));
    expect(r.loaded + r.refused).toBe(CASES);
  });

  it('SentencePiece model', () => {
    const base = fixture('fixtures/sentencepiece/unigram_denormalized.model');
    const r = fuzz('SentencePiece', damaged(base), (b) => new SentencePiece(b, 'fuzz.model').encode('a test, ok'));
    expect(r.loaded + r.refused).toBe(CASES);
  });

  it('tfjs weights manifest and shard', () => {
    const manifest = new TextEncoder().encode(JSON.stringify([{ paths: ['shard.bin'], weights: [
      { name: 'a', shape: [2, 2], dtype: 'float32' },
      { name: 'q', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'i', shape: [1], dtype: 'int32' },
    ] }]));
    const shard = new Uint8Array(16 + 3 + 4);
    const r = fuzz('tfjs manifest', damaged(manifest), (b) => {
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(b));
      } catch {
        throw new HibikiError('E_MODEL_FORMAT', 'not JSON'); // the reader's own JSON step, as readTfjsManifest does
      }
      return parseTfjsManifest(json, 'fuzz.json', () => ({ file: 'shard.bin', bytes: shard }));
    });
    const shards = fuzz('tfjs shard', damaged(shard), (b) =>
      parseTfjsManifest(JSON.parse(new TextDecoder().decode(manifest)), 'fuzz.json', () => ({ file: 'shard.bin', bytes: b })));
    expect(r.loaded + r.refused + shards.loaded + shards.refused).toBe(2 * CASES);
  });
});

describe(`config.json readers under ${CASES} damaged configs each`, () => {
  /** A valid config with up to 4 of its keys (or new ones) set to arbitrary JSON values, or deleted. */
  function damagedConfig(base: Record<string, unknown>): fc.Arbitrary<Uint8Array> {
    const keys = [...Object.keys(base), 'extra'];
    return fc.array(fc.tuple(fc.constantFrom(...keys), fc.option(fc.jsonValue({ maxDepth: 2 }), { freq: 5 })), { maxLength: 4 })
      .map((edits) => {
        const config: Record<string, unknown> = { ...base };
        for (const [key, value] of edits) {
          if (value === null) delete config[key];
          else config[key] = value;
        }
        return new TextEncoder().encode(JSON.stringify(config));
      });
  }
  const readers: Array<[string, string, (file: string, c: Record<string, unknown>) => unknown]> = [];

  it('every model architecture’s config reader', async () => {
    const { parseWaveNetConfig } = await import('../../src/models/wavenet.js');
    const { parseTransformerConfig } = await import('../../src/models/transformer.js');
    const { parseDenseNetConfig } = await import('../../src/models/densenet.js');
    const { parseMobileNetV2Config } = await import('../../src/models/mobilenet.js');
    const { parseUNetConfig } = await import('../../src/models/unet.js');
    const { parseImageInput } = await import('../../src/models/image-input.js');
    readers.push(
      ['wavenet', '../../models/wavenet-piano/config.json', parseWaveNetConfig],
      ['transformer', '../../models/translate-en-ja/config.json', parseTransformerConfig],
      ['densenet', '../../models/digits-densenet/config.json', (f, c) => [parseDenseNetConfig(f, c), parseImageInput(f, c.input)]],
      ['unet', '../../models/shapes-unet/config.json', (f, c) => [parseUNetConfig(f, c), parseImageInput(f, c.input)]],
      ['mobilenet_v2', '../../models/digits-densenet/config.json', (f, c) => parseMobileNetV2Config(f, { width_mult: 1, ...c })],
    );
    for (const [name, path, read] of readers) {
      const base = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
      fuzz(`config.json (${name})`, damagedConfig(base), (b) => read('fuzz/config.json', JSON.parse(new TextDecoder().decode(b))));
    }
    expect(readers).toHaveLength(5);
  });
});
