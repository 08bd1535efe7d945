/**
 * Reader and writer for the Hugging Face safetensors format:
 *
 *   [u64 little-endian N] [N bytes of UTF-8 JSON header] [data buffer]
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }`
 * (offsets relative to the data buffer) plus an optional `__metadata__` object of
 * strings. Validation follows the reference Rust implementation, including its rule
 * that the tensors must tile the data buffer exactly: no overlaps, holes or trailing bytes.
 *
 * Typed arrays use host byte order; the file is little-endian, as are all hosts Node
 * supports in practice, so same-width data is copied byte for byte.
 */
import { readFileSync } from 'node:fs';
import { HibikiError, badInput, modelFormat, shapeError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import type { WeightsFile } from './weights.js';

/** The element types of the safetensors format, by its names. */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Decoded tensor data: floats widen/narrow to f32, small ints widen to i32, I64 stays 64-bit. */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * One tensor. `dtype` is the dtype stored in the file; `data` is its decoded form:
 * F32/F16/BF16/F64 → Float32Array, I32/I16/I8 → Int32Array, I64 → BigInt64Array,
 * U8/BOOL → Uint8Array. `data` is always a fresh, aligned copy.
 */
export interface SafeTensor {
  name: string;
  dtype: DType;
  shape: number[];
  data: TensorData;
}

/** A tensor to write. `dtype` defaults to the natural dtype of `data` (F32, I32, I64 or U8). */
export interface TensorInput {
  name: string;
  dtype?: DType;
  shape: number[];
  data: TensorData;
}

/** Bytes per element as stored. */
export const DTYPE_BYTES: Record<DType, number> = {
  F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Same cap as the reference implementation; guards against absurd allocations. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** The parsed contents of a safetensors file. */
export class SafeTensorsFile implements WeightsFile {
  constructor(
    /** Path or label used in error messages. */
    readonly file: string,
    /** The tensors by name, in the order of the header. */
    readonly tensors: Map<string, SafeTensor>,
    /** The header's `__metadata__` (string values only, as the format has them). */
    readonly metadata: Record<string, string>,
  ) {}

  /** The tensor called `name`; throws E_MODEL_FORMAT naming the file and tensor if absent. */
  get(name: string): SafeTensor {
    const tensor = this.tensors.get(name);
    if (tensor) return tensor;
    const known = [...this.tensors.keys()];
    const listed = known.slice(0, 10).map((n) => `"${n}"`).join(', ') + (known.length > 10 ? ', ...' : '');
    throw modelFormat(this.file, `missing tensor "${name}" (file has ${known.length}: ${listed || 'none'})`);
  }

  /**
   * The values of float tensor `name`, which must have `shape`; E_MODEL_FORMAT
   * otherwise, naming the tensor and `source`, where the expected shape came from.
   */
  floats(name: string, shape: readonly number[], source = 'config.json'): Float32Array {
    const t = this.get(name);
    if (!(t.data instanceof Float32Array) || t.shape.join() !== shape.join()) {
      throw modelFormat(this.file, `${name} is ${t.dtype} [${t.shape.join(', ')}], expected a float tensor [${shape.join(', ')}] (${source})`);
    }
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw modelFormat(this.file, `${name} holds ${t.data[bad]} at index ${bad}: weights must be finite numbers`);
    return t.data;
  }
}

/**
 * The index of the first NaN or ±∞ in `x`, or −1. A model with one computes
 * garbage without failing (NaN% classes, 100 faces at score 1, full-scale DC
 * audio), so loaders refuse it, naming the tensor.
 */
export function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (x[i]! - x[i]! !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN
  return -1;
}

/** Reads and parses a safetensors file; E_IO if it cannot be read, E_MODEL_FORMAT if malformed. */
export function readSafetensors(path: string): SafeTensorsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new HibikiError('E_IO', `${path}: cannot read safetensors file: ${(err as Error).message}`, { cause: err });
  }
  // The bytes are this call's own, so float tensors are views of them: a model's weights go from the file
  // into linear memory without a second copy (a 300 MB checkpoint would need 600 MB to open otherwise).
  return parseSafetensors(bytes, path, { views: true });
}

/**
 * Parses an in-memory safetensors file. `file` labels error messages.
 * Throws E_MODEL_FORMAT describing the first problem found. Tensors are
 * copies of `bytes`; with `views`, float32 ones are views of them (for bytes
 * the caller will not change).
 */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>', options: { views?: boolean } = {}): SafeTensorsFile {
  // A plain view: Buffer.prototype.slice does not copy, Uint8Array's does.
  const input = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (message: string) => modelFormat(file, message);

  if (input.length < 8) throw fail(`file is ${input.length} bytes; expected at least 8 for the header length`);
  // Checked as a bigint before use, so a corrupt length never drives an allocation.
  const declared = new DataView(input.buffer, input.byteOffset, 8).getBigUint64(0, true);
  if (declared === 0n) throw fail('header length is 0; expected a JSON header');
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${declared} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const headerLength = Number(declared);
  if (8 + headerLength > input.length) {
    throw fail(`header length ${headerLength} runs past the end of the file (${input.length - 8} bytes follow the length)`);
  }

  const header = parseHeader(input.subarray(8, 8 + headerLength), fail);
  const data = input.subarray(8 + headerLength);

  let metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: DType; shape: number[]; begin: number; end: number }> = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = parseMetadata(entry, fail);
    else entries.push({ name, ...parseEntry(name, entry, data.length, fail) });
  }
  checkCoverage(entries, data.length, fail);

  const tensors = new Map<string, SafeTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    tensors.set(name, { name, dtype, shape, data: decodeTensorData(dtype, data.subarray(begin, end), options.views) });
  }
  return new SafeTensorsFile(file, tensors, metadata);
}

type Fail = (message: string) => HibikiError;

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function parseHeader(raw: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw fail(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail(`header must be a JSON object, found ${kindOf(header)}`);
  }
  return header as Record<string, unknown>;
}

function parseMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(`${METADATA_KEY} must be an object of strings, found ${kindOf(value)}`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw fail(`${METADATA_KEY}["${key}"] must be a string, found ${kindOf(item)}`);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function parseEntry(name: string, entry: unknown, dataLength: number, fail: Fail) {
  const bad = (message: string) => fail(`tensor "${name}": ${message}`);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw bad(`expected an object with dtype, shape and data_offsets, found ${kindOf(entry)}`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;

  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw bad(`unknown dtype ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
  }
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw bad(`shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`);
  }
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [];
  if (!isCount(begin) || !isCount(end) || begin > end) {
    throw bad(`data_offsets must be [begin, end] with integers 0 <= begin <= end, found ${JSON.stringify(offsets)}`);
  }
  const type = dtype as DType;
  // BigInt: a hostile shape's element count can exceed 2^53.
  const expected = shape.reduce((n: bigint, d: number) => n * BigInt(d), 1n) * BigInt(DTYPE_BYTES[type]);
  if (expected !== BigInt(end - begin)) {
    throw bad(`shape ${JSON.stringify(shape)} of ${type} needs ${expected} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataLength) throw bad(`data_offsets end ${end} is past the end of the ${dataLength}-byte data buffer`);
  return { dtype: type, shape: [...shape] as number[], begin, end };
}

/** The tensors must tile the data buffer exactly, as the reference implementation requires. */
function checkCoverage(entries: Array<{ name: string; begin: number; end: number }>, dataLength: number, fail: Fail) {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: { name: string; begin: number; end: number } | undefined;
  for (const t of sorted) {
    if (t.begin < covered) {
      throw fail(`tensors "${previous!.name}" [${previous!.begin}, ${previous!.end}] and "${t.name}" [${t.begin}, ${t.end}] overlap`);
    }
    if (t.begin > covered) {
      const after = previous ? `after "${previous.name}" (ends at ${covered})` : 'at the start of the data buffer';
      throw fail(`data buffer has ${t.begin - covered} unused bytes ${after}, before "${t.name}" (begins at ${t.begin})`);
    }
    covered = t.end;
    previous = t;
  }
  if (covered < dataLength) {
    throw fail(`data buffer has ${dataLength - covered} trailing bytes not covered by any tensor (tensors end at ${covered})`);
  }
}

/**
 * Little-endian elements of `dtype` → their decoded form (see SafeTensor), a
 * fresh copy; with `view`, F32 at a 4-byte-aligned offset is a view of
 * `raw`'s bytes instead (for bytes nobody else holds: readSafetensors').
 */
export function decodeTensorData(dtype: DType, raw: Uint8Array, view = false): TensorData {
  const data = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.length / DTYPE_BYTES[dtype];
  // slice() copies into a fresh buffer at offset 0, which fixes alignment.
  switch (dtype) {
    case 'F32': return view && raw.byteOffset % 4 === 0 ? new Float32Array(raw.buffer, raw.byteOffset, n) : new Float32Array(raw.slice().buffer);
    case 'I32': return new Int32Array(raw.slice().buffer);
    case 'I64': return new BigInt64Array(raw.slice().buffer);
    case 'U8':
    case 'BOOL': return raw.slice();
    case 'I8': return Int32Array.from(new Int8Array(raw.buffer, raw.byteOffset, n));
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = data.getInt16(2 * i, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = data.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const table = f16Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[data.getUint16(2 * i, true)]!;
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = data.getUint16(2 * i, true) << 16;
      return out;
    }
  }
}

/**
 * Converts an integer tensor to Int32Array. I64 values are range-checked; an
 * out-of-range value throws E_MODEL_FORMAT naming the tensor. Float tensors throw E_BAD_INPUT.
 */
export function toInt32(tensor: SafeTensor): Int32Array {
  const { name, data } = tensor;
  if (data instanceof Int32Array) return data;
  if (data instanceof Float32Array) throw badInput(`tensor "${name}": expected an integer tensor, found ${tensor.dtype}`);
  if (data instanceof Uint8Array) return Int32Array.from(data);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < -2147483648n || v > 2147483647n) {
      throw new HibikiError('E_MODEL_FORMAT', `tensor "${name}": value ${v} at index ${i} does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/**
 * Serializes tensors, in the order given, into safetensors bytes. Float32Array data
 * can be written as F32, F16, BF16 (round-to-nearest-even) or F64; Int32Array as I32,
 * I64, I16 or I8 (range-checked); BigInt64Array as I64; Uint8Array as U8 or BOOL (0/1).
 * Throws E_BAD_INPUT / E_SHAPE for inputs that cannot be written.
 */
export function serializeSafetensors(tensors: TensorInput[], metadata?: Record<string, string>): Uint8Array {
  // Null prototype: a tensor named "__proto__" must become a key, not a prototype.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw badInput(`metadata["${key}"] must be a string, found ${kindOf(value)}`);
    }
    header[METADATA_KEY] = metadata;
  }

  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    const { name, shape, data } = tensor;
    const dtype = tensor.dtype ?? naturalDType(data);
    if (name === METADATA_KEY || Object.hasOwn(header, name)) throw badInput(`tensor name "${name}" is reserved or used twice`);
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw shapeError(`tensor "${name}": shape must be non-negative integers, found ${JSON.stringify(shape)}`);
    }
    const count = shape.reduce((n, d) => n * d, 1);
    if (count !== data.length) {
      throw shapeError(`tensor "${name}": shape ${JSON.stringify(shape)} has ${count} elements but data has ${data.length}`);
    }
    const encoded = encode(name, dtype, data);
    const chunk = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    header[name] = { dtype, shape, data_offsets: [offset, offset + chunk.length] };
    chunks.push(chunk);
    offset += chunk.length;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  // Space padding keeps the data buffer 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

/**
 * Writes a safetensors file atomically: the bytes go to a temporary file in the same
 * directory, are synced, then renamed over `path`, so `path` never holds a partial file.
 */
export function writeSafetensors(path: string, tensors: TensorInput[], metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata), 'safetensors file');
}

function naturalDType(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  return 'U8';
}

function encode(name: string, dtype: DType, data: TensorData): ArrayBufferView {
  if (data instanceof Float32Array) {
    switch (dtype) {
      case 'F32': return data;
      case 'F64': return Float64Array.from(data);
      case 'F16': return Uint16Array.from(data, f32ToF16);
      case 'BF16': return Uint16Array.from(data, f32ToBf16);
    }
  } else if (data instanceof Int32Array) {
    switch (dtype) {
      case 'I32': return data;
      case 'I64': return BigInt64Array.from(data, (v) => BigInt(v));
      case 'I16': return Int16Array.from(checkRange(name, dtype, data, -32768, 32767));
      case 'I8': return Int8Array.from(checkRange(name, dtype, data, -128, 127));
    }
  } else if (data instanceof BigInt64Array) {
    if (dtype === 'I64') return data;
  } else if (data instanceof Uint8Array) {
    if (dtype === 'U8') return data;
    if (dtype === 'BOOL') return checkRange(name, dtype, data, 0, 1);
  }
  throw badInput(`tensor "${name}": cannot write ${data.constructor.name} as ${dtype}`);
}

function checkRange<T extends Int32Array | Uint8Array>(name: string, dtype: DType, data: T, min: number, max: number): T {
  const i = data.findIndex((v) => v < min || v > max);
  if (i >= 0) throw badInput(`tensor "${name}": value ${data[i]} at index ${i} is outside the ${dtype} range [${min}, ${max}]`);
  return data;
}

// ---------------------------------------------------------------------------
// Half-precision conversions
// ---------------------------------------------------------------------------

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

let f16Lookup: Float32Array | undefined;

/** All 65536 half values, built once: a table lookup beats per-element bit decoding. */
function f16Table(): Float32Array {
  if (f16Lookup) return f16Lookup;
  f16Lookup = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    f16Lookup[h] =
      exponent === 0 ? sign * fraction * 2 ** -24
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
      : sign * (1024 + fraction) * 2 ** (exponent - 25);
  }
  return f16Lookup;
}

/** f32 → IEEE half bits, round-to-nearest-even; overflow → ±Infinity, NaN stays NaN. */
function f32ToF16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const rawExponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (rawExponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const exponent = rawExponent - 127 + 15;
  if (exponent >= 31) return sign | 0x7c00;
  if (exponent >= 1) {
    // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
    return sign | roundShift((exponent << 23) | mantissa, 13);
  }
  // Subnormal half: value in units of 2^-24 is (1.mantissa << 23) >> (14 - exponent).
  const shift = 14 - exponent;
  return shift > 24 ? sign : sign | roundShift(mantissa | 0x800000, shift);
}

/** f32 → bfloat16 bits (the upper half of the f32), round-to-nearest-even. */
function f32ToBf16(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40; // keep NaN a (quiet) NaN
  return roundShift(x, 16);
}

/** `bits >> shift` rounded to nearest, ties to even; `bits` < 2^32, 1 <= shift <= 24. */
function roundShift(bits: number, shift: number): number {
  const kept = Math.floor(bits / 2 ** shift);
  const rest = bits - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && kept & 1) ? kept + 1 : kept;
}
