import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HibikiError, type ErrorCode } from '../../src/errors.js';
import {
  MAX_HEADER_BYTES,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  toInt32,
  writeSafetensors,
  type DType,
  type TensorData,
} from '../../src/io/safetensors.js';

const FILE = 'bad.safetensors';
const BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

const values = (data: TensorData): Array<number | bigint> => Array.from(data as ArrayLike<number | bigint>);

/** Builds a file by hand: u64 LE header length, the header text as given (no padding), the data. */
function build(header: unknown, data: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** A file whose first 8 bytes declare `length`, followed by `rest` arbitrary bytes. */
function withDeclaredLength(length: bigint, rest: number): Uint8Array {
  const out = new Uint8Array(8 + rest).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, length, true);
  return out;
}

/** Splits serialized bytes into header length, parsed header and data buffer. */
function split(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
  return { headerLength, headerText, header: JSON.parse(headerText), data: bytes.subarray(8 + headerLength) };
}

function u16s(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 2 }, (_, i) => view.getUint16(2 * i, true));
}

function u16Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, v, true));
  return out;
}

function catchError(fn: () => unknown): HibikiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HibikiError);
    return err as HibikiError;
  }
  throw new Error('expected a HibikiError, nothing was thrown');
}

function expectError(fn: () => unknown, code: ErrorCode, ...fragments: string[]): HibikiError {
  const err = catchError(fn);
  expect(err.code).toBe(code);
  for (const fragment of fragments) expect(err.message).toContain(fragment);
  return err;
}

const expectFormatError = (bytes: Uint8Array, ...fragments: string[]) =>
  expectError(() => parseSafetensors(bytes, FILE), 'E_MODEL_FORMAT', FILE, ...fragments);

/** Serializes one tensor and returns its raw encoded bytes from the data buffer. */
function encoded(dtype: DType, values: number[]): Uint8Array {
  const bytes = serializeSafetensors([{ name: 'x', dtype, shape: [values.length], data: Float32Array.from(values) }]);
  return split(bytes).data;
}

describe('round trip', () => {
  const cases: Array<{ dtype: DType; data: TensorData; expected?: TensorData }> = [
    { dtype: 'F32', data: Float32Array.of(1.5, -2.25, 3.4028234663852886e38, -0, Infinity, 2 ** -149) },
    { dtype: 'F16', data: Float32Array.of(1, -2, 65504, 2 ** -24, 0.5, -Infinity) },
    { dtype: 'BF16', data: Float32Array.of(1, -2, 3.140625, 2 ** -133, -0, Infinity) },
    { dtype: 'F64', data: Float32Array.of(Math.fround(0.1), -7, Math.fround(1e30), 2 ** -149, 0, NaN) },
    { dtype: 'I64', data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -5n, 1n, 2n ** 40n) },
    {
      dtype: 'I64',
      data: Int32Array.of(-2147483648, 2147483647, 0, -1, 1, 7),
      expected: BigInt64Array.of(-2147483648n, 2147483647n, 0n, -1n, 1n, 7n),
    },
    { dtype: 'I32', data: Int32Array.of(-2147483648, 2147483647, 0, -1, 1, 7) },
    { dtype: 'I16', data: Int32Array.of(-32768, 32767, 0, -1, 1, 7) },
    { dtype: 'I8', data: Int32Array.of(-128, 127, 0, -1, 1, 7) },
    { dtype: 'U8', data: Uint8Array.of(0, 255, 128, 1, 2, 3) },
    { dtype: 'BOOL', data: Uint8Array.of(0, 1, 1, 0, 1, 0) },
  ];

  it.each(cases)('$dtype from $data.constructor.name', ({ dtype, data, expected }) => {
    const bytes = serializeSafetensors([{ name: 'weight', dtype, shape: [2, 3], data }]);
    const { header } = split(bytes);
    expect(header.weight).toEqual({ dtype, shape: [2, 3], data_offsets: [0, 6 * BYTES[dtype]] });

    const tensor = parseSafetensors(bytes).get('weight');
    expect(tensor.name).toBe('weight');
    expect(tensor.dtype).toBe(dtype);
    expect(tensor.shape).toEqual([2, 3]);
    expect(tensor.data).toEqual(expected ?? data);
  });

  it('infers F32, I32, I64 and U8 from the data type when dtype is omitted', () => {
    const bytes = serializeSafetensors([
      { name: 'f', shape: [1], data: Float32Array.of(2) },
      { name: 'i', shape: [1], data: Int32Array.of(-3) },
      { name: 'l', shape: [1], data: BigInt64Array.of(4n) },
      { name: 'u', shape: [1], data: Uint8Array.of(5) },
    ]);
    const file = parseSafetensors(bytes);
    expect([...file.tensors.values()].map((t) => [t.dtype, values(t.data)])).toEqual([
      ['F32', [2]],
      ['I32', [-3]],
      ['I64', [4n]],
      ['U8', [5]],
    ]);
  });

  it('reads and writes empty tensors and scalars', () => {
    const bytes = serializeSafetensors([
      { name: 'empty', shape: [0], data: new Float32Array(0) },
      { name: 'scalar', shape: [], data: Float32Array.of(3.5) },
      { name: 'empty2d', dtype: 'I64', shape: [2, 0], data: new BigInt64Array(0) },
      { name: 'halfEmpty', dtype: 'F16', shape: [0], data: new Float32Array(0) },
      { name: 'intScalar', dtype: 'I64', shape: [], data: BigInt64Array.of(-9n) },
    ]);
    const { header } = split(bytes);
    expect(header.empty.data_offsets).toEqual([0, 0]);
    expect(header.scalar.data_offsets).toEqual([0, 4]);
    expect(header.empty2d.data_offsets).toEqual([4, 4]);
    expect(header.intScalar.data_offsets).toEqual([4, 12]);

    const file = parseSafetensors(bytes);
    expect(file.get('empty')).toEqual({ name: 'empty', dtype: 'F32', shape: [0], data: new Float32Array(0) });
    expect(file.get('scalar')).toEqual({ name: 'scalar', dtype: 'F32', shape: [], data: Float32Array.of(3.5) });
    expect(file.get('empty2d')).toEqual({ name: 'empty2d', dtype: 'I64', shape: [2, 0], data: new BigInt64Array(0) });
    expect(file.get('halfEmpty').data).toEqual(new Float32Array(0));
    expect(file.get('intScalar').data).toEqual(BigInt64Array.of(-9n));
  });

  it('round-trips metadata, including non-ASCII text', () => {
    const metadata = { format: 'pt', note: 'ひびき — ünïcode', empty: '' };
    const bytes = serializeSafetensors([{ name: 'w', shape: [1], data: Float32Array.of(1) }], metadata);
    expect(split(bytes).header.__metadata__).toEqual(metadata);
    expect(parseSafetensors(bytes).metadata).toEqual(metadata);
  });

  it('omits __metadata__ when there is none and reads it back as {}', () => {
    const bytes = serializeSafetensors([{ name: 'w', shape: [1], data: Float32Array.of(1) }]);
    expect(Object.keys(split(bytes).header)).toEqual(['w']);
    expect(parseSafetensors(bytes).metadata).toEqual({});
  });

  it('keeps a tensor named "__proto__" as an ordinary tensor', () => {
    const bytes = serializeSafetensors([{ name: '__proto__', shape: [1], data: Float32Array.of(6) }]);
    expect(parseSafetensors(bytes).get('__proto__').data).toEqual(Float32Array.of(6));
  });
});

describe('serialized layout', () => {
  it('pads the header with spaces to an 8-byte boundary and writes tensors contiguously in the order given', () => {
    const bytes = serializeSafetensors([
      { name: 'zeta', shape: [1], data: Float32Array.of(1) },
      { name: 'alpha', dtype: 'I64', shape: [1], data: BigInt64Array.of(258n) },
      { name: 'mid', shape: [3], data: Uint8Array.of(9, 8, 7) },
    ]);
    const { headerLength, headerText, header, data } = split(bytes);
    expect(headerLength % 8).toBe(0);
    expect(headerText.trimEnd().length).toBeGreaterThan(headerLength - 8);
    expect(headerText.slice(headerText.trimEnd().length)).toMatch(/^ *$/);
    expect(Object.keys(header)).toEqual(['zeta', 'alpha', 'mid']);
    expect(header.zeta.data_offsets).toEqual([0, 4]);
    expect(header.alpha.data_offsets).toEqual([4, 12]);
    expect(header.mid.data_offsets).toEqual([12, 15]);
    expect(Array.from(data)).toEqual([0, 0, 0x80, 0x3f, 2, 1, 0, 0, 0, 0, 0, 0, 9, 8, 7]);
    expect(bytes.length).toBe(8 + headerLength + 15);
  });
});

describe('half-precision decoding', () => {
  it('decodes F16 bit patterns exactly, including subnormals, infinities and NaN', () => {
    const patterns = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x0000, 0x3555, 0x7e00, 0xfc01];
    const bytes = build({ h: { dtype: 'F16', shape: [patterns.length], data_offsets: [0, patterns.length * 2] } }, u16Bytes(patterns));
    expect(values(parseSafetensors(bytes).get('h').data)).toEqual([
      1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity, -0, 0, 0.333251953125, NaN, NaN,
    ]);
  });

  it('decodes BF16 as the upper 16 bits of an f32', () => {
    const patterns = [0x3f80, 0xc000, 0x7f80, 0xff80, 0x4049, 0x0001, 0x8000, 0x7fc0, 0x7f7f];
    const bytes = build({ b: { dtype: 'BF16', shape: [patterns.length], data_offsets: [0, patterns.length * 2] } }, u16Bytes(patterns));
    expect(values(parseSafetensors(bytes).get('b').data)).toEqual([
      1, -2, Infinity, -Infinity, 3.140625, 2 ** -133, -0, NaN, 255 * 2 ** 120,
    ]);
  });
});

describe('half-precision encoding (round to nearest, ties to even)', () => {
  it('encodes F16 bit patterns', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [2 ** -14, 0x0400],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [-0, 0x8000],
      [0, 0x0000],
      [0.1, 0x2e66],
      [1 + 2 ** -11, 0x3c00], // tie → even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // tie → even (up)
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
      [65519, 0x7bff], // below the overflow tie
      [65520, 0x7c00], // overflow tie rounds to even, i.e. Infinity
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -25, 0x0000], // subnormal tie → even (zero)
      [3 * 2 ** -26, 0x0001], // 0.75 units
      [3 * 2 ** -25, 0x0002], // 1.5 units → 2
      [5 * 2 ** -25, 0x0002], // 2.5 units → 2
      [2 ** -14 - 2 ** -25, 0x0400], // subnormal rounds up into the smallest normal
      [-(2 ** -24), 0x8001],
      [1e-10, 0x0000],
      [2 ** -149, 0x0000], // f32 subnormal
    ];
    expect(u16s(encoded('F16', cases.map(([v]) => v)))).toEqual(cases.map(([, bits]) => bits));
  });

  it('encodes NaN as an F16 NaN', () => {
    const [bits] = u16s(encoded('F16', [NaN]));
    expect(bits! & 0x7c00).toBe(0x7c00);
    expect(bits! & 0x03ff).not.toBe(0);
  });

  it('encodes BF16 bit patterns', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3f80],
      [-2, 0xc000],
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [-0, 0x8000],
      [0.1, 0x3dcd], // f32 0x3DCCCCCD rounds up
      [1 + 2 ** -8, 0x3f80], // tie → even (down)
      [1 + 3 * 2 ** -8, 0x3f82], // tie → even (up)
      [1 + 2 ** -8 + 2 ** -16, 0x3f81],
      [3.4028234663852886e38, 0x7f80], // f32 max rounds to Infinity
      [2 ** -133, 0x0001],
    ];
    expect(u16s(encoded('BF16', cases.map(([v]) => v)))).toEqual(cases.map(([, bits]) => bits));
    const [nan] = u16s(encoded('BF16', [NaN]));
    expect(nan! & 0x7f80).toBe(0x7f80);
    expect(nan! & 0x007f).not.toBe(0);
  });

  it.each(['F16', 'BF16'] as const)('%s: every non-NaN bit pattern survives decode then encode', (dtype) => {
    const all = Array.from({ length: 65536 }, (_, i) => i);
    const bytes = build({ t: { dtype, shape: [65536], data_offsets: [0, 131072] } }, u16Bytes(all));
    const decoded = parseSafetensors(bytes).get('t').data as Float32Array;
    const reencoded = u16s(encoded(dtype, Array.from(decoded)));
    const isNaN = (bits: number) => (dtype === 'F16' ? (bits & 0x7fff) > 0x7c00 : (bits & 0x7fff) > 0x7f80);
    const mismatches = all.filter((bits) => !isNaN(bits) && reencoded[bits] !== bits);
    expect(mismatches).toEqual([]);
    expect(all.filter(isNaN).every((bits) => Number.isNaN(decoded[bits]!))).toBe(true);
  });
});

describe('hand-built files', () => {
  /** Tensors at odd offsets after an unpadded header, so nothing is aligned. */
  function handBuilt(): Uint8Array {
    const data = new Uint8Array(33);
    const view = new DataView(data.buffer);
    data.set([1, 0, 7], 0);
    view.setFloat32(3, 1.5, true);
    view.setFloat32(7, -0.25, true);
    view.setBigInt64(11, 2n ** 40n + 1n, true);
    view.setBigInt64(19, -3n, true);
    view.setUint16(27, 0x3c00, true);
    view.setInt32(29, -7, true);
    const header = {
      __metadata__: { format: 'pt' },
      flag: { dtype: 'U8', shape: [3], data_offsets: [0, 3] },
      w: { dtype: 'F32', shape: [2], data_offsets: [3, 11] },
      ids: { dtype: 'I64', shape: [2], data_offsets: [11, 27] },
      h: { dtype: 'F16', shape: [1, 1], data_offsets: [27, 29] },
      n: { dtype: 'I32', shape: [], data_offsets: [29, 33] },
      e: { dtype: 'F32', shape: [0], data_offsets: [33, 33] },
    };
    let json = JSON.stringify(header);
    if ((8 + json.length) % 2 === 0) json += ' ';
    return build(json, data);
  }

  it('parses every tensor at unaligned offsets', () => {
    const bytes = handBuilt();
    // Shift by one byte too, so even the file start is misaligned in its buffer.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    for (const input of [bytes, shifted.subarray(1)]) {
      const file = parseSafetensors(input, 'hand.safetensors');
      expect(file.metadata).toEqual({ format: 'pt' });
      expect([...file.tensors.keys()]).toEqual(['flag', 'w', 'ids', 'h', 'n', 'e']);
      expect(file.get('flag')).toEqual({ name: 'flag', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 0, 7) });
      expect(file.get('w').data).toEqual(Float32Array.of(1.5, -0.25));
      expect(file.get('ids').data).toEqual(BigInt64Array.of(2n ** 40n + 1n, -3n));
      expect(file.get('h')).toEqual({ name: 'h', dtype: 'F16', shape: [1, 1], data: Float32Array.of(1) });
      expect(file.get('n')).toEqual({ name: 'n', dtype: 'I32', shape: [], data: Int32Array.of(-7) });
      expect(file.get('e').data).toEqual(new Float32Array(0));
    }
  });

  it('returns copies that do not alias the input bytes', () => {
    const bytes = handBuilt();
    const file = parseSafetensors(bytes);
    bytes.fill(0xff, 8);
    expect(file.get('flag').data).toEqual(Uint8Array.of(1, 0, 7));
    expect(file.get('w').data).toEqual(Float32Array.of(1.5, -0.25));
  });

  it('with views, float32 tensors read the bytes in place (readSafetensors: no second copy of a large model); the rest are still copies', () => {
    const bytes = handBuilt();
    const file = parseSafetensors(bytes, 'x.safetensors', { views: true });
    const w = file.get('w').data as Float32Array;
    expect(w.buffer).toBe(bytes.buffer);
    expect(Array.from(w)).toEqual([1.5, -0.25]);
    bytes.fill(0, 8);
    expect(Array.from(w)).toEqual([0, 0]);
    expect(file.get('flag').data).toEqual(Uint8Array.of(1, 0, 7));
  });

  it('widens I16 and I8 to Int32Array and narrows F64 to Float32Array', () => {
    const data = new Uint8Array(4 + 2 + 16);
    const view = new DataView(data.buffer);
    view.setInt16(0, -300, true);
    view.setInt16(2, 32767, true);
    view.setInt8(4, -128);
    view.setInt8(5, 100);
    view.setFloat64(6, 0.1, true);
    view.setFloat64(14, -1e300, true);
    const file = parseSafetensors(
      build(
        {
          s: { dtype: 'I16', shape: [2], data_offsets: [0, 4] },
          b: { dtype: 'I8', shape: [2], data_offsets: [4, 6] },
          d: { dtype: 'F64', shape: [2], data_offsets: [6, 22] },
        },
        data,
      ),
    );
    expect(file.get('s').data).toEqual(Int32Array.of(-300, 32767));
    expect(file.get('b').data).toEqual(Int32Array.of(-128, 100));
    expect(file.get('d').data).toEqual(Float32Array.of(0.1, -Infinity));
  });

  it('accepts tensors listed in a different order than their data', () => {
    const file = parseSafetensors(
      build(
        {
          second: { dtype: 'U8', shape: [1], data_offsets: [1, 2] },
          first: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        },
        [10, 20],
      ),
    );
    expect(file.get('first').data).toEqual(Uint8Array.of(10));
    expect(file.get('second').data).toEqual(Uint8Array.of(20));
  });
});

describe('toInt32', () => {
  const file = parseSafetensors(
    serializeSafetensors([
      { name: 'ok', dtype: 'I64', shape: [3], data: BigInt64Array.of(1n, -2147483648n, 2147483647n) },
      { name: 'big', dtype: 'I64', shape: [2], data: BigInt64Array.of(0n, 2n ** 31n) },
      { name: 'neg', dtype: 'I64', shape: [1], data: BigInt64Array.of(-(2n ** 31n) - 1n) },
      { name: 'i32', shape: [2], data: Int32Array.of(4, -5) },
      { name: 'u8', shape: [2], data: Uint8Array.of(200, 1) },
      { name: 'f', shape: [1], data: Float32Array.of(1) },
    ]),
  );

  it('converts in-range I64 values', () => {
    expect(toInt32(file.get('ok'))).toEqual(Int32Array.of(1, -2147483648, 2147483647));
  });

  it('rejects out-of-range values, naming the tensor', () => {
    expectError(() => toInt32(file.get('big')), 'E_MODEL_FORMAT', '"big"', '2147483648', 'index 1');
    expectError(() => toInt32(file.get('neg')), 'E_MODEL_FORMAT', '"neg"', '-2147483649');
  });

  it('passes other integer tensors through and rejects floats', () => {
    expect(toInt32(file.get('i32'))).toEqual(Int32Array.of(4, -5));
    expect(toInt32(file.get('u8'))).toEqual(Int32Array.of(200, 1));
    expectError(() => toInt32(file.get('f')), 'E_BAD_INPUT', '"f"', 'F32');
  });
});

describe('validation', () => {
  const u8 = (begin: number, end: number) => ({ dtype: 'U8', shape: [end - begin], data_offsets: [begin, end] });

  it('rejects files shorter than 8 bytes', () => {
    expectFormatError(new Uint8Array(5), '5 bytes', 'at least 8');
    expectFormatError(new Uint8Array(0), '0 bytes');
  });

  it('labels in-memory buffers <buffer> by default', () => {
    expectError(() => parseSafetensors(new Uint8Array(3)), 'E_MODEL_FORMAT', '<buffer>');
  });

  it('rejects a zero header length', () => {
    expectFormatError(withDeclaredLength(0n, 8), 'header length is 0');
  });

  it('rejects header lengths over the cap before allocating', () => {
    expectFormatError(withDeclaredLength(BigInt(MAX_HEADER_BYTES + 1), 16), `${MAX_HEADER_BYTES + 1}`, 'limit');
  });

  it('rejects huge declared header lengths quickly', () => {
    for (const length of [2n ** 40n, 2n ** 64n - 1n]) {
      const start = performance.now();
      expectFormatError(withDeclaredLength(length, 16), length.toString(), 'limit');
      expect(performance.now() - start).toBeLessThan(50);
    }
  });

  it('rejects a header that runs past the end of the file', () => {
    expectFormatError(withDeclaredLength(100n, 10), 'header length 100', 'past the end', '10 bytes');
  });

  it('rejects a header that is not UTF-8', () => {
    const bytes = build('{}');
    const broken = new Uint8Array([...bytes.subarray(0, 8), 0x7b, 0xff, 0x7d]);
    new DataView(broken.buffer).setBigUint64(0, 3n, true);
    expectFormatError(broken, 'not valid UTF-8');
  });

  it('rejects a header that is not JSON', () => {
    expectFormatError(build('{"w": '), 'not valid JSON');
  });

  it.each([
    ['[1, 2]', 'an array'],
    ['null', 'null'],
    ['"text"', 'string'],
    ['42', 'number'],
  ])('rejects a header that is %s instead of an object', (text, kind) => {
    expectFormatError(build(text), 'must be a JSON object', `found ${kind}`);
  });

  it('rejects a tensor entry that is not an object', () => {
    expectFormatError(build({ w: 5 }), 'tensor "w"', 'found number');
    expectFormatError(build({ w: [1] }), 'tensor "w"', 'found an array');
  });

  it.each([['Q4'], ['f32'], ['toString'], [7], [undefined]])('rejects dtype %s', (dtype) => {
    expectFormatError(build({ w: { dtype, shape: [1], data_offsets: [0, 1] } }, [0]), 'tensor "w"', 'unknown dtype', 'F32, F16');
  });

  it.each([[[-1]], [[1.5]], [['2']], ['2'], [[2 ** 53]], [null], [undefined], [[1, null]]])('rejects shape %j', (shape) => {
    expectFormatError(build({ w: { dtype: 'U8', shape, data_offsets: [0, 1] } }, [0]), 'tensor "w"', 'shape must be', 'non-negative');
  });

  it.each([[[0]], [[0, 1, 2]], [[1, 0]], [[0.5, 1]], [[-1, 0]], ['0,1'], [undefined], [[0, 2 ** 53]]])(
    'rejects data_offsets %j',
    (offsets) => {
      expectFormatError(build({ w: { dtype: 'U8', shape: [1], data_offsets: offsets } }, [0]), 'tensor "w"', 'data_offsets must be', 'begin <= end');
    },
  );

  it('rejects a byte count that does not match shape × dtype size', () => {
    const bytes = build({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20));
    expectFormatError(bytes, 'tensor "w"', 'needs 24 bytes', 'span 20');
  });

  it('rejects a shape whose element count overflows', () => {
    const bytes = build({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4));
    expectFormatError(bytes, 'tensor "w"', 'span 4');
  });

  it('rejects offsets past the end of the data buffer', () => {
    const bytes = build({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4));
    expectFormatError(bytes, 'tensor "w"', 'end 8', '4-byte data buffer');
  });

  it('rejects overlapping tensors, naming both', () => {
    expectFormatError(build({ a: u8(0, 4), b: u8(2, 6) }, new Uint8Array(6)), '"a" [0, 4]', '"b" [2, 6]', 'overlap');
    expectFormatError(build({ a: u8(0, 4), same: u8(0, 4) }, new Uint8Array(4)), '"a"', '"same"', 'overlap');
    expectFormatError(build({ a: u8(0, 4), inside: u8(2, 2) }, new Uint8Array(4)), '"inside"', 'overlap');
  });

  it('rejects holes in the data buffer', () => {
    expectFormatError(build({ a: u8(0, 4), b: u8(6, 10) }, new Uint8Array(10)), '2 unused bytes', '"a"', '"b"');
    expectFormatError(build({ b: u8(3, 6) }, new Uint8Array(6)), '3 unused bytes', 'at the start', '"b"');
  });

  it('rejects trailing bytes after the last tensor', () => {
    expectFormatError(build({ a: u8(0, 4) }, new Uint8Array(6)), '2 trailing bytes');
    expectFormatError(build({}, new Uint8Array(3)), '3 trailing bytes');
  });

  it('rejects non-string metadata values, naming the key', () => {
    expectFormatError(build({ __metadata__: { version: 2 } }), '__metadata__["version"]', 'must be a string', 'found number');
    expectFormatError(build({ __metadata__: ['x'] }), '__metadata__', 'found an array');
    expectFormatError(build({ __metadata__: null }), '__metadata__', 'found null');
  });

  it('accepts an empty header object with no data', () => {
    const file = parseSafetensors(build({}));
    expect(file.tensors.size).toBe(0);
    expect(file.metadata).toEqual({});
  });

  it('names the file and the tensor when a tensor is missing', () => {
    const file = parseSafetensors(serializeSafetensors([{ name: 'present', shape: [1], data: Float32Array.of(1) }]), 'model.safetensors');
    expectError(() => file.get('absent'), 'E_MODEL_FORMAT', 'model.safetensors', '"absent"', '"present"');
  });
});

describe('serializer input checks', () => {
  it('rejects data whose length does not match the shape', () => {
    expectError(() => serializeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }]), 'E_SHAPE', '"w"', '4 elements', '3');
  });

  it('rejects invalid shapes', () => {
    expectError(() => serializeSafetensors([{ name: 'w', shape: [-1], data: new Float32Array(0) }]), 'E_SHAPE', '"w"');
  });

  it('rejects data types that cannot be written as the requested dtype', () => {
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'F16', shape: [1], data: Int32Array.of(1) }]), 'E_BAD_INPUT', '"w"', 'Int32Array', 'F16');
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'I32', shape: [1], data: BigInt64Array.of(1n) }]), 'E_BAD_INPUT', 'BigInt64Array', 'I32');
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: Uint8Array.of(1) }]), 'E_BAD_INPUT', 'Uint8Array', 'F32');
  });

  it('range-checks narrowing integer writes', () => {
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'I8', shape: [2], data: Int32Array.of(1, 200) }]), 'E_BAD_INPUT', '"w"', '200', 'index 1', 'I8');
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'I16', shape: [1], data: Int32Array.of(-40000) }]), 'E_BAD_INPUT', '-40000', 'I16');
    expectError(() => serializeSafetensors([{ name: 'w', dtype: 'BOOL', shape: [1], data: Uint8Array.of(2) }]), 'E_BAD_INPUT', 'BOOL');
  });

  it('rejects duplicate and reserved tensor names', () => {
    const t = { name: 'w', shape: [1], data: Float32Array.of(1) };
    expectError(() => serializeSafetensors([t, t]), 'E_BAD_INPUT', '"w"');
    expectError(() => serializeSafetensors([{ ...t, name: '__metadata__' }]), 'E_BAD_INPUT', '"__metadata__"');
  });

  it('rejects non-string metadata values', () => {
    const metadata = { version: 2 } as unknown as Record<string, string>;
    expectError(() => serializeSafetensors([], metadata), 'E_BAD_INPUT', 'metadata["version"]');
  });
});

describe('file I/O', () => {
  const withTempDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'hibiki-safetensors-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const tensors = [
    { name: 'w', dtype: 'F16' as const, shape: [2], data: Float32Array.of(0.5, -1) },
    { name: 'ids', shape: [1], data: BigInt64Array.of(42n) },
  ];

  it('writes atomically and leaves no temporary file behind', () => {
    withTempDir((dir) => {
      const path = join(dir, 'model.safetensors');
      writeSafetensors(path, tensors, { format: 'pt' });
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(new Uint8Array(readFileSync(path))).toEqual(serializeSafetensors(tensors, { format: 'pt' }));

      const file = readSafetensors(path);
      expect(file.file).toBe(path);
      expect(file.metadata).toEqual({ format: 'pt' });
      expect(file.get('w').data).toEqual(Float32Array.of(0.5, -1));
      expect(file.get('ids').data).toEqual(BigInt64Array.of(42n));

      writeSafetensors(path, [{ name: 'v', shape: [1], data: Float32Array.of(9) }]);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(readSafetensors(path).get('v').data).toEqual(Float32Array.of(9));
    });
  });

  it('leaves an existing file untouched when serialization fails', () => {
    withTempDir((dir) => {
      const path = join(dir, 'model.safetensors');
      writeSafetensors(path, tensors);
      const before = readFileSync(path);
      expectError(() => writeSafetensors(path, [{ name: 'bad', shape: [2], data: new Float32Array(1) }]), 'E_SHAPE', '"bad"');
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
      expect(readFileSync(path)).toEqual(before);
    });
  });

  it('removes the temporary file and reports E_IO when the rename fails', () => {
    withTempDir((dir) => {
      const path = join(dir, 'occupied');
      mkdirSync(path);
      writeFileSync(join(path, 'keep'), 'x');
      expectError(() => writeSafetensors(path, tensors), 'E_IO', path);
      expect(readdirSync(dir)).toEqual(['occupied']);
    });
  });

  it('reports E_IO naming the path for unwritable and unreadable paths', () => {
    withTempDir((dir) => {
      const missingDir = join(dir, 'no', 'such', 'dir', 'x.safetensors');
      expectError(() => writeSafetensors(missingDir, tensors), 'E_IO', missingDir);
      const missingFile = join(dir, 'missing.safetensors');
      expectError(() => readSafetensors(missingFile), 'E_IO', missingFile);
    });
  });

  it('reports format errors with the file path', () => {
    withTempDir((dir) => {
      const path = join(dir, 'truncated.safetensors');
      writeFileSync(path, serializeSafetensors(tensors).subarray(0, 30));
      expectError(() => readSafetensors(path), 'E_MODEL_FORMAT', path, 'past the end');
    });
  });
});
