import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_VIEW_ELEMENTS_PER_FILE_BYTE, parsePytorchBin, readPytorchBin } from '../../src/io/pytorch.js';
import { type SafeTensorsFile, type TensorData, readSafetensors, serializeSafetensors } from '../../src/io/safetensors.js';
import { type WeightsFile, readWeights } from '../../src/io/weights.js';
import { errorOf, expectError } from '../helpers/errors.js';

const path = (name: string) => fileURLToPath(new URL(`../fixtures/pytorch/${name}`, import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(path(name)));

// ---------------------------------------------------------------------------
// Test-side writers: a stored zip (as Python's zipfile writes it) and pickle bytes by opcode
// ---------------------------------------------------------------------------

function crc32(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}

/** A zip of stored entries, no data descriptors, in the order given. */
function zipOf(files: Record<string, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const raw = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + raw.length);
    const l = new DataView(local.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint32(14, crc32(data), true);
    l.setUint32(18, data.length, true);
    l.setUint32(22, data.length, true);
    l.setUint16(26, raw.length, true);
    local.set(raw, 30);
    const entry = new Uint8Array(46 + raw.length);
    const c = new DataView(entry.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint32(16, crc32(data), true);
    c.setUint32(20, data.length, true);
    c.setUint32(24, data.length, true);
    c.setUint16(28, raw.length, true);
    c.setUint32(42, offset, true);
    entry.set(raw, 46);
    parts.push(local, data);
    central.push(entry);
    offset += local.length + data.length;
  }
  const size = central.reduce((n, e) => n + e.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, central.length, true);
  e.setUint16(10, central.length, true);
  e.setUint32(12, size, true);
  e.setUint32(16, offset, true);
  return concat(...parts, ...central, end);
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

const bytes = (...values: number[]) => Uint8Array.from(values);
const ascii = (text: string) => new TextEncoder().encode(text);
const u32 = (n: number) => bytes(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);

/** Pickle opcodes, as pickletools names them. */
const P = {
  proto: (n: number) => bytes(0x80, n),
  str: (s: string) => concat(ascii('X'), u32(ascii(s).length), ascii(s)),
  int: (n: number | bigint) => {
    if (typeof n === 'number' && n >= 0 && n < 2 ** 31) return concat(ascii('J'), u32(n));
    const out: number[] = [];
    let v = BigInt(n);
    do {
      out.push(Number(v & 0xffn));
      v >>= 8n;
    } while (v !== 0n && v !== -1n);
    if ((out[out.length - 1]! & 0x80) !== (v === -1n ? 0x80 : 0)) out.push(v === -1n ? 0xff : 0);
    return bytes(0x8a, out.length, ...out);
  },
  global: (name: string) => ascii(`c${name.slice(0, name.lastIndexOf('.'))}\n${name.slice(name.lastIndexOf('.') + 1)}\n`),
  mark: ascii('('),
  tuple: ascii('t'),
  emptyTuple: ascii(')'),
  emptyDict: ascii('}'),
  reduce: ascii('R'),
  setitem: ascii('s'),
  persid: ascii('Q'),
  none: ascii('N'),
  stop: ascii('.'),
};

interface ViewSpec { key?: string; storage?: string; numel: number | bigint; offset?: number | bigint; size: Array<number | bigint>; stride: Array<number | bigint> }

/** A protocol-2 state dict pickle as torch.save writes one, each tensor a _rebuild_tensor_v2 of the view given. */
function statePickle(tensors: Record<string, ViewSpec>): Uint8Array {
  const tuple = (items: Array<number | bigint>) => concat(P.mark, ...items.map(P.int), P.tuple);
  const entries = Object.entries(tensors).map(([name, v]) => concat(
    P.str(name), P.global('torch._utils._rebuild_tensor_v2'), P.mark,
    P.mark, P.str('storage'), P.global(v.storage ?? 'torch.FloatStorage'), P.str(v.key ?? '0'), P.str('cpu'), P.int(v.numel), P.tuple, P.persid,
    P.int(v.offset ?? 0), tuple(v.size), tuple(v.stride), bytes(0x89), P.global('collections.OrderedDict'), P.emptyTuple, P.reduce,
    P.tuple, P.reduce, P.setitem));
  return concat(P.proto(2), P.emptyDict, ...entries, P.stop);
}

/** A checkpoint holding `pickle` and storages by key, under the folder "archive". */
const checkpoint = (pickle: Uint8Array, storages: Record<string, Uint8Array> = {}) =>
  zipOf({ 'archive/data.pkl': pickle, ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v])), 'archive/version': ascii('3\n') });

const values = (data: TensorData): Array<number | bigint> => Array.from(data as ArrayLike<number | bigint>);
const f32Bytes = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

// ---------------------------------------------------------------------------

describe('pytorch_model.bin: what torch.save wrote', () => {
  const cases: Array<[string, string, string]> = [
    ['every storage type, 0-d, empty, shared storage and non-contiguous views', 'dtypes.bin', 'dtypes.safetensors'],
    ['pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)', 'protocol4.bin', 'dtypes.safetensors'],
    ['a module\'s state_dict() with _metadata, tied weights and an expanded buffer', 'hf_state_dict.bin', 'hf_state_dict.safetensors'],
    ['the same as a ZIP64 archive', 'zip64.bin', 'hf_state_dict.safetensors'],
    ['nn.Parameter values (_rebuild_parameter)', 'parameters.bin', 'parameters.safetensors'],
  ];
  it.each(cases)('%s: every tensor equals the reference', (_, bin, reference) => {
    const got = readPytorchBin(path(bin));
    const want = readSafetensors(path(reference));
    expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
    for (const [name, w] of want.tensors) {
      const g = got.get(name);
      expect({ name: g.name, dtype: g.dtype, shape: g.shape, type: g.data.constructor.name }, name)
        .toEqual({ name, dtype: w.dtype, shape: w.shape, type: w.data.constructor.name });
      // Object.is: -0, and every bit of the f16/bf16 widening, must match.
      const differing = values(w.data).findIndex((v, i) => !Object.is(v, g.data[i]));
      expect(differing, `${name} first differs at`).toBe(-1);
    }
    expect(got.metadata).toEqual({});
    expect(got.file).toBe(path(bin));
  });

  it('decodes as safetensors does: half and bfloat16 as f32, I64 as BigInt64Array, I8/I16 as Int32Array, bool as bytes', () => {
    const t = readPytorchBin(path('dtypes.bin')).tensors;
    expect(values(t.get('i64')!.data)).toEqual([0n, -1n, 2n ** 40n, -(2n ** 62n), 7n]);
    expect(values(t.get('i16')!.data)).toEqual([-32768, 32767, 3]);
    expect(t.get('i16')!.data).toBeInstanceOf(Int32Array);
    expect(values(t.get('bool')!.data)).toEqual([1, 0, 1]);
    expect(t.get('scalar')!).toMatchObject({ shape: [], data: Float32Array.of(3.25) });
    expect(t.get('expanded')!.data).toEqual(Float32Array.of(0, 1, 2, 0, 1, 2));
  });

  it('tensors sharing a storage get arrays of their own', () => {
    const w = readPytorchBin(path('hf_state_dict.bin'));
    const [shared, head] = [w.floats('shared.weight', [6, 4]), w.floats('lm_head.weight', [6, 4])];
    expect(head).toEqual(shared);
    shared[0] = 1234;
    expect(head[0]).not.toBe(1234);
  });

  it('has SafeTensorsFile\'s interface: loaders typed for either take it', () => {
    const asSafetensors: SafeTensorsFile = readPytorchBin(path('parameters.bin'));
    const asWeights: WeightsFile = readSafetensors(path('parameters.safetensors'));
    expect(asSafetensors.floats('weight', [3, 2])).toEqual(asWeights.floats('weight', [3, 2]));
    expectError(() => asSafetensors.get('missing'), 'E_MODEL_FORMAT', /parameters\.bin: missing tensor "missing" \(file has 2: "weight", "bias"\)/);
    expectError(() => asSafetensors.floats('weight', [2, 3], 'config.json'), 'E_MODEL_FORMAT', /weight is F32 \[3, 2\], expected a float tensor \[2, 3\] \(config\.json\)/);
  });

  it('floats() refuses NaN and ±∞, naming the tensor', () => {
    const w = readPytorchBin(path('non_finite.bin'));
    expectError(() => w.floats('nan', [3]), 'E_MODEL_FORMAT', /non_finite\.bin: nan holds NaN at index 1/);
    expectError(() => w.floats('inf', [2]), 'E_MODEL_FORMAT', /non_finite\.bin: inf holds -Infinity at index 0/);
  });

  it('a state dict built by hand reads like one torch wrote: a stride-0 view, transposed ones of every width, an empty dict', () => {
    const w = parsePytorchBin(checkpoint(statePickle({
      rows: { numel: 4, offset: 1, size: [2, 3], stride: [0, 1] },
      t: { numel: 4, size: [2, 2], stride: [1, 2] },
    }), { 0: f32Bytes(1, 2, 3, 4) }), 'hand.bin');
    expect(w.floats('rows', [2, 3])).toEqual(Float32Array.of(2, 3, 4, 2, 3, 4));
    expect(w.floats('t', [2, 2])).toEqual(Float32Array.of(1, 3, 2, 4));
    // Transposed views of 8-, 2- and 1-byte elements (copied two, a half and a quarter of a 4-byte unit at a time).
    const wide = parsePytorchBin(checkpoint(statePickle({
      i64: { storage: 'torch.LongStorage', key: '1', numel: 6, offset: 0, size: [3, 2], stride: [1, 3] },
      f16: { storage: 'torch.HalfStorage', key: '2', numel: 6, offset: 1, size: [2, 2], stride: [1, 3] },
      u8: { storage: 'torch.ByteStorage', key: '3', numel: 6, offset: 0, size: [3, 2], stride: [1, 3] },
    }), {
      1: new Uint8Array(BigInt64Array.of(1n, -2n, 2n ** 50n, 4n, 5n, -(2n ** 60n)).buffer),
      2: new Uint8Array(Uint16Array.of(0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0xc000).buffer), // 1, 2, 3, 4, 5, -2
      3: Uint8Array.of(10, 20, 30, 40, 50, 60),
    }), 'wide.bin');
    expect(values(wide.get('i64').data)).toEqual([1n, 4n, -2n, 5n, 2n ** 50n, -(2n ** 60n)]);
    expect(wide.floats('f16', [2, 2])).toEqual(Float32Array.of(2, 5, 3, -2));
    expect(values(wide.get('u8').data)).toEqual([10, 40, 20, 50, 30, 60]);
    expect(parsePytorchBin(checkpoint(concat(P.proto(2), P.emptyDict, P.stop)), 'empty.bin').tensors.size).toBe(0);
  });
});

describe('pytorch_model.bin: what runs code is refused by name, never run', () => {
  it.each([
    ['os_system.bin', 'os_system/data.pkl: global os.system is not allowed in a state dict'],
    ['posix_system.bin', 'archive/data.pkl: global posix.system is not allowed in a state dict'],
    ['full_module.bin', 'full_module/data.pkl: global torch.nn.modules.linear.Linear is not allowed in a state dict'],
  ])('%s', (name, message) => {
    expect(errorOf(() => readPytorchBin(path(name)))).toBe(`E_MODEL_FORMAT: ${path(name)}:${message} (hibiki reads tensors and never runs code from a checkpoint)`);
  });

  it.each([
    ['a global nobody allowed, by STACK_GLOBAL', concat(P.proto(4), P.str('builtins'), P.str('eval'), bytes(0x93), P.stop), /global builtins\.eval is not allowed/],
    ['a global whose name is not a Python name', concat(P.proto(2), ascii('cos\nsystem;rm\n'), P.stop), /global "os\.system;rm" is not allowed/],
    ['INST, which imports and calls', concat(P.proto(2), P.mark, ascii('ios\nsystem\n'), P.stop), /opcode INST at byte 3 is not allowed/],
    ['NEWOBJ', concat(P.proto(2), P.global('collections.OrderedDict'), P.emptyTuple, bytes(0x81), P.stop), /opcode NEWOBJ at byte 28 is not allowed/],
    ['the extension registry (EXT1)', concat(P.proto(2), bytes(0x82, 1), P.stop), /opcode EXT1 at byte 2 is not allowed/],
    ['a text PERSID', concat(P.proto(2), ascii('P0\n'), P.stop), /opcode PERSID/],
    ['an unknown opcode', concat(P.proto(2), bytes(0xff), P.stop), /opcode 0xff at byte 2 is not allowed/],
    ['calling a storage type', concat(P.proto(2), P.global('torch.FloatStorage'), P.emptyTuple, P.reduce, P.stop), /REDUCE at byte 23 calls torch\.FloatStorage, which is not a function a state dict calls/],
    ['calling a string', concat(P.proto(2), P.str('os.system'), P.emptyTuple, P.reduce, P.stop), /calls a str, which is not a function/],
    ['OrderedDict with arguments', concat(P.proto(2), P.global('collections.OrderedDict'), P.mark, P.int(1), P.tuple, P.reduce, P.stop), /collections\.OrderedDict at byte \d+ takes 0 arguments, given 1/],
    ['a tensor rebuilt from a non-storage', concat(P.proto(2), P.global('torch._utils._rebuild_tensor'), P.mark, P.str('x'), P.int(0), P.emptyTuple, P.emptyTuple, P.tuple, P.reduce, P.stop), /rebuilds a tensor from a str, not a storage/],
    ['BUILD on a tuple', concat(P.proto(2), P.emptyTuple, P.emptyDict, ascii('b'), P.stop), /BUILD at byte 4 sets a dict on a tuple/],
    ['a persistent id that is no storage', concat(P.proto(2), P.str('file:/etc/passwd'), P.persid, P.stop), /persistent id at byte \d+ is not \('storage'/],
  ])('%s', (_, pickle, message) => {
    expectError(() => parsePytorchBin(checkpoint(pickle), 'evil.bin'), 'E_MODEL_FORMAT', message);
  });
});

describe('pytorch_model.bin: damaged or absurd files are E_MODEL_FORMAT, never a crash, hang or huge allocation', () => {
  it.each([
    ['legacy.bin', /legacy format \(PyTorch before 1\.6\)/],
    ['short_storage.bin', /tensor "w": storage "0" declares 4 F32 elements \(16 bytes\), but short_storage\/data\/0 holds 10 bytes/],
    ['huge_numel.bin', /storage "0" declares 4611686018427387904 F32 elements/],
    ['absurd_shape.bin', /tensor "w" \(size \[1099511627776, 1099511627776\].*its last element would be element \d+ of storage "0", which holds 4/],
    ['view_past_storage.bin', /tensor "w" .*offset 3\): its last element would be element 4 of storage "0", which holds 4/],
    ['missing_storage.bin', /tensor "w": its storage "9" has no entry missing_storage\/data\/9/],
    ['not_a_tensor.bin', /"epoch" is the int 3, not a tensor: expected a state dict/],
    ['compressed.bin', /"parameters\/data\/0" is compressed \(zip method 8, deflate\)/],
    ['big_endian.bin', /parameters\/byteorder is "big": only little-endian/],
  ])('%s', (name, message) => {
    expectError(() => readPytorchBin(path(name)), 'E_MODEL_FORMAT', message);
  });

  it('cut short at every offset', () => {
    for (const name of ['hf_state_dict.bin', 'zip64.bin', 'parameters.bin']) {
      const whole = fixture(name);
      for (let cut = 0; cut < whole.length; cut++) {
        const got = errorOf(() => parsePytorchBin(whole.subarray(0, cut), name));
        expect(got, `${name} cut at ${cut}`).toMatch(/^E_MODEL_FORMAT: /);
      }
    }
  });

  // hf_state_dict.bin, as torch 1.13 wrote it: six entries, data descriptors (flag 0x808), no comment.
  const whole = fixture('hf_state_dict.bin');
  const endAt = whole.length - 22;
  const view = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
  const directoryAt = view.getUint32(endAt + 16, true);
  /** Where an entry's bytes begin, found through the central directory and the local header. */
  const dataStart = (v: DataView, name: string) => {
    for (let at = directoryAt; ; at += 46 + v.getUint16(at + 28, true) + v.getUint16(at + 30, true) + v.getUint16(at + 32, true)) {
      if (new TextDecoder().decode(whole.subarray(at + 46, at + 46 + v.getUint16(at + 28, true))) !== name) continue;
      const local = v.getUint32(at + 42, true);
      return local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    }
  };
  const edited = (edit: (v: DataView, b: Uint8Array) => void) => {
    const b = whole.slice();
    edit(new DataView(b.buffer), b);
    return b;
  };
  // torch.save writes a ZIP64 end record (56 bytes) and locator (20) before the end record, however small the file.
  const recordAt = endAt - 20 - 56;
  it.each([
    ['the end record\'s signature', (v: DataView) => v.setUint32(endAt, 0), /no zip end-of-central-directory record: the file is cut short or damaged/],
    ['the ZIP64 end record\'s signature', (v: DataView) => v.setUint32(recordAt, 0), new RegExp(`ZIP64 end record expected at byte ${recordAt}, not found`)],
    ['the ZIP64 locator\'s offset', (v: DataView) => v.setBigUint64(endAt - 20 + 8, 2n ** 63n, true), /ZIP64 end record expected at byte Infinity, not found/],
    ['the end records disagreeing', (v: DataView) => v.setUint32(endAt + 16, directoryAt + 1, true), /the zip end record and the ZIP64 end record disagree/],
    ['a split archive', (v: DataView) => v.setUint32(recordAt + 16, 1, true), /split across disks/],
    ['the directory offset past the end', (v: DataView) => { v.setBigUint64(recordAt + 48, 2n ** 40n, true); v.setUint32(endAt + 16, 0xffffffff, true); },
      /central directory \[Infinity, \+\d+\) runs past byte/],
    ['an absurd directory size', (v: DataView) => { v.setBigUint64(recordAt + 40, 2n ** 62n, true); v.setUint32(endAt + 12, 0xffffffff, true); },
      /central directory \[\d+, \+Infinity\) runs past byte/],
    ['more entries than the directory holds', (v: DataView) => {
      v.setBigUint64(recordAt + 24, 999n, true);
      v.setBigUint64(recordAt + 32, 999n, true);
      v.setUint16(endAt + 8, 0xffff, true);
      v.setUint16(endAt + 10, 0xffff, true);
    }, /cannot hold 999 entries/],
    ['a directory entry\'s signature', (v: DataView) => v.setUint32(directoryAt, 0x02014b51, true), /central directory entry 0 at byte \d+ is damaged/],
    ['a directory entry\'s name length', (v: DataView) => v.setUint16(directoryAt + 28, 0xffff, true), /central directory entry 0 runs past the directory/],
    ['an entry\'s local header offset', (v: DataView) => v.setUint32(directoryAt + 42, 7, true), /"archive\/data\.pkl": no local header at byte 7/],
    ['an entry\'s local offset past the directory', (v: DataView) => v.setUint32(directoryAt + 42, 0xfffffff0, true), /no local header at byte 4294967280/],
    ['an entry\'s size', (v: DataView) => { v.setUint32(directoryAt + 20, 100_000, true); v.setUint32(directoryAt + 24, 100_000, true); }, /"archive\/data\.pkl": its 100000 bytes at byte 64 run into the central directory/],
    ['an entry\'s CRC', (v: DataView) => v.setUint32(directoryAt + 16, 0, true), /"archive\/data\.pkl": CRC-32 is 0x[0-9a-f]{8} but the archive says 0x00000000: the file is damaged/],
    ['the pickle\'s name in the directory', (_: DataView, b: Uint8Array) => b.set(ascii('X'), directoryAt + 46 + 8), /no <folder>\/data\.pkl entry/],
    ['the pickle\'s name in its local header', (_: DataView, b: Uint8Array) => b.set(ascii('X'), 30 + 8), /the local header at byte 0 does not match the central directory/],
    ['a byte of a storage', (v: DataView, b: Uint8Array) => { b[dataStart(v, 'archive/data/0')]! ^= 1; }, /"archive\/data\/0": CRC-32 is/],
    ['the encryption flag', (v: DataView) => v.setUint16(directoryAt + 8, 0x809, true), /"archive\/data\.pkl" is encrypted/],
  ])('%s', (_, edit, message) => {
    expectError(() => parsePytorchBin(edited(edit), 'hf.bin'), 'E_MODEL_FORMAT', message);
  });

  // The same checks on a zip without ZIP64 records, as Python's zipfile writes one.
  const plain = checkpoint(statePickle({ w: { numel: 1, size: [1], stride: [1] } }), { 0: f32Bytes(1) });
  const plainEnd = plain.length - 22;
  it.each([
    ['a split archive', (v: DataView) => v.setUint16(plainEnd + 4, 1, true), /split across disks/],
    ['the directory offset past the end', (v: DataView) => v.setUint32(plainEnd + 16, 0xfffffff0, true), /central directory \[4294967280, \+\d+\) runs past byte/],
    ['an absurd directory size', (v: DataView) => v.setUint32(plainEnd + 12, 0xfffffff0, true), /central directory \[\d+, \+4294967280\) runs past byte/],
    ['saturated fields without a ZIP64 locator', (v: DataView) => v.setUint32(plainEnd + 16, 0xffffffff, true), /says ZIP64 but there is no ZIP64 locator/],
    ['more entries than the directory holds', (v: DataView) => { v.setUint16(plainEnd + 8, 999, true); v.setUint16(plainEnd + 10, 999, true); }, /cannot hold 999 entries/],
  ])('without ZIP64: %s', (_, edit, message) => {
    expect(parsePytorchBin(plain, 'plain.bin').floats('w', [1])).toEqual(Float32Array.of(1));
    const b = plain.slice();
    edit(new DataView(b.buffer));
    expectError(() => parsePytorchBin(b, 'plain.bin'), 'E_MODEL_FORMAT', message);
  });

  it('not a zip, or nothing at all', () => {
    expectError(() => parsePytorchBin(new Uint8Array(0), 'empty.bin'), 'E_MODEL_FORMAT', /empty\.bin: not a zip archive/);
    expectError(() => parsePytorchBin(ascii('{"w": [1, 2]}'), 'a.json'), 'E_MODEL_FORMAT', /not a zip archive/);
    expectError(() => parsePytorchBin(zipOf({ 'model/weights.txt': ascii('1 2') }), 'z.bin'), 'E_MODEL_FORMAT', /no <folder>\/data\.pkl entry: not a torch\.save checkpoint \(entries: "model\/weights\.txt"\)/);
    expectError(() => readPytorchBin(path('nothing-here.bin')), 'E_IO', /nothing-here\.bin: cannot read PyTorch checkpoint/);
  });

  it.each([
    ['a string longer than the pickle', concat(P.proto(2), ascii('X'), u32(0xffffffff)), /cut short inside the opcode at byte 2/],
    ['no STOP', concat(P.proto(2), P.emptyDict), /ends without STOP/],
    ['REDUCE on an empty stack', concat(P.proto(2), P.reduce, P.stop), /the opcode at byte 2 finds too few values/],
    ['popping below a MARK', concat(P.proto(2), P.str('a'), P.mark, P.setitem, P.stop), /finds too few values/],
    ['a memo never stored', concat(P.proto(2), bytes(0x68, 5), P.stop), /reads memo 5, which was never stored/],
    ['protocol 1', concat(P.proto(1), P.emptyDict, P.stop), /pickle protocol 1; expected 2 to 5/],
    ['two values at STOP', concat(P.proto(2), P.none, P.none, P.stop), /STOP at byte 4 leaves 2 values/],
    ['None instead of a dict', concat(P.proto(2), P.none, P.stop), /holds None, expected a state dict/],
    ['a tuple as a dict key', concat(P.proto(2), P.emptyDict, P.emptyTuple, P.none, P.setitem, P.stop), /dict key a tuple at byte \d+ is not allowed/],
    ['a negative storage offset', statePickle({ w: { numel: 1, offset: -1, size: [1], stride: [1] } }), /storage offset is the int -1, expected a non-negative integer/],
    ['sizes and strides of different ranks', statePickle({ w: { numel: 4, size: [2, 2], stride: [1] } }), /2 sizes but 1 strides/],
    ['a size beyond 2^53 of an empty tensor', statePickle({ w: { numel: 4, size: [0, 2n ** 60n], stride: [1, 1] } }), /a size is beyond 2\^53/],
    ['one storage with two dtypes', statePickle({ a: { numel: 4, size: [4], stride: [1] }, b: { storage: 'torch.IntStorage', numel: 4, size: [4], stride: [1] } }), /storage "0" is F32 × 4 and also I32 × 4/],
    ['an unknown storage type', statePickle({ w: { storage: 'torch.UntypedStorage', numel: 4, size: [4], stride: [1] } }), /global torch\.UntypedStorage is not allowed/],
  ])('%s', (_, pickle, message) => {
    expectError(() => parsePytorchBin(checkpoint(pickle, { 0: f32Bytes(1, 2, 3, 4) }), 'crafted.bin'), 'E_MODEL_FORMAT', message);
  });

  it('views of one storage may not ask for more than the file could hold', () => {
    // A 1-element storage expanded to 2^40 elements: in bounds, but far past the budget.
    const huge = checkpoint(statePickle({ w: { numel: 1, size: [2 ** 40], stride: [0] } }), { 0: f32Bytes(7) });
    expectError(() => parsePytorchBin(huge, 'expand.bin'), 'E_MODEL_FORMAT', new RegExp(`tensor "w": the tensors view 1099511627776 elements in all by here, more than ${MAX_VIEW_ELEMENTS_PER_FILE_BYTE} per byte`));
    // Many tied views of one storage: each fine, together over the budget.
    const storage = f32Bytes(...Array.from({ length: 4096 }, (_, i) => i));
    const views = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`tied.${i}`, { numel: 4096, size: [64, 64], stride: [64, 1] }]));
    const tied = checkpoint(statePickle(views), { 0: storage });
    expectError(() => parsePytorchBin(tied, 'tied.bin'), 'E_MODEL_FORMAT', /tensor "tied\.\d+": the tensors view \d+ elements in all/);
    // The same views, fewer: read, each its own copy.
    const few = parsePytorchBin(checkpoint(statePickle(Object.fromEntries(Object.entries(views).slice(0, 3))), { 0: storage }), 'few.bin');
    expect(few.floats('tied.2', [64, 64])).toEqual(new Float32Array(storage.buffer));
  });
});

describe('readWeights(dir)', () => {
  const root = mkdtempSync(join(tmpdir(), 'hibiki-weights-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const dir = (name: string, files: Record<string, Uint8Array>) => {
    const d = join(root, name);
    mkdirSync(d);
    for (const [file, data] of Object.entries(files)) writeFileSync(join(d, file), data);
    return d;
  };
  const bin = fixture('parameters.bin');
  const safetensors = serializeSafetensors([{ name: 'only-in-safetensors', shape: [1], data: Float32Array.of(1) }]);

  it('opens model.safetensors when present, else pytorch_model.bin', () => {
    expect([...readWeights(dir('both', { 'model.safetensors': safetensors, 'pytorch_model.bin': bin })).tensors.keys()]).toEqual(['only-in-safetensors']);
    const fromBin = readWeights(dir('bin', { 'pytorch_model.bin': bin }));
    expect([...fromBin.tensors.keys()]).toEqual(['weight', 'bias']);
    expect(fromBin.file).toBe(join(root, 'bin', 'pytorch_model.bin'));
  });

  it('neither: E_IO naming both files; only a shard index: says sharded checkpoints are not read', () => {
    expectError(() => readWeights(dir('none', { 'config.json': ascii('{}') })), 'E_IO', /none: no weights: neither model\.safetensors nor pytorch_model\.bin is there/);
    expectError(() => readWeights(dir('sharded', { 'pytorch_model.bin.index.json': ascii('{}') })), 'E_MODEL_FORMAT', /pytorch_model\.bin\.index\.json: sharded checkpoints are not read yet/);
  });

  it('a damaged pytorch_model.bin is the reader\'s error, with its path', () => {
    const bad = dir('bad', { 'pytorch_model.bin': bin.subarray(0, 100) });
    expect(errorOf(() => readWeights(bad))).toBe(`E_MODEL_FORMAT: ${join(bad, 'pytorch_model.bin')}: no zip end-of-central-directory record: the file is cut short or damaged`);
  });
});
