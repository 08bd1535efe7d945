/**
 * Reader for TensorFlow.js weights: a manifest (`*-weights_manifest.json`, or
 * the `weightsManifest` of a model.json) and the binary shards it names.
 *
 *   [ { "paths": ["shard1", …], "weights": [ { "name", "shape", "dtype",
 *        "quantization"?: { "dtype": "uint8" | "uint16" | "float16", "scale", "min" } }, … ] }, … ]
 *
 * Each group's shards, concatenated in order, hold its weights back to back
 * in manifest order, little-endian. Quantized weights take 1 (uint8) or 2
 * (uint16, float16) bytes a value; they are dequantized exactly as tfjs's
 * `io.decodeWeights`: float32 ← float32(q · scale + min) with scale and min
 * the manifest's doubles, int32 ← Math.round(q · scale + min), float16 →
 * float32. Validation is strict: every size must add up, and each error names
 * the file and the weight.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { HibikiError, modelFormat } from '../errors.js';
import { firstNonFinite } from './safetensors.js';

export type TfjsDType = 'float32' | 'int32';
export type TfjsQuantizationDType = 'uint8' | 'uint16' | 'float16';

/** One weight, dequantized; quantized ones keep their stored form too. */
export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: TfjsDType;
  /** The values as tfjs would hold them. */
  data: Float32Array | Int32Array;
  quantization?: {
    dtype: TfjsQuantizationDType;
    /** The stored values (uint8 / uint16 levels, or float16 bits). */
    raw: Uint8Array | Uint16Array;
    /** The manifest's scale and min (absent for float16). */
    scale?: number;
    min?: number;
  };
}

export interface TfjsWeights {
  /** The manifest path, for messages. */
  file: string;
  /** By name, in manifest order. */
  weights: Map<string, TfjsWeight>;
  /** The shard files, resolved, in manifest order. */
  shards: string[];
}

const DTYPE_BYTES: Record<TfjsDType, number> = { float32: 4, int32: 4 };
const QUANTIZED_BYTES: Record<TfjsQuantizationDType, number> = { uint8: 1, uint16: 2, float16: 2 };

interface Entry {
  name: string;
  shape: number[];
  dtype: TfjsDType;
  quantization?: { dtype: TfjsQuantizationDType; scale?: number; min?: number };
  bytes: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a manifest and its shards (paths relative to the manifest's directory). */
export function readTfjsManifest(manifestPath: string): TfjsWeights {
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (cause) {
    throw new HibikiError('E_IO', `${manifestPath}: cannot read weights manifest: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw modelFormat(manifestPath, `not valid JSON (${(cause as Error).message})`);
  }
  // A model.json carries the manifest as its weightsManifest.
  const manifest = isObject(json) && 'weightsManifest' in json ? json.weightsManifest : json;
  const dir = dirname(manifestPath);
  return parseTfjsManifest(manifest, manifestPath, (path) => {
    const file = join(dir, path);
    try {
      return { file, bytes: readFileSync(file) };
    } catch (cause) {
      throw new HibikiError('E_IO', `${manifestPath}: cannot read weights shard ${file}: ${(cause as Error).message}`, { cause });
    }
  });
}

/**
 * Decodes a parsed manifest, fetching each shard through `shard(path)`.
 * `file` names the manifest in messages.
 */
export function parseTfjsManifest(
  manifest: unknown, file: string, shard: (path: string) => { file: string; bytes: Uint8Array },
): TfjsWeights {
  const fail = (message: string) => modelFormat(file, message);
  if (!Array.isArray(manifest) || manifest.length === 0) throw fail('expected a non-empty JSON array of weight groups');
  const weights = new Map<string, TfjsWeight>();
  const shards: string[] = [];
  manifest.forEach((group: unknown, g) => {
    if (!isObject(group)) throw fail(`group ${g} must be an object with "paths" and "weights"`);
    const { paths, weights: specs } = group;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p !== '')) {
      throw fail(`group ${g}: "paths" must list one or more shard file names, got ${JSON.stringify(paths)}`);
    }
    for (const p of paths as string[]) {
      if (isAbsolute(p) || normalize(p).split(sep)[0] === '..') {
        throw fail(`group ${g}: shard path "${p}" must stay inside the manifest's directory`);
      }
    }
    if (!Array.isArray(specs)) throw fail(`group ${g}: "weights" must be an array`);
    const entries = specs.map((spec, i) => parseEntry(spec, `group ${g}, weight ${i}`, fail));
    const loaded = (paths as string[]).map(shard);
    shards.push(...loaded.map((s) => s.file));
    const data = concat(loaded.map((s) => s.bytes));
    const where = loaded.map((s) => s.file).join(' + ');
    let offset = 0;
    for (const e of entries) {
      if (weights.has(e.name)) throw fail(`weight "${e.name}" appears twice`);
      if (offset + e.bytes > data.length) {
        throw modelFormat(where, `weight "${e.name}" needs bytes [${offset}, ${offset + e.bytes}) but the shards of group ${g} hold ${data.length} bytes (truncated, or the manifest does not match)`);
      }
      const weight = decode(e, data.subarray(offset, offset + e.bytes));
      const bad = weight.data instanceof Float32Array ? firstNonFinite(weight.data) : -1;
      if (bad >= 0) throw modelFormat(where, `weight "${e.name}" holds ${weight.data[bad]} at index ${bad}: weights must be finite numbers`);
      weights.set(e.name, weight);
      offset += e.bytes;
    }
    if (offset !== data.length) {
      throw modelFormat(where, `the shards of group ${g} hold ${data.length} bytes but its weights take ${offset} (${data.length - offset} bytes left over after "${entries.at(-1)?.name ?? 'no weight'}")`);
    }
  });
  return { file, weights, shards };
}

function parseEntry(spec: unknown, at: string, fail: (m: string) => HibikiError): Entry {
  if (!isObject(spec) || typeof spec.name !== 'string' || spec.name === '') throw fail(`${at}: expected an object with a "name" string`);
  const { name, shape, dtype, quantization } = spec;
  const bad = (message: string) => fail(`weight "${name}": ${message}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw bad(`unsupported dtype ${JSON.stringify(dtype)} (expected ${Object.keys(DTYPE_BYTES).join(' or ')})`);
  }
  const count = (shape as number[]).reduce((n, d) => n * d, 1);
  if (!Number.isSafeInteger(count * 4)) throw bad(`shape ${JSON.stringify(shape)} is too large`);
  const entry: Entry = { name, shape: shape as number[], dtype: dtype as TfjsDType, bytes: count * DTYPE_BYTES[dtype as TfjsDType] };
  if (quantization === undefined) return entry;
  if (!isObject(quantization) || typeof quantization.dtype !== 'string' || !Object.hasOwn(QUANTIZED_BYTES, quantization.dtype)) {
    throw bad(`unsupported quantization ${JSON.stringify(quantization)} (expected dtype ${Object.keys(QUANTIZED_BYTES).join(', ')})`);
  }
  const q = quantization.dtype as TfjsQuantizationDType;
  entry.bytes = count * QUANTIZED_BYTES[q];
  if (q === 'float16') {
    if (dtype !== 'float32') throw bad(`float16 quantization applies to float32 weights only, not ${dtype}`);
    entry.quantization = { dtype: q };
    return entry;
  }
  const { scale, min } = quantization;
  if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
    throw bad(`${q} quantization needs finite "scale" and "min", got ${JSON.stringify(quantization)}`);
  }
  entry.quantization = { dtype: q, scale, min };
  return entry;
}

function concat(parts: Uint8Array[]): Uint8Array {
  // A plain view: a Buffer's slice() would not copy, a Uint8Array's does.
  if (parts.length === 1) return new Uint8Array(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.byteLength);
  const joined = Buffer.concat(parts);
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

/** IEEE half bits → value. */
function half(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const magnitude = exponent === 0 ? (h & 0x3ff) * 2 ** -24
    : exponent === 31 ? ((h & 0x3ff) ? NaN : Infinity)
    : (1024 + (h & 0x3ff)) * 2 ** (exponent - 25);
  return h & 0x8000 ? -magnitude : magnitude;
}

function decode(e: Entry, bytes: Uint8Array): TfjsWeight {
  // slice() copies to a fresh, aligned buffer: shards put weights at any byte offset.
  const own = bytes.slice();
  const { name, shape, dtype, quantization: q } = e;
  if (!q) {
    const data = dtype === 'float32' ? new Float32Array(own.buffer) : new Int32Array(own.buffer);
    return { name, shape, dtype, data };
  }
  const raw = q.dtype === 'uint8' ? own : new Uint16Array(own.buffer);
  if (q.dtype === 'float16') return { name, shape, dtype, data: Float32Array.from(raw, half), quantization: { dtype: q.dtype, raw } };
  const { scale, min } = q as { scale: number; min: number };
  const data = dtype === 'float32'
    ? Float32Array.from(raw, (v) => v * scale + min)
    : Int32Array.from(raw, (v) => Math.round(v * scale + min));
  return { name, shape, dtype, data, quantization: { dtype: q.dtype, raw, scale, min } };
}
