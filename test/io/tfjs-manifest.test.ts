import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/io/safetensors.js';
import { readTfjsManifest } from '../../src/io/tfjs-manifest.js';
import { expectError } from '../helpers/errors.js';
import { faceReference, repoPath, sha256 } from '../helpers/face-fixture.js';

const MANIFEST = 'ssd_mobilenetv1_model-weights_manifest.json';

interface Spec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: Record<string, unknown>;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A directory with manifest.json (one group, shards named by `paths`) and the given shard files. */
function write(weights: Spec[], shards: Record<string, Uint8Array>, paths = Object.keys(shards)): string {
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-tfjs-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify([{ paths, weights }]));
  for (const [name, bytes] of Object.entries(shards)) writeFileSync(join(dir, name), bytes);
  return join(dir, 'manifest.json');
}

describe('readTfjsManifest on face-api 1.7.15\'s SSD MobileNet V1 manifest', () => {
  // models/face-detector keeps every stored byte (U8 levels, F32 anchors): the shard is rebuilt from it in manifest order.
  const manifest = JSON.parse(readFileSync(repoPath(`test/fixtures/face/${MANIFEST}`), 'utf8')) as Array<{ paths: string[]; weights: Spec[] }>;
  const model = readSafetensors(repoPath('models/face-detector/model.safetensors'));
  const shard = concat(manifest[0]!.weights.map((w) => bytesOf(model.get(w.name).data as Uint8Array | Float32Array)));
  const dir = mkdtempSync(join(tmpdir(), 'hibiki-face-manifest-'));
  writeFileSync(join(dir, MANIFEST), JSON.stringify(manifest));
  writeFileSync(join(dir, manifest[0]!.paths[0]!), shard);

  it('the model directory holds the original shard, byte for byte', () => {
    const config = JSON.parse(readFileSync(repoPath('models/face-detector/config.json'), 'utf8'));
    const original = config.provenance.files.find((f: { name: string }) => f.name.endsWith('.bin'));
    expect([shard.length, sha256(shard)]).toEqual([original.bytes, original.sha256]);
  });

  it('dequantizes exactly as tfjs io.decodeWeights (values recorded by tools/face_api_reference.mjs)', () => {
    const { weights, shards } = readTfjsManifest(join(dir, MANIFEST));
    expect(weights.size).toBe(151);
    expect(shards).toEqual([join(dir, 'ssd_mobilenetv1_model.bin')]);
    for (const want of faceReference().weights) {
      const got = weights.get(want.name)!;
      expect([got.dtype, got.shape], want.name).toEqual([want.dtype, want.shape]);
      expect(Array.from(got.data.subarray(0, 8)), want.name).toEqual(want.head);
      for (const [i, v] of want.at) expect(got.data[i], `${want.name}[${i}]`).toBe(v);
      expect(Array.from(got.data).reduce((a, v) => a + v, 0), `${want.name} sum`).toBe(want.sum);
    }
    const q = weights.get('MobilenetV1/Conv2d_0_pointwise/weights')!.quantization!;
    expect([q.dtype, q.raw.length, q.scale, q.min]).toEqual(['uint8', 864, 0.03948551065781537, -5.014659853542552]);
  });
});

describe('readTfjsManifest', () => {
  const specs: Spec[] = [
    { name: 'f32', shape: [2], dtype: 'float32' },
    { name: 'u8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: -1 } },
    { name: 'u16', shape: [1], dtype: 'int32', quantization: { dtype: 'uint16', scale: 0.5, min: 10 } },
    { name: 'f16', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
  ];
  const shard = concat([
    bytesOf(new Float32Array([1.5, -2])),
    new Uint8Array([0, 10, 255]),
    bytesOf(new Uint16Array([3])),
    bytesOf(new Uint16Array([0x3c00, 0xc500])), // 1, −5
  ]);

  it('decodes float32, uint8 and uint16 levels and float16, shards concatenated in order', () => {
    const file = write(specs, { 'a.bin': shard.subarray(0, 5), 'b.bin': shard.subarray(5) });
    const w = readTfjsManifest(file).weights;
    expect(Array.from(w.get('f32')!.data)).toEqual([1.5, -2]);
    expect(Array.from(w.get('u8')!.data)).toEqual([-1, 0, 24.5].map(Math.fround));
    expect(w.get('u8')!.quantization).toEqual({ dtype: 'uint8', raw: new Uint8Array([0, 10, 255]), scale: 0.1, min: -1 });
    expect(w.get('u16')!.data).toEqual(new Int32Array([12])); // Math.round(3 · 0.5 + 10)
    expect(Array.from(w.get('f16')!.data)).toEqual([1, -5]);
  });

  it('reads the weightsManifest of a model.json', () => {
    const file = write(specs, { 'w.bin': shard });
    writeFileSync(file, JSON.stringify({ format: 'graph-model', weightsManifest: [{ paths: ['w.bin'], weights: specs }] }));
    expect([...readTfjsManifest(file).weights.keys()]).toEqual(['f32', 'u8', 'u16', 'f16']);
  });

  it('names the file and the weight when sizes do not add up', () => {
    expectError(() => readTfjsManifest(write(specs, { 'w.bin': shard.subarray(0, 15) })), 'E_MODEL_FORMAT',
      /w\.bin: weight "f16" needs bytes \[13, 17\) but the shards of group 0 hold 15 bytes \(truncated/);
    expectError(() => readTfjsManifest(write(specs, { 'w.bin': concat([shard, new Uint8Array(3)]) })), 'E_MODEL_FORMAT',
      /w\.bin: the shards of group 0 hold 20 bytes but its weights take 17 \(3 bytes left over after "f16"\)/);
  });

  it('rejects unknown dtypes and malformed entries, naming the weight', () => {
    const bad = (spec: Spec) => write([spec], { 'w.bin': new Uint8Array(8) });
    expectError(() => readTfjsManifest(bad({ name: 'z', shape: [1], dtype: 'complex64' })), 'E_MODEL_FORMAT',
      /manifest\.json: weight "z": unsupported dtype "complex64" \(expected float32 or int32\)/);
    expectError(() => readTfjsManifest(bad({ name: 'q', shape: [8], dtype: 'float32', quantization: { dtype: 'int4' } })), 'E_MODEL_FORMAT',
      /weight "q": unsupported quantization \{"dtype":"int4"\}/);
    expectError(() => readTfjsManifest(bad({ name: 'q', shape: [8], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1 } })), 'E_MODEL_FORMAT',
      /weight "q": uint8 quantization needs finite "scale" and "min"/);
    expectError(() => readTfjsManifest(bad({ name: 'h', shape: [4], dtype: 'int32', quantization: { dtype: 'float16' } })), 'E_MODEL_FORMAT',
      /weight "h": float16 quantization applies to float32 weights only, not int32/);
    expectError(() => readTfjsManifest(bad({ name: 's', shape: [-1], dtype: 'float32' })), 'E_MODEL_FORMAT',
      /weight "s": shape must be an array of non-negative integers, got \[-1\]/);
    expectError(() => readTfjsManifest(write([specs[0]!, specs[0]!], { 'w.bin': new Uint8Array(16) })), 'E_MODEL_FORMAT', /weight "f32" appears twice/);
  });

  it('names missing, absent and escaping shard paths', () => {
    expectError(() => readTfjsManifest(write(specs, {}, ['nope.bin'])), 'E_IO', /manifest\.json: cannot read weights shard .*nope\.bin/);
    const file = write(specs, { 'w.bin': shard });
    writeFileSync(file, JSON.stringify([{ weights: specs }]));
    expectError(() => readTfjsManifest(file), 'E_MODEL_FORMAT', /group 0: "paths" must list one or more shard file names, got undefined/);
    expectError(() => readTfjsManifest(write(specs, {}, ['../w.bin'])), 'E_MODEL_FORMAT', /shard path "\.\.\/w\.bin" must stay inside the manifest's directory/);
    writeFileSync(file, '[{"paths": ');
    expectError(() => readTfjsManifest(file), 'E_MODEL_FORMAT', /manifest\.json: not valid JSON/);
    expectError(() => readTfjsManifest(join(tmpdir(), 'no-such-dir', 'manifest.json')), 'E_IO', /cannot read weights manifest/);
  });
});
