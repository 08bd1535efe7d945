// Property-based fuzzing of every loader that reads bytes a user hands us: 10,000 generated inputs
// each — valid files with bytes changed, inserted or cut off, and random bytes — must either load
// or throw a HibikiError (never another exception, never a hang; vitest's timeout bounds the time).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { HibikiError } from '../../src/errors.js';
import { decodeImage } from '../../src/io/image.js';
import { parsePytorchBin } from '../../src/io/pytorch.js';
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

/** The entries of a small zip (no ZIP64 values), by name, read through its central directory. */
function zipEntries(zip: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.length - 22;
  const out = new Map<string, Uint8Array>();
  for (let i = 0, at = v.getUint32(end + 16, true); i < v.getUint16(end + 10, true); i++) {
    const [nameLength, local] = [v.getUint16(at + 28, true), v.getUint32(at + 42, true)];
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    out.set(new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameLength)), zip.subarray(start, start + v.getUint32(at + 24, true)));
    at += 46 + nameLength + v.getUint16(at + 30, true) + v.getUint16(at + 32, true);
  }
  return out;
}

/** A zip of stored entries with their CRC-32s, as Python's zipfile writes one. */
function storedZip(files: Map<string, Uint8Array>): Uint8Array {
  const crc32 = (bytes: Uint8Array) => {
    let c = -1;
    for (const b of bytes) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ -1) >>> 0;
  };
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const raw = new TextEncoder().encode(name);
    const [local, entry] = [new Uint8Array(30 + raw.length), new Uint8Array(46 + raw.length)];
    const [l, c] = [new DataView(local.buffer), new DataView(entry.buffer)];
    const crc = crc32(data);
    l.setUint32(0, 0x04034b50, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, data.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, raw.length, true);
    c.setUint32(0, 0x02014b50, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, data.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, raw.length, true);
    c.setUint32(42, offset, true);
    local.set(raw, 30);
    entry.set(raw, 46);
    locals.push(local, data);
    central.push(entry);
    offset += local.length + data.length;
  }
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, files.size, true);
  e.setUint16(10, files.size, true);
  e.setUint32(12, central.reduce((n, x) => n + x.length, 0), true);
  e.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...central, end]);
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

  it('pytorch_model.bin', () => {
    const r = fuzz('pytorch_model.bin', damaged(fixture('fixtures/pytorch/hf_state_dict.bin')), (b) => parsePytorchBin(b, 'fuzz.bin'));
    expect(r.refused).toBeGreaterThan(CASES / 2);
  });

  it('pytorch_model.bin\'s pickle, in an archive with the right CRCs', () => {
    // Damage to the whole file mostly stops at a CRC; this reaches the unpickler with every damaged pickle.
    const entries = zipEntries(fixture('fixtures/pytorch/hf_state_dict.bin'));
    const r = fuzz('data.pkl', damaged(entries.get('archive/data.pkl')!), (b) =>
      parsePytorchBin(storedZip(new Map([...entries, ['archive/data.pkl', b]])), 'fuzz.bin'));
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
    const { parseMarianConfig } = await import('../../src/models/marian.js');
    const { parseGenerationConfig } = await import('../../src/decode/hf-config.js');
    const marianConfig = JSON.parse(readFileSync(new URL('../fixtures/marian/shared-swish/config.json', import.meta.url), 'utf8'));
    readers.push(
      ['wavenet', '../../models/wavenet-piano/config.json', parseWaveNetConfig],
      ['transformer', '../../models/translate-en-ja/config.json', parseTransformerConfig],
      ['densenet', '../../models/digits-densenet/config.json', (f, c) => [parseDenseNetConfig(f, c), parseImageInput(f, c.input)]],
      ['unet', '../../models/shapes-unet/config.json', (f, c) => [parseUNetConfig(f, c), parseImageInput(f, c.input)]],
      ['mobilenet_v2', '../../models/digits-densenet/config.json', (f, c) => parseMobileNetV2Config(f, { width_mult: 1, ...c })],
      ['marian', '../fixtures/marian/shared-swish/config.json', parseMarianConfig],
      ['marian generation_config.json', '../fixtures/marian/shared-swish/generation_config.json', (f, c) => parseGenerationConfig(f, c, marianConfig)],
    );
    for (const [name, path, read] of readers) {
      const base = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
      fuzz(`config.json (${name})`, damagedConfig(base), (b) => read('fuzz/config.json', JSON.parse(new TextDecoder().decode(b))));
    }
    expect(readers).toHaveLength(7);
  });
});
