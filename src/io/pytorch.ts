/**
 * Reader for PyTorch checkpoints (`pytorch_model.bin`) in torch.save's zip format, PyTorch's
 * default since 1.6:
 *
 *   <top>/data.pkl      a pickle of the state dict: name → tensor
 *   <top>/data/<key>    each storage's bytes, little-endian, stored uncompressed
 *   <top>/version       the format version ("3\n")
 *   <top>/byteorder     "little" (newer torch; absent means little)
 *
 * where <top> is the file's stem or "archive", as torch.save chose.
 *
 * A pickle is a program for a stack machine that can import and call any Python function, so
 * loading one with Python's pickle runs code. This reader runs nothing: it interprets only the
 * opcodes that build plain data, and of Python names only the few a state dict uses
 * (collections.OrderedDict, torch's tensor rebuilders, storage types and dtypes), each
 * implemented here. Any other name is refused, by name, when the pickle first mentions it.
 *
 * A tensor is a view (storage offset, size, stride) of a storage; contiguous or not (a
 * transpose, a column slice, an expand), it is copied out into a fresh array decoded as
 * safetensors.ts decodes (F16/BF16/F64 → Float32Array, I64 → BigInt64Array, …).
 */
import { readFileSync } from 'node:fs';
import { HibikiError, modelFormat } from '../errors.js';
import { DTYPE_BYTES, type DType, type SafeTensor, SafeTensorsFile, type TensorData, decodeTensorData } from './safetensors.js';
import type { WeightsFile } from './weights.js';

type Fail = (message: string) => HibikiError;

/**
 * Tensors may view one storage several times (tied weights: a seq2seq model's embeddings and
 * output layer), and each view is copied out, so a small file could ask for a huge result: all
 * the views together may hold at most this many elements per byte of the file.
 */
export const MAX_VIEW_ELEMENTS_PER_FILE_BYTE = 16;

/** The start of torch.save's pre-1.6 format: a pickled magic number (LONG1, 10 bytes). */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Reads a pytorch_model.bin; E_IO if it cannot be read, E_MODEL_FORMAT if it is not a state dict hibiki can read. */
export function readPytorchBin(path: string): WeightsFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new HibikiError('E_IO', `${path}: cannot read PyTorch checkpoint: ${(err as Error).message}`, { cause: err });
  }
  return parsePytorchBin(bytes, path);
}

/**
 * Parses an in-memory torch.save checkpoint. `file` labels error messages. The result has
 * SafeTensorsFile's interface (its get() and floats() checks), with empty metadata.
 */
export function parsePytorchBin(bytes: Uint8Array, file = '<buffer>'): WeightsFile {
  const input = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail: Fail = (message) => modelFormat(file, message);
  if (LEGACY_MAGIC.every((b, i) => input[i] === b)) {
    throw fail('this is torch.save\'s legacy format (PyTorch before 1.6), which hibiki does not read: load it and save it again with a newer torch, or as model.safetensors');
  }
  const zip = readZip(input, fail);

  const pickles = [...zip.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    const listed = [...zip.entries.keys()].slice(0, 8).map((n) => `"${n}"`).join(', ');
    throw fail(pickles.length === 0
      ? `no <folder>/data.pkl entry: not a torch.save checkpoint (entries: ${listed || 'none'})`
      : `${pickles.length} data.pkl entries (${pickles.join(', ')}): expected one`);
  }
  const folder = pickles[0]!.slice(0, -'/data.pkl'.length);
  const byteorder = zip.entries.get(`${folder}/byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(zip.read(byteorder)).trim();
    if (order !== 'little') throw fail(`${folder}/byteorder is ${JSON.stringify(order.slice(0, 20))}: only little-endian checkpoints are read`);
  }

  const pickleName = `${folder}/data.pkl`;
  const state = unpickle(zip.read(zip.entries.get(pickleName)!), (message) => modelFormat(`${file}:${pickleName}`, message));
  if (!(state instanceof PyDict)) throw modelFormat(`${file}:${pickleName}`, `holds ${describe(state)}, expected a state dict (name → tensor)`);

  const storages = new Map<string, Uint8Array>();
  const storageBytes = (name: string, storage: StorageRef): Uint8Array => {
    const cached = storages.get(storage.key);
    if (cached) return cached;
    const entryName = `${folder}/data/${storage.key}`;
    const entry = zip.entries.get(entryName);
    if (!entry) throw fail(`tensor "${name}": its storage "${storage.key}" has no entry ${entryName}`);
    const raw = zip.read(entry);
    const needed = storage.numel * BigInt(DTYPE_BYTES[storage.dtype]);
    if (BigInt(raw.length) !== needed) {
      throw fail(`tensor "${name}": storage "${storage.key}" declares ${storage.numel} ${storage.dtype} elements (${needed} bytes), but ${entryName} holds ${raw.length} bytes`);
    }
    storages.set(storage.key, raw);
    return raw;
  };

  const budget = BigInt(MAX_VIEW_ELEMENTS_PER_FILE_BYTE) * BigInt(input.length);
  let viewed = 0n;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, value] of state.items) {
    if (typeof name !== 'string') throw fail(`state dict key ${describe(name)} is not a string`);
    if (!(value instanceof TensorView)) {
      throw fail(`"${name}" is ${describe(value)}, not a tensor: expected a state dict (name → tensor), not a training checkpoint or a pickled model`);
    }
    const raw = storageBytes(name, value.storage);
    const numel = checkView(name, value, fail);
    viewed += numel;
    if (viewed > budget) {
      throw fail(`tensor "${name}": the tensors view ${viewed} elements in all by here, more than ${MAX_VIEW_ELEMENTS_PER_FILE_BYTE} per byte of the ${input.length}-byte file`);
    }
    const shape = value.size.map(Number);
    tensors.set(name, { name, dtype: value.storage.dtype, shape, data: viewData(value, raw) });
  }
  // The tensor table is the same whatever the file format: SafeTensorsFile's get() and floats()
  // (missing names, shapes, non-finite values) apply to a checkpoint unchanged.
  return new SafeTensorsFile(file, tensors, {});
}

/** Checks that every element of the view lies in its storage; returns its element count. */
function checkView(name: string, t: TensorView, fail: Fail): bigint {
  const { storage, offset, size, stride } = t;
  const bad = (message: string) => fail(`tensor "${name}" (size [${size.join(', ')}], stride [${stride.join(', ')}], offset ${offset}): ${message}`);
  if (size.length !== stride.length) throw bad(`${size.length} sizes but ${stride.length} strides`);
  if (size.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) throw bad('a size is beyond 2^53');
  if (offset > storage.numel) throw bad(`the offset is past the end of its ${storage.numel}-element storage "${storage.key}"`);
  const numel = size.reduce((n, d) => n * d, 1n);
  if (numel === 0n) return 0n;
  const last = size.reduce((at, d, i) => at + (d - 1n) * stride[i]!, offset);
  if (last >= storage.numel) throw bad(`its last element would be element ${last} of storage "${storage.key}", which holds ${storage.numel}`);
  return numel;
}

/** The view's elements in row-major order, decoded. Bounds were checked by checkView. */
function viewData(t: TensorView, raw: Uint8Array): TensorData {
  const width = DTYPE_BYTES[t.storage.dtype];
  const size = t.size.map(Number);
  const stride = t.stride.map(Number);
  const offset = Number(t.offset);
  const numel = size.reduce((n, d) => n * d, 1);
  let expected = 1;
  let contiguous = true;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= size[d]!;
  }
  if (contiguous || numel === 0) return decodeTensorData(t.storage.dtype, raw.subarray(offset * width, (offset + numel) * width));

  // Copied in units of up to 4 bytes through typed arrays over an aligned copy of the elements the
  // view spans: a transposed 40 MB embedding adds 0.15 s to the load this way, 0.8 s byte by byte.
  const unit = Math.min(width, 4);
  const per = width / unit;
  const last = size.reduce((at, d, i) => at + (d - 1) * stride[i]!, offset);
  const span = raw.slice(offset * width, (last + 1) * width).buffer;
  const [from, out] = unit === 4 ? [new Uint32Array(span), new Uint32Array(numel * per)]
    : unit === 2 ? [new Uint16Array(span), new Uint16Array(numel)] : [new Uint8Array(span), new Uint8Array(numel)];
  // An odometer over all dimensions but the last, which the inner loop walks.
  const rank = size.length;
  const inner = size[rank - 1]!;
  const innerStride = stride[rank - 1]! * per;
  const index = new Array<number>(rank - 1).fill(0);
  let source = 0;
  let o = 0;
  for (;;) {
    for (let j = 0, s = source; j < inner; j++, s += innerStride) {
      for (let u = 0; u < per; u++) out[o++] = from[s + u]!;
    }
    let d = rank - 2;
    for (; d >= 0; d--) {
      source += stride[d]! * per;
      if (++index[d]! < size[d]!) break;
      source -= stride[d]! * size[d]! * per;
      index[d] = 0;
    }
    if (d < 0) return decodeTensorData(t.storage.dtype, new Uint8Array(out.buffer));
  }
}

// ---------------------------------------------------------------------------
// Zip archive (APPNOTE.TXT): stored entries, ZIP64, every offset checked
// ---------------------------------------------------------------------------

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

interface Zip {
  entries: Map<string, ZipEntry>;
  /** An entry's bytes (a view into the file), after checking its local header and CRC-32. */
  read(entry: ZipEntry): Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
const SATURATED16 = 0xffff;
const SATURATED32 = 0xffffffff;

/** The central directory of a zip archive, checked against the file; entries are read (and checked further) on demand. */
function readZip(bytes: Uint8Array, fail: Fail): Zip {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  // A 64-bit size or offset past the end of the file can only be wrong: Infinity fails every bounds check.
  const u64 = (at: number) => {
    const v = view.getBigUint64(at, true);
    return v > BigInt(bytes.length) ? Infinity : Number(v);
  };

  // The end record is the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === SIG_END && at + 22 + u16(at + 20) === bytes.length) {
      end = at;
      break;
    }
  }
  if (end < 0) {
    throw fail(bytes.length >= 4 && u32(0) === SIG_LOCAL
      ? 'no zip end-of-central-directory record: the file is cut short or damaged'
      : 'not a zip archive, as torch.save has written since PyTorch 1.6');
  }
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0 || u16(end + 8) !== u16(end + 10)) throw fail('a zip archive split across disks is not read');
  let count = u16(end + 10);
  let directorySize = u32(end + 12);
  let directoryOffset = u32(end + 16);
  let directoryLimit = end;
  if (end >= 20 && u32(end - 20) === SIG_LOCATOR64) {
    const record = u64(end - 20 + 8);
    if (!(record + 56 <= end - 20) || u32(record) !== SIG_END64) throw fail(`ZIP64 end record expected at byte ${record}, not found`);
    if (u32(record + 16) !== 0 || u32(record + 20) !== 0 || u64(record + 24) !== u64(record + 32)) throw fail('a zip archive split across disks is not read');
    // torch.save writes a ZIP64 end record into every archive; the 32-bit fields it does not saturate must agree with it.
    const wide = [u64(record + 32), u64(record + 40), u64(record + 48)] as const;
    if ([[count, SATURATED16], [directorySize, SATURATED32], [directoryOffset, SATURATED32]].some(([narrow, saturated], i) => narrow !== saturated && narrow !== wide[i])) {
      throw fail('the zip end record and the ZIP64 end record disagree');
    }
    [count, directorySize, directoryOffset] = wide;
    directoryLimit = record;
  } else if (count === SATURATED16 || directorySize === SATURATED32 || directoryOffset === SATURATED32) {
    throw fail('the zip end record says ZIP64 but there is no ZIP64 locator');
  }
  if (!(directoryOffset + directorySize <= directoryLimit)) {
    throw fail(`central directory [${directoryOffset}, +${directorySize}) runs past byte ${directoryLimit}, where the end record is`);
  }
  if (!(count * 46 <= directorySize)) throw fail(`central directory of ${directorySize} bytes cannot hold ${count} entries`);

  const names = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, ZipEntry>();
  let at = directoryOffset;
  const directoryEnd = directoryOffset + directorySize;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directoryEnd || u32(at) !== SIG_CENTRAL) throw fail(`central directory entry ${i} at byte ${at} is damaged`);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const next = at + 46 + nameLength + extraLength + u16(at + 32);
    if (next > directoryEnd) throw fail(`central directory entry ${i} runs past the directory`);
    let name: string;
    try {
      name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      throw fail(`central directory entry ${i}: its name is not UTF-8`);
    }
    const entry: ZipEntry = {
      name, flags: u16(at + 8), method: u16(at + 10), crc: u32(at + 16),
      compressedSize: u32(at + 20), size: u32(at + 24), localOffset: u32(at + 42),
    };
    // The ZIP64 extra field holds, in this order, those of the three that are saturated.
    const wide = (['size', 'compressedSize', 'localOffset'] as const).filter((key) => entry[key] === SATURATED32);
    if (wide.length > 0) {
      let field = at + 46 + nameLength;
      const extraEnd = field + extraLength;
      while (field + 4 <= extraEnd && u16(field) !== 0x0001) field += 4 + u16(field + 2);
      if (field + 4 > extraEnd || u16(field + 2) < 8 * wide.length || field + 4 + 8 * wide.length > extraEnd) {
        throw fail(`"${name}": the central directory entry needs a ZIP64 extra field for its ${wide.join(', ')}`);
      }
      wide.forEach((key, k) => (entry[key] = u64(field + 4 + 8 * k)));
    }
    if (entries.has(name)) throw fail(`"${name}" is in the zip archive twice`);
    entries.set(name, entry);
    at = next;
  }

  const read = (entry: ZipEntry): Uint8Array => {
    const { name, localOffset } = entry;
    if (entry.flags & 1) throw fail(`"${name}" is encrypted`);
    if (entry.method !== 0) {
      throw fail(`"${name}" is compressed (zip method ${entry.method}${entry.method === 8 ? ', deflate' : ''}); torch.save stores entries uncompressed: save the checkpoint again with torch.save`);
    }
    if (entry.compressedSize !== entry.size) throw fail(`"${name}" is stored but its sizes differ (${entry.compressedSize} and ${entry.size})`);
    if (!(localOffset + 30 <= directoryOffset) || u32(localOffset) !== SIG_LOCAL) throw fail(`"${name}": no local header at byte ${localOffset}`);
    const nameLength = u16(localOffset + 26);
    const start = localOffset + 30 + nameLength + u16(localOffset + 28);
    const localName = bytes.subarray(localOffset + 30, localOffset + 30 + nameLength);
    if (u16(localOffset + 8) !== entry.method || new TextDecoder().decode(localName) !== name) {
      throw fail(`"${name}": the local header at byte ${localOffset} does not match the central directory`);
    }
    // Without a data descriptor (flag bit 3) the local header repeats the CRC and sizes.
    const localFlags = u16(localOffset + 6);
    const sizeMatches = (at: number) => u32(at) === entry.size || u32(at) === SATURATED32;
    if (!(localFlags & 8) && (u32(localOffset + 14) !== entry.crc || !sizeMatches(localOffset + 18) || !sizeMatches(localOffset + 22))) {
      throw fail(`"${name}": the local header's CRC or sizes differ from the central directory's`);
    }
    if (!(start + entry.size <= directoryOffset)) throw fail(`"${name}": its ${entry.size} bytes at byte ${start} run into the central directory`);
    const data = bytes.subarray(start, start + entry.size);
    const crc = crc32(data);
    if (crc !== entry.crc) throw fail(`"${name}": CRC-32 is ${hex(crc)} but the archive says ${hex(entry.crc)}: the file is damaged`);
    return data;
  };
  return { entries, read };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

let crcTables: Int32Array | undefined;

/**
 * CRC-32 (zip's polynomial), eight bytes a step with eight tables ("slicing-by-8"): 2.5 ns a
 * byte here, 0.75 s for a 300 MB checkpoint, where one byte a step took 5.7 ns. Node's own
 * zlib.crc32 is twice as fast but arrived in 20.15, and hibiki runs on any Node 20.
 */
function crc32(bytes: Uint8Array): number {
  const t = (crcTables ??= makeCrcTables());
  let c = -1;
  let i = 0;
  for (const n = bytes.length - 8; i <= n; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[1792 + (c & 0xff)]! ^ t[1536 + ((c >>> 8) & 0xff)]! ^ t[1280 + ((c >>> 16) & 0xff)]! ^ t[1024 + (c >>> 24)]!
      ^ t[768 + bytes[i + 4]!]! ^ t[512 + bytes[i + 5]!]! ^ t[256 + bytes[i + 6]!]! ^ t[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function makeCrcTables(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n]! >>> 8) ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  return t;
}

// ---------------------------------------------------------------------------
// Restricted unpickler (pickletools.py documents every opcode)
// ---------------------------------------------------------------------------

/** Storage types (the persistent ids torch.save writes) and dtypes (which newer torch may write instead). */
const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  'torch.FloatStorage': 'F32', 'torch.HalfStorage': 'F16', 'torch.BFloat16Storage': 'BF16', 'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64', 'torch.IntStorage': 'I32', 'torch.ShortStorage': 'I16', 'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8', 'torch.BoolStorage': 'BOOL',
  'torch.float32': 'F32', 'torch.float': 'F32', 'torch.float16': 'F16', 'torch.half': 'F16', 'torch.bfloat16': 'BF16',
  'torch.float64': 'F64', 'torch.double': 'F64', 'torch.int64': 'I64', 'torch.long': 'I64', 'torch.int32': 'I32',
  'torch.int': 'I32', 'torch.int16': 'I16', 'torch.short': 'I16', 'torch.int8': 'I8', 'torch.uint8': 'U8', 'torch.bool': 'BOOL',
};

/** The functions a state dict calls, each implemented by `call` below. */
const FUNCTIONS = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_parameter',
]);

/** Opcodes refused by name, for a clearer message; any other unknown byte is refused by number. */
const REFUSED_OPCODES: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x49: 'INT', 0x4c: 'LONG', 0x8b: 'LONG4', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x67: 'GET', 0x70: 'PUT',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x8d: 'BINUNICODE8',
};

class PyTuple { constructor(readonly items: readonly Value[]) {} }
class PyList { readonly items: Value[] = []; }
class PyDict { readonly items = new Map<Key, Value>(); }
/** One of the allowed names: a storage type, a dtype, or a function in FUNCTIONS. */
class PyGlobal { constructor(readonly name: string) {} }
class StorageRef { constructor(readonly dtype: DType, readonly key: string, readonly numel: bigint) {} }
class TensorView { constructor(readonly storage: StorageRef, readonly offset: bigint, readonly size: bigint[], readonly stride: bigint[]) {} }
type Key = string | number | bigint | boolean | null;
type Value = Key | PyTuple | PyList | PyDict | PyGlobal | StorageRef | TensorView;

/** What a value is, for messages: never its contents, which may be large or hostile. */
function describe(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return `the int ${v}`;
  if (typeof v === 'number') return 'a float';
  if (typeof v === 'string') return 'a str';
  if (v instanceof PyGlobal) return v.name;
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyList) return 'a list';
  if (v instanceof PyDict) return 'a dict';
  return v instanceof StorageRef ? 'a storage' : 'a tensor';
}

/** A Python name for a message: plain if it looks like one, quoted otherwise. */
const pythonName = (name: string) => (/^[\w.]{1,200}$/.test(name) ? name : JSON.stringify(name.slice(0, 200)));

/** The value a pickle leaves at STOP, built from data opcodes and the allowed names only; E_MODEL_FORMAT at the first other thing. */
function unpickle(bytes: Uint8Array, fail: Fail): Value {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  const storages = new Map<string, StorageRef>();
  let pos = 0;
  let at = 0;

  const take = (n: number): number => {
    if (pos + n > bytes.length) throw fail(`cut short inside the opcode at byte ${at}`);
    pos += n;
    return pos - n;
  };
  const text = (length: number): string => {
    const start = take(length);
    try {
      return utf8.decode(bytes.subarray(start, start + length));
    } catch {
      throw fail(`the string at byte ${at} is not UTF-8`);
    }
  };
  const line = (): string => {
    const newline = bytes.indexOf(0x0a, pos);
    if (newline < 0) throw fail(`cut short inside the opcode at byte ${at}`);
    return text(newline - pos + 1).slice(0, -1);
  };
  // Like Python's unpickler, nothing below the newest MARK may be popped but by the opcode that ends it.
  const fence = () => marks[marks.length - 1] ?? 0;
  const pop = (): Value => {
    if (stack.length <= fence()) throw fail(`the opcode at byte ${at} finds the stack empty`);
    return stack.pop()!;
  };
  const popN = (n: number): Value[] => {
    if (stack.length - n < fence()) throw fail(`the opcode at byte ${at} finds too few values on the stack`);
    return stack.splice(stack.length - n);
  };
  const popMark = (): Value[] => {
    const mark = marks.pop();
    if (mark === undefined) throw fail(`the opcode at byte ${at} needs a MARK`);
    return stack.splice(mark);
  };
  const top = (): Value => {
    if (stack.length <= fence()) throw fail(`the opcode at byte ${at} finds the stack empty`);
    return stack[stack.length - 1]!;
  };
  const topOf = <T>(type: new (...args: never[]) => T, what: string): T => {
    const v = top();
    if (!(v instanceof type)) throw fail(`the opcode at byte ${at} adds to ${describe(v)}, not ${what}`);
    return v;
  };
  const key = (v: Value): Key => {
    if (typeof v === 'object' && v !== null) throw fail(`dict key ${describe(v)} at byte ${at} is not allowed`);
    return v;
  };
  const setItems = (dict: PyDict, items: Value[]) => {
    if (items.length % 2) throw fail(`SETITEMS at byte ${at} has an odd number of values`);
    for (let i = 0; i < items.length; i += 2) dict.items.set(key(items[i]!), items[i + 1]!);
  };
  const global = (module: Value, name: Value): PyGlobal => {
    if (typeof module !== 'string' || typeof name !== 'string') throw fail(`STACK_GLOBAL at byte ${at} names ${describe(module)}.${describe(name)}`);
    const full = `${module}.${name}`;
    if (!FUNCTIONS.has(full) && !Object.hasOwn(STORAGE_DTYPES, full)) {
      throw fail(`global ${pythonName(full)} is not allowed in a state dict (hibiki reads tensors and never runs code from a checkpoint)`);
    }
    return new PyGlobal(full);
  };
  const memoGet = (index: number) => {
    if (!memo.has(index)) throw fail(`the opcode at byte ${at} reads memo ${index}, which was never stored`);
    return memo.get(index)!;
  };

  /** A non-negative integer argument as a bigint. */
  const count = (v: Value | undefined, what: string): bigint => {
    if ((typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n)) return BigInt(v);
    throw fail(`${what} is ${v === undefined ? 'missing' : describe(v)}, expected a non-negative integer (opcode at byte ${at})`);
  };
  const counts = (v: Value | undefined, what: string): bigint[] => {
    if (!(v instanceof PyTuple)) throw fail(`${what} is ${v === undefined ? 'missing' : describe(v)}, expected a tuple (opcode at byte ${at})`);
    return v.items.map((item, i) => count(item, `${what}[${i}]`));
  };

  const call = (callable: Value, args: Value): Value => {
    if (!(callable instanceof PyGlobal) || !FUNCTIONS.has(callable.name)) throw fail(`REDUCE at byte ${at} calls ${describe(callable)}, which is not a function a state dict calls`);
    if (!(args instanceof PyTuple)) throw fail(`REDUCE at byte ${at} calls ${callable.name} with ${describe(args)}, not a tuple`);
    const a = args.items;
    const arity = (...allowed: number[]) => {
      if (!allowed.includes(a.length)) throw fail(`${callable.name} at byte ${at} takes ${allowed.join(' or ')} arguments, given ${a.length}`);
    };
    switch (callable.name) {
      case 'collections.OrderedDict':
        arity(0);
        return new PyDict();
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2': {
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
        if (callable.name.endsWith('_v2')) arity(6, 7);
        else arity(4);
        if (!(a[0] instanceof StorageRef)) throw fail(`${callable.name} at byte ${at} rebuilds a tensor from ${describe(a[0]!)}, not a storage`);
        return new TensorView(a[0], count(a[1], 'storage offset'), counts(a[2], 'size'), counts(a[3], 'stride'));
      }
      default: // torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)
        arity(3);
        if (!(a[0] instanceof TensorView)) throw fail(`${callable.name} at byte ${at} wraps ${describe(a[0]!)}, not a tensor`);
        return a[0];
    }
  };

  // ('storage', storage type or dtype, key, location, numel): a storage; the same key always the same one.
  const persistent = (pid: Value): StorageRef => {
    const [kind, type, key, location, numel] = pid instanceof PyTuple ? pid.items : [];
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || kind !== 'storage' || typeof key !== 'string' || typeof location !== 'string') {
      throw fail(`persistent id at byte ${at} is not ('storage', type, key, location, numel)`);
    }
    if (!(type instanceof PyGlobal) || !Object.hasOwn(STORAGE_DTYPES, type.name)) throw fail(`storage "${key}" has type ${describe(type!)}, not a storage type`);
    const storage = new StorageRef(STORAGE_DTYPES[type.name]!, key, count(numel, `storage "${key}" numel`));
    const seen = storages.get(key);
    if (!seen) storages.set(key, storage);
    else if (seen.dtype !== storage.dtype || seen.numel !== storage.numel) {
      throw fail(`storage "${key}" is ${seen.dtype} × ${seen.numel} and also ${storage.dtype} × ${storage.numel}`);
    }
    return seen ?? storage;
  };

  for (;;) {
    at = pos;
    if (pos >= bytes.length) throw fail('ends without STOP: cut short');
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const protocol = bytes[take(1)]!;
        if (protocol < 2 || protocol > 5) throw fail(`pickle protocol ${protocol}; expected 2 to 5`);
        break;
      }
      case 0x95: take(8); break; // FRAME: a length hint
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length > 0) throw fail(`STOP at byte ${at} leaves ${stack.length} values and ${marks.length} marks; expected one value`);
        return stack[0]!;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push(new PyList()); break; // EMPTY_LIST
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: case 0x86: case 0x87: stack.push(new PyTuple(popN(op - 0x84))); break; // TUPLE1, TUPLE2, TUPLE3
      case 0x6c: { // LIST
        const list = new PyList();
        list.items.push(...popMark());
        stack.push(list);
        break;
      }
      case 0x64: { // DICT
        const dict = new PyDict();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        topOf(PyList, 'a list').items.push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        topOf(PyList, 'a list').items.push(...items);
        break;
      }
      case 0x73: { // SETITEM
        const [k, v] = popN(2);
        topOf(PyDict, 'a dict').items.set(key(k!), v!);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(topOf(PyDict, 'a dict'), items);
        break;
      }
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(bytes[take(1)]!); break; // BININT1
      case 0x4d: stack.push(view.getUint16(take(2), true)); break; // BININT2
      case 0x4a: stack.push(view.getInt32(take(4), true)); break; // BININT
      case 0x8a: { // LONG1: little-endian two's complement, at most 255 bytes
        const n = bytes[take(1)]!;
        const start = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i]!);
        if (n > 0 && bytes[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(view.getFloat64(take(8), false)); break; // BINFLOAT, big-endian
      case 0x58: stack.push(text(view.getUint32(take(4), true))); break; // BINUNICODE
      case 0x8c: stack.push(text(bytes[take(1)]!)); break; // SHORT_BINUNICODE
      case 0x71: memo.set(bytes[take(1)]!, top()); break; // BINPUT
      case 0x72: memo.set(view.getUint32(take(4), true), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memoGet(bytes[take(1)]!)); break; // BINGET
      case 0x6a: stack.push(memoGet(view.getUint32(take(4), true))); break; // LONG_BINGET
      case 0x63: { // GLOBAL: "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const [module, name] = popN(2);
        stack.push(global(module!, name!));
        break;
      }
      case 0x52: { // REDUCE
        const [callable, args] = popN(2);
        stack.push(call(callable!, args!));
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's attributes (a state dict's _metadata), which are dropped
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict) || !(state instanceof PyDict || state === null)) {
          throw fail(`BUILD at byte ${at} sets ${describe(state)} on ${describe(target)}; only a dict's attributes may be set`);
        }
        break;
      }
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      default:
        throw fail(`opcode ${REFUSED_OPCODES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} at byte ${at} is not allowed in a state dict`);
    }
  }
}
